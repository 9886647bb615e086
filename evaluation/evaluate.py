"""`vocalmine evaluate`: score reference systems and trained models on the eval set.

One Dask task per clip (LocalCluster by default, or an existing scheduler):
the task decodes the clip, builds every system's estimates (mixture, oracle
IRM, each model set) and scores them with BSS Eval against the same
references. Outputs in catalog.evaluation: scores.parquet (SCORES_SCHEMA),
excluded.parquet, tables.md, boxplot_*.png, summary.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from vocalmine.model.device import resolve_device
from vocalmine.model.loading import available_model_sets, model_dirs
from vocalmine.model.mask_options import MaskOptions
from vocalmine.core.atomic import write_text_atomic
from vocalmine.core.catalog import DataCatalog, EvalSet
from vocalmine.core.errors import CatalogError, ConfigError, NothingUsableError
from vocalmine.core.paths import resolve_under
from vocalmine.core.progress import progress
from vocalmine.core.tables import write_table
from vocalmine.evaluation.bss import BACKENDS
from vocalmine.evaluation.clips import RATES, SUFFIX_MODEL_RATE, ClipJob, score_clip
from vocalmine.core.contract.scores import (
    EXCLUDED_FILE,
    EXCLUDED_SCHEMA,
    SCORES_FILE,
    SCORES_SCHEMA,
    SUMMARY_FILE,
    SYSTEM_MIXTURE,
    SYSTEM_ORACLE,
    TABLES_FILE,
)
from vocalmine.evaluation.tables import box_plots, global_table, markdown, native_table, nsdr_stats, tables_markdown
from vocalmine.core.contract.models import BEST_CHECKPOINT
from vocalmine.core.dask_client import dask_client

log = logging.getLogger(__name__)

EVAL_COLUMNS = ("song", "mixture", "vocals", "accompaniment")
ENGINES = ("dask", "serial")


@dataclass(frozen=True)
class EvaluateConfig:
    """Options of :func:`evaluate`."""

    backend: str = "fast"  # BSS Eval implementation: "fast" (exact, factorised once per clip) or "mir_eval"
    engine: str = "dask"  # "dask" (one task per clip) or "serial" (this process, for debugging)
    n_workers: int = 2  # LocalCluster worker processes (one thread each) when no scheduler is given
    silence_db: float = -60.0  # clips whose reference vocals are below this energy vs the mixture are excluded
    oracle: bool = True  # also score the oracle ideal ratio mask
    device: str = "cpu"  # torch device for the models inside workers
    batch_size: int = 8  # windows per forward pass
    title: str = "vocalmine evaluation"  # heading of tables.md
    rate: str = "model"  # "model": mono at 8192 Hz (the paper's); "native": the files' own rate and channels
    masks: MaskOptions = MaskOptions()  # how the models' masks are applied (vocalmine/model/mask_options.py)

    def __post_init__(self):
        if self.rate not in RATES:
            raise ConfigError(f"evaluate sample rate must be one of {RATES}, got {self.rate!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"evaluate backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.engine not in ENGINES:
            raise ConfigError(f"evaluate engine must be one of {ENGINES}, got {self.engine!r}")
        if self.n_workers < 1:
            raise ConfigError(f"n_workers must be >= 1, got {self.n_workers}")


@dataclass(frozen=True)
class EvaluationSummary:
    """What :func:`evaluate` did."""

    clips: int  # rows of eval.csv
    scored: int  # clips scored
    excluded: dict[str, int]  # exclusion reason -> clips
    systems: list[str]  # columns of the tables, in order
    gnsdr: dict[str, dict[str, float]]  # system -> source -> GNSDR (dB)
    seconds: float  # wall time
    out_dir: Path  # catalog.evaluation
    table: str = field(repr=False, default="")  # terminal table (Markdown)
    notes: list[str] = field(default_factory=list)  # what the user should know (e.g. no trained models found)


def read_eval_set(eval_set: EvalSet) -> pd.DataFrame:
    """eval.csv with mixture/vocals/accompaniment resolved to absolute paths under audio_root.

    Raises:
        CatalogError: missing file or column, duplicate song, or a path escaping audio_root.
    """
    if not eval_set.path.is_file():
        raise CatalogError(f"{eval_set.path}: evaluation set not found "
                           "(run `vocalmine demo-data` or fix eval_set.path)")
    if not Path(eval_set.audio_root).is_dir():
        raise CatalogError(f"eval_set.audio_root: {Path(eval_set.audio_root).resolve()} does not exist (fix audio_root "
                           f"in the catalog)")
    df = pd.read_csv(eval_set.path, dtype=str, keep_default_na=False)
    missing = [c for c in EVAL_COLUMNS if c not in df.columns]
    if missing:
        raise CatalogError(f"{eval_set.path}: missing column(s) {missing}; expected {list(EVAL_COLUMNS)}")
    dup = df["song"][df["song"].duplicated()].tolist()
    if dup:
        raise CatalogError(f"{eval_set.path}: duplicate song id(s) {dup[:5]}")
    for col in ("mixture", "vocals", "accompaniment"):
        df[col] = [resolve_under(eval_set.audio_root, rel) for rel in df[col]]
    return df


def resolve_model_sets(models_dir: Path, names: Sequence[str] | None) -> list[tuple[str, str, str]]:
    """(name, vocals best.pt, instrumental best.pt or "") per model set.

    ``None`` takes every complete set under ``models_dir`` (unet, baseline, ...).
    A named set may hold the vocal model alone: its instrumental is then the
    complement of the vocal mask, as `separate` gives with one model.

    Raises:
        ConfigError: when a named set lacks its vocal checkpoint.
    """
    if names is not None and len(names) == 0:
        return []  # reference systems only: no need to import torch
    chosen = list(names) if names is not None else available_model_sets(models_dir)
    out = []
    for name in chosen:
        if name in (SYSTEM_MIXTURE, SYSTEM_ORACLE):
            raise ConfigError(f"model set name {name!r} is reserved for a reference system")
        vocals, instrumental = (d / BEST_CHECKPOINT for d in model_dirs(models_dir, name))
        if not vocals.is_file():
            raise ConfigError(f"{vocals}: checkpoint of model set {name!r} not found (train it first)")
        if not instrumental.is_file():
            log.info("model set %s: no %s, its instrumental is the complement of the vocal mask", name, instrumental)
            instrumental = ""
        out.append((name, str(vocals), str(instrumental)))
    return out


def _one_blas_thread():
    """One BLAS thread for the LU solves: on 2 busy cores, more threads ran 10x slower.

    Dask workers get the same from the nanny's OMP/OPENBLAS_NUM_THREADS=1.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional (a scikit-learn dependency): keep the BLAS default
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_jobs(jobs: list[ClipJob], *, engine: str = "dask", scheduler: str | None = None,
             n_workers: int = 2) -> list[dict]:
    """Run :func:`score_clip` on every job, in this process or one Dask task per clip."""
    if engine == "serial" or not jobs:
        with _one_blas_thread():
            return [score_clip(job) for job in progress(jobs, desc="evaluate", unit="clip")]
    from dask.distributed import as_completed

    with dask_client(scheduler=scheduler, workers=n_workers, tasks=len(jobs), stage="evaluate") as client:
        futures = client.map(score_clip, jobs, pure=False)
        results = []
        for future in progress(as_completed(futures), total=len(futures), desc="evaluate", unit="clip"):
            results.append(future.result())
            future.release()
    order = {job.song: k for k, job in enumerate(jobs)}
    return sorted(results, key=lambda r: order[r["song"]])


def evaluate(
    *,
    catalog: DataCatalog,
    models: Sequence[str] | None = None,
    scheduler: str | None = None,
    config: EvaluateConfig = EvaluateConfig(),
    songs: Sequence[str] | None = None,
) -> EvaluationSummary:
    """Score mixture, oracle IRM and each model set on the evaluation set.

    Args:
        catalog: the data catalog (eval_set in, models, evaluation out).
        models: model set names ("unet", "baseline", ...); None = every complete
            set under catalog.models; [] = reference systems only.
        scheduler: address of a running Dask scheduler; None starts a LocalCluster.
        config: see :class:`EvaluateConfig`.
        songs: evaluate only these songs (None = all).

    Raises:
        NothingUsableError: when every clip is excluded.
    """
    t0 = time.perf_counter()
    clips = read_eval_set(catalog.eval_set)
    if songs is not None:
        clips = clips[clips["song"].isin(list(songs))]
    model_sets = resolve_model_sets(catalog.models, models)
    notes = []
    if model_sets:
        resolve_device(config.device)  # an unavailable device is one line here, not a failure in every worker
    elif models is None:
        notes.append(f"no trained models under {catalog.models}: scored the reference systems only (train first)")
        log.warning(notes[-1])
    names = [m[0] for m in model_sets]
    if config.rate == "native":
        names = [n for m in names for n in (m, m + SUFFIX_MODEL_RATE)]
    systems = (SYSTEM_MIXTURE,) + ((SYSTEM_ORACLE,) if config.oracle else ()) + tuple(names)
    jobs = [
        ClipJob(
            song=row.song,
            mixture=row.mixture,
            vocals=row.vocals,
            accompaniment=row.accompaniment,
            systems=systems,
            model_sets=tuple(model_sets),
            backend=config.backend,
            silence_db=config.silence_db,
            device=config.device,
            batch_size=config.batch_size,
            rate=config.rate,
            masks=config.masks,
        )
        for row in clips.itertuples(index=False)
    ]
    log.info("evaluating %d clips x %d systems (%s)", len(jobs), len(systems), ", ".join(systems))
    results = run_jobs(jobs, engine=config.engine, scheduler=scheduler, n_workers=config.n_workers)
    scores = pd.DataFrame([row for r in results for row in r["rows"]], columns=SCORES_SCHEMA.names)
    excluded = pd.DataFrame([r["excluded"] for r in results if r["excluded"]], columns=EXCLUDED_SCHEMA.names)
    out = catalog.evaluation
    settings = {**asdict(config), "model_sets": [m[0] for m in model_sets]}  # recorded in the artifacts
    write_table(excluded, out / EXCLUDED_FILE, EXCLUDED_SCHEMA, stage="evaluate", settings=settings)
    if scores.empty:
        raise NothingUsableError(
            f"{catalog.eval_set.path}: all {len(jobs)} clips were excluded "
            f"({excluded['reason'].value_counts().to_dict()})"
        )
    write_table(scores, out / SCORES_FILE, SCORES_SCHEMA, stage="evaluate", settings=settings)
    write_text_atomic(out / TABLES_FILE, tables_markdown(scores, title=config.title, excluded=excluded))
    box_plots(scores, out)
    gt = global_table(scores)
    gnsdr = {s: dict(zip(g["source"].str.lower(), g["GNSDR"])) for s, g in gt.groupby("system", sort=False)}
    summary = EvaluationSummary(
        clips=len(jobs),
        scored=int(scores["song"].nunique()),
        excluded={str(k): int(v) for k, v in excluded["reason"].value_counts().items()},
        systems=list(systems),
        gnsdr=gnsdr,
        seconds=time.perf_counter() - t0,
        out_dir=out,
        table=terminal_table(scores, excluded),
        notes=notes,
    )
    record = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(summary).items() if k != "table"}
    record["config"] = asdict(config)
    write_text_atomic(out / SUMMARY_FILE, json.dumps(record, indent=2) + "\n")
    log.info("evaluated %d clips in %.1f s", summary.scored, summary.seconds)
    return summary


def terminal_table(scores: pd.DataFrame, excluded: pd.DataFrame) -> str:
    """The table `vocalmine evaluate` prints: global metrics and NSDR statistics."""
    note = f"{scores['song'].nunique()} clips scored, {len(excluded)} excluded"
    if len(excluded):
        note += " (" + ", ".join(f"{r}: {c}" for r, c in excluded["reason"].value_counts().items()) + ")"
    stats = nsdr_stats(scores).drop(columns=["clips"])
    parts = [note, "", markdown(global_table(scores)), "", "NSDR (dB)", markdown(stats)]
    if scores["snr_high"].notna().any():
        parts += ["",
                  "At the files' own rate and channels (duration-weighted means, dB; SNR>5k: plain SNR above 5 kHz)",
                  markdown(native_table(scores))]
    return "\n".join(parts)
