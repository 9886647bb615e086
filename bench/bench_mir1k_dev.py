"""Benchmark: training recipes compared on the MIR-1K dev split at an equal number of steps.

Reads the shards and corpus that bench/bench_mir1k.py built in its work folder
(the test clips are never touched). For each variant, trains a vocal U-Net
for --steps steps (Adam 1e-3 with cosine decay over the steps, batch 16, one
torch thread unless --threads), then scores best.pt on the validation pairs'
true MIR-1K stems with the fast exact BSS Eval: vocal NSDR (SDR gain over the
mixture, length-weighted) with the model's own mask m and with it softened to
m^p / (m^p + (1 - m)^p) for each --powers p. A variant is NAME=JSON of
TrainConfig overrides; runs resume from WORK/dev/NAME.

    .venv/bin/python bench/bench_mir1k_dev.py --work /tmp/mir1k/h60 --steps 600 \
        --variant 'base={"remix_wrap": false}' --variant 'wrap={}' --variant 'pitch3={"remix_pitch_semitones": 3}' \
        --variant 'lr2e-3={"lr": 0.002}'

--oracle adds the ceiling of the paper's target: its oracle mask against the
ideal ratio mask on every second train/dev clip. --score CHECKPOINT scores a
trained vocal model instead, through the model's own STFT window (the paper's
resynthesis, as the variants are scored) and through windows of two hops (as
`vocalmine separate` applies its masks):

    .venv/bin/python bench/bench_mir1k_dev.py --work /tmp/mir1k/h60 --score /tmp/mir1k/h60/work/models/vocals/best.pt \
        --powers 0.75,0.6,0.5,0.4

Two variants can run side by side (two processes with --threads 1), which is
how the README's table was measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

HERE = Path(__file__).resolve().parent
MIR1K = HERE.parents[1] / "shared" / "data" / "mir1k"


def dev_clips(work: Path) -> list[tuple[str, str]]:
    """(clip, MIR-1K split folder) of the bench's validation pairs."""
    index = pd.read_parquet(work / "work" / "shards" / "index.parquet")
    pairs = pd.read_parquet(work / "work" / "pairs.parquet")
    truth = pd.read_csv(work / "corpus" / "truth.csv").set_index("original_id")
    held = pairs[pairs["pair_id"].isin(set(index.loc[index["split"] == "validation", "pair_id"]))]
    clips = pd.read_csv(MIR1K / "clips.csv").set_index("clip")
    return [(c, clips.loc[c, "split"]) for c in truth.loc[held["original_id"], "clip"]]


def train_variant(work: Path, name: str, overrides: dict, *, steps: int, threads: int) -> Path:
    """Train (or resume) one variant; its best.pt."""
    from vocalmine.core.contract.models import BEST_CHECKPOINT
    from vocalmine.model.config import TrainConfig
    from vocalmine.model.train import LAST, train_run

    run_dir = work / "dev" / name
    config = TrainConfig(**{**dict(batch_size=16, seed=0, workers=1, lr=1e-3, schedule="cosine", epoch_patches=400,
                                   patience=1000, checkpoint_every=50, log_every=10, threads=threads, epochs=10_000,
                                   steps=steps), **overrides})
    train_run(shards=work / "work" / "shards", run_dir=run_dir, target="vocals", config=config, device="cpu",
              resume=(run_dir / LAST).is_file())
    return run_dir / BEST_CHECKPOINT


def dev_nsdr(checkpoint: Path, clips: list[tuple[str, str]], powers: list[float],
             syntheses: tuple[str, ...] = ("paper",)) -> dict[str, float]:
    """Length-weighted vocal NSDR on the dev clips: own mask and each softened one, for each synthesis.

    "paper": the masks through the model's own STFT (1024 / 768), as the README's dev table was measured;
    "overlap": through windows of two hops (1536 / 768), as `vocalmine separate` applies them (keys "... overlap").
    """
    import torch

    from vocalmine.core.constants import N_BINS
    from vocalmine.core.stft import istft, stft
    from vocalmine.evaluation.bss import BssEvalV3
    from vocalmine.model.checkpoint import build_model, load_checkpoint
    from vocalmine.model.fullband import MaskOptions, apply_native, combine_masks
    from vocalmine.model.windowing import track_masks

    model = build_model(load_checkpoint(checkpoint)).eval()

    def mask_fn(windows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(np.ascontiguousarray(windows)).unsqueeze(1))[:, 0].float().numpy()[None]

    rows: dict[str, list[tuple[float, int]]] = {}
    for clip, split in clips:
        data, _ = sf.read(MIR1K / split / f"{clip}.flac", dtype="float32", always_2d=True)
        acc, voc = data[:, 0].astype(np.float64), data[:, 1].astype(np.float64)
        mix, n = acc + voc, data.shape[0]
        spec = stft(mix.astype(np.float32))[:N_BINS]
        mask = track_masks(mix.astype(np.float32), mask_fn, n_sources=1)[0]
        bss = BssEvalV3(np.stack([voc, acc]))
        mix_sdr, _, _ = bss.score(np.stack([mix, mix]))
        for p in [1.0] + powers:
            m = combine_masks(np.stack([mask, 1.0 - mask]), MaskOptions(mode="ratio", power=p))
            for synthesis in syntheses:
                if synthesis == "paper":
                    est = np.stack([istft(m[0] * spec, n), istft(m[1] * spec, n)])
                else:
                    est = apply_native(mix.astype(np.float32)[None], m, sample_rate=8192,
                                       extension=MaskOptions().extension,
                                       complementary=True)[:, 0]
                sdr, _, _ = bss.score(est.astype(np.float64))
                key = ("own" if p == 1.0 else f"p={p:g}") + ("" if synthesis == "paper" else " overlap")
                rows.setdefault(key, []).append((sdr[0] - mix_sdr[0], n))
    return {k: float(np.average([r[0] for r in v], weights=[r[1] for r in v])) for k, v in rows.items()}


def oracle_ceilings(every: int = 2) -> dict[str, float]:
    """Vocal NSDR of oracle masks on every ``every``-th MIR-1K train/dev clip: the paper's target as a mask,
    max(|X| - |A|, 0) / |X|, against the ideal ratio mask |V| / (|V| + |A|). Shows whether the target caps the model."""
    from vocalmine.core.stft import istft, stft
    from vocalmine.evaluation.bss import BssEvalV3

    clips = pd.read_csv(MIR1K / "clips.csv")
    clips = clips[clips["split"].isin(["train", "dev"])].sort_values("clip").iloc[::every]
    rows: dict[str, list[tuple[float, int]]] = {}
    for clip, split in zip(clips["clip"], clips["split"]):
        data, _ = sf.read(MIR1K / split / f"{clip}.flac", dtype="float32", always_2d=True)
        acc, voc = data[:, 0].astype(np.float64), data[:, 1].astype(np.float64)
        mix, n = acc + voc, data.shape[0]
        x, a, v = (stft(y.astype(np.float32)) for y in (mix, acc, voc))
        target = np.maximum(np.abs(x) - np.abs(a), 0)
        masks = {"half-wave-rectified target": target / np.maximum(np.abs(x), 1e-12),
                 "ideal ratio mask": np.abs(v) / np.maximum(np.abs(v) + np.abs(a), 1e-12)}
        bss = BssEvalV3(np.stack([voc, acc]))
        mix_sdr, _, _ = bss.score(np.stack([mix, mix]))
        for name, m in masks.items():
            sdr, _, _ = bss.score(np.stack([istft(m * x, n), istft((1 - m) * x, n)]).astype(np.float64))
            rows.setdefault(name, []).append((sdr[0] - mix_sdr[0], n))
    return {k: float(np.average([r[0] for r in v], weights=[r[1] for r in v])) for k, v in rows.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="a bench_mir1k.py work folder (corpus, shards)")
    parser.add_argument("--variant", action="append", default=[], help='NAME=JSON of TrainConfig overrides (repeatable)')
    parser.add_argument("--steps", type=int, default=600, help="optimizer steps per variant")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--powers", default="0.5", help="comma list of softening powers p to score besides the own mask")
    parser.add_argument("--oracle", action="store_true", help="also score oracle masks of the target on train/dev clips")
    parser.add_argument("--score", type=Path, default=None, metavar="CHECKPOINT",
                        help="score this vocal checkpoint on the dev clips through both synthesis windows, train nothing")
    parser.add_argument("--json", type=Path, default=None, help="write the results here too")
    args = parser.parse_args()
    if not (MIR1K / "clips.csv").is_file():
        print(f"skipped: MIR-1K not found at {MIR1K}")
        return 0
    if not (args.work / "work" / "shards" / "index.parquet").is_file():
        print(f"{args.work}: no shards; run bench/bench_mir1k.py --work {args.work} first")
        return 1
    import torch

    torch.set_num_threads(args.threads)
    powers = [float(p) for p in args.powers.split(",") if p.strip()]
    clips = dev_clips(args.work)
    results = {}
    if args.score:
        results["score"] = dev_nsdr(args.score, clips, powers, syntheses=("paper", "overlap"))
        print(f"{args.score}: " + ", ".join(f"{k} {v:.2f} dB" for k, v in results["score"].items())
              + f" ({len(clips)} dev clips)")
    for spec in args.variant or ([] if args.oracle or args.score else ["default={}"]):
        name, _, text = spec.partition("=")
        best = train_variant(args.work, name, json.loads(text or "{}"), steps=args.steps, threads=args.threads)
        results[name] = dev_nsdr(best, clips, powers)
        print(f"{name}: " + ", ".join(f"{k} {v:.2f} dB" for k, v in results[name].items()) + f" ({len(clips)} dev clips)",
              flush=True)
    if args.oracle:
        results["oracle"] = oracle_ceilings()
        print("oracle masks, every 2nd train/dev clip: " + ", ".join(f"{k} {v:.2f} dB" for k, v in results["oracle"].items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
