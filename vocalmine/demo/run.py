"""The whole job end to end, as `vocalmine demo` runs it.

Each step calls the same library function as its own command, so any step
can be re-run alone. Finished steps are reused: the corpus and the mined
pairs when their files are newer than their inputs, the shards and the
models through their stages' own resume, the evaluation when its scores are
newer than every model.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from vocalmine.core.atomic import write_text_atomic
from vocalmine.core.catalog import DataCatalog, catalog_for_corpus, load_catalog
from vocalmine.core.contract.models import LAST_CHECKPOINT
from vocalmine.core.contract.scores import SCORES_FILE, TABLES_FILE
from vocalmine.core.paths import resolve_under
from vocalmine.demo.corpus import generate_corpus
from vocalmine.demo.options import SEPARATED_EXAMPLES, DemoOptions
from vocalmine.evaluation.evaluate import EvaluateConfig, evaluate
from vocalmine.features.build import build
from vocalmine.mining.mine import mine
from vocalmine.model.config import TrainConfig
from vocalmine.model.inference import separate_files
from vocalmine.model.train import run_name, train
from vocalmine.report.report import build_report

log = logging.getLogger(__name__)

@dataclass
class DemoSummary:
    """What the demo did, step by step, and where its outputs are."""

    catalog: DataCatalog
    steps: list[tuple[str, str, float]] = field(default_factory=list)  # (step, outcome, seconds)
    evaluation_table: str = ""
    separated: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def ensure_catalog_file(path: Path) -> Path:
    """Write a data_catalog.yaml for the demo corpus beside ``path`` when it does not exist."""
    path = Path(path)
    if not path.exists():
        text = catalog_for_corpus(path.resolve(), path.resolve().parent / "data" / "demo",
                                  path.resolve().parent / "data" / "work")
        write_text_atomic(path, text)
        log.info("wrote %s for the demo corpus", path)
    return path


def _newer(output: Path, *inputs: Path) -> bool:
    """True when ``output`` exists and is at least as new as every existing input."""
    if not output.exists():
        return False
    mtime = output.stat().st_mtime
    return all(not i.exists() or i.stat().st_mtime <= mtime for i in inputs)


def run_demo(*, catalog_path: Path, options: DemoOptions = DemoOptions(),
             echo: Callable[[str], None] = print) -> DemoSummary:
    """Generate the demo corpus (if absent) and run every stage on it.

    Args:
        catalog_path: the data catalog; created for ./data/demo when missing.
        options: see :class:`DemoOptions`.
        echo: where one line per finished step goes.
    """

    started = time.perf_counter()
    catalog = load_catalog(ensure_catalog_file(catalog_path))
    summary = DemoSummary(catalog=catalog)

    def step(name: str, outcome: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        text = outcome()
        seconds = time.perf_counter() - t0
        summary.steps.append((name, text, seconds))
        echo(f"[{name:>9}] {text} ({seconds:.1f} s)")

    def corpus() -> str:
        if catalog.tracks.path.is_file() and catalog.eval_set.path.is_file():
            return f"reused {catalog.tracks.path.parent}"
        made = generate_corpus(
            catalog.tracks.path.parent, songs=options.songs,
            eval_songs=options.eval_songs,
            seed=options.seed,
            song_seconds=options.song_seconds,
        )
        return f"generated {made.tracks} tracks, {made.eval_songs} evaluation songs in {catalog.tracks.path.parent}"

    def mining() -> str:
        if _newer(catalog.pairs, catalog.tracks.path) and _newer(catalog.rejects, catalog.tracks.path):
            return f"reused {catalog.pairs}"
        made = mine(catalog=catalog, scheduler=options.scheduler)
        return f"{made.rows_read} rows -> {made.candidates} candidates -> {made.pairs} pairs"

    def features() -> str:
        made = build(catalog=catalog, scheduler=options.scheduler)
        return (f"{made.kept}/{made.pairs} pairs kept, {made.patches} patches in {made.shards} shards "
                f"({made.groups_skipped} reused)")

    def report() -> str:
        made = build_report(catalog=catalog)
        return f"{made.path} ({made.size_bytes / 1e6:.1f} MB)"

    def training(target: str, skips: bool) -> Callable[[], str]:
        def run() -> str:
            config = TrainConfig(
                steps=options.steps, batch_size=options.batch_size, lr=options.lr, seed=options.seed, skips=skips
            )
            resume = (catalog.models / run_name(target, skips) / LAST_CHECKPOINT).is_file()
            made = train(catalog=catalog, target=target, config=config, device=options.device, resume=resume)
            return (
                f"{run_name(target, skips)}: {made.steps} steps, val L1 {made.best_val_loss:.4f} "
                f"(identity mask {made.identity_val_loss:.4f})"
            )

        return run

    def evaluation() -> str:
        best = list(catalog.models.glob("*/best.pt"))
        scores = catalog.evaluation / SCORES_FILE
        if _newer(scores, catalog.eval_set.path, *best) and (catalog.evaluation / TABLES_FILE).is_file():
            summary.evaluation_table = (catalog.evaluation / TABLES_FILE).read_text(encoding="utf-8")
            return f"reused {scores}"
        made = evaluate(catalog=catalog, models=["unet", "baseline"], scheduler=options.scheduler,
                        config=EvaluateConfig())
        summary.evaluation_table = made.table
        return f"{made.scored} clips scored, {sum(made.excluded.values())} excluded, in {made.out_dir}"

    def separation() -> str:
        songs = pd.read_csv(catalog.eval_set.path).head(SEPARATED_EXAMPLES)
        paths = [resolve_under(catalog.eval_set.audio_root, m) for m in songs["mixture"]]
        device = None if options.device == "auto" else options.device
        # full band at each mixture's own rate and channels (44.1 kHz stereo for the odd-numbered songs)
        made = separate_files(paths=paths, out_dir=catalog.separated, models_dir=catalog.models, device=device,
                              sample_rate=None, overwrite=True)
        summary.separated = [p for f in made for p in (f.vocals, f.instrumental)]
        return f"{len(made)} mixtures -> {catalog.separated}"

    step("corpus", corpus)
    step("mine", mining)
    step("build", features)
    step("report", report)
    for target in ("vocals", "instrumental"):
        for skips in (True, False):
            step("train", training(target, skips))
    step("evaluate", evaluation)
    step("separate", separation)
    summary.seconds = time.perf_counter() - started
    return summary
