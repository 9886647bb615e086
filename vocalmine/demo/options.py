"""What `vocalmine demo` may change, and its defaults (no heavy imports: the CLI reads them for --help)."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_SONGS = 40  # album songs of the generated corpus
DEMO_EVAL_SONGS = 8  # songs of the generated evaluation set
DEMO_STEPS = 250  # optimizer steps per model: about 1.5 min each on 2 idle CPU cores
DEMO_BATCH = 8  # patches per step
DEMO_LR = 1e-3  # higher than the trainer's default: the demo's budget is a few hundred steps
SEPARATED_EXAMPLES = 2  # evaluation mixtures separated into catalog.separated


@dataclass(frozen=True)
class DemoOptions:
    """What `vocalmine demo` may change."""

    songs: int = DEMO_SONGS  # album songs of the generated corpus (when it is generated)
    eval_songs: int = DEMO_EVAL_SONGS  # songs of the generated evaluation set
    song_seconds: tuple[float, float] = (20.0, 32.0)  # length range of generated songs, seconds
    seed: int = 0  # corpus, split and training seed
    steps: int = DEMO_STEPS  # optimizer steps per model
    batch_size: int = DEMO_BATCH  # patches per optimizer step
    lr: float = DEMO_LR  # Adam learning rate
    device: str = "auto"  # training and separation device
    scheduler: str | None = None  # Dask scheduler address for mine, build and evaluate
