"""`vocalmine build`: pairs.parquet -> shards, index, quality and rejects, with Dask.

Pairs are sorted by pair_id and cut into fixed groups of ``pairs_per_shard``;
group k is one Dask task that writes ``shard-k.npy`` and ``parts/group-k.json``
itself (atomically). The driver then assembles index.parquet, quality.parquet
and rejects.parquet from the part records. Groups are a pure function of the
pairs and the config, so a killed run, restarted, skips the finished groups
and ends with an identical index.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vocalmine.core.atomic import remove_stale_temps
from vocalmine.core.catalog import DataCatalog
from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import NothingUsableError, VocalmineError
from vocalmine.core.lock import holding
from vocalmine.core.progress import progress
from vocalmine.core.spec import PAPER, SignalSpec
from vocalmine.core.tables import REJECTS_SCHEMA, read_table, write_table
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.group import process_group
from vocalmine.core.contract.shards import (
    INDEX_FILE, INDEX_SCHEMA, PARTS_FOLDER, QUALITY_FILE, QUALITY_SCHEMA, REJECTS_FILE, SPLITS, TABLE_FILES, shard_path,
)
from vocalmine.features.splits import assign_splits
from vocalmine.features.store import read_finished_group, read_part, remove_surplus, storage_error, surplus
from vocalmine.core.contract.pairs import PAIRS_SCHEMA

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class BuildSummary:
    """What one `build` run did."""

    folder: Path  # the shards folder
    pairs: int  # pairs in pairs.parquet
    kept: int  # pairs that yielded patches
    excluded: dict[str, int]  # reason -> pairs set aside
    patches: int  # patches in the index
    shards: int  # shard files (one per group)
    groups_built: int  # groups computed in this run
    groups_skipped: int  # groups found finished (resume)
    audio_seconds: float  # seconds of aligned original audio behind the kept pairs
    shard_bytes: int  # bytes of all shard files
    seconds: float  # wall-clock time of the run
    splits: dict[str, int] = field(default_factory=dict)  # split -> kept pairs
    spec: SignalSpec = PAPER  # the signal spec the shards are stored at

    @property
    def bytes_per_audio_second(self) -> float:
        return self.shard_bytes / self.audio_seconds if self.audio_seconds else math.nan

    def lines(self) -> list[str]:
        """A terminal summary."""
        excluded = ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items())) or "none"
        splits = ", ".join(f"{s} {self.splits.get(s, 0)}" for s in SPLITS)
        return [
            f"pairs: {self.pairs} ({self.kept} kept; excluded: {excluded})",
            f"patches: {self.patches} in {self.shards} shards "
            f"({self.groups_built} groups built, {self.groups_skipped} resumed)",
            f"splits (kept pairs): {splits}",
            f"spec: {self.spec.describe()}",
            f"audio: {self.audio_seconds / 60:.1f} min, {self.shard_bytes / 1e6:.1f} MB "
            f"({self.bytes_per_audio_second:,.0f} bytes per audio second)",
            f"time: {self.seconds:.1f} s; output: {self.folder}",
        ]


def plan_groups(pairs: pd.DataFrame, pairs_per_shard: int) -> list[list[dict]]:
    """Fixed groups of pair records, in pair_id order (deterministic for the same pairs)."""
    records = pairs.sort_values("pair_id", kind="stable").to_dict("records")
    return [records[i : i + pairs_per_shard] for i in range(0, len(records), pairs_per_shard)]


def remove_tables(folder: Path) -> list[str]:
    """Delete index, quality and rejects tables (each unlink is atomic); the names removed."""
    removed = []
    for name in TABLE_FILES:
        path = folder / name
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise storage_error(exc, path) from exc
        removed.append(name)
    return removed


def _run_groups(todo: list[int], groups: list[list[dict]], *, folder: Path, audio_root: Path, config: FeaturesConfig,
                scheduler: str | None) -> None:
    from dask.distributed import as_completed

    with dask_client(scheduler=scheduler, workers=config.workers, tasks=len(todo), stage="build") as client:
        futures = {
            client.submit(process_group, group=g, pairs=groups[g], folder=str(folder), audio_root=str(audio_root),
                          config=config, pure=False): g
            for g in todo
        }
        bar = progress(total=sum(len(groups[g]) for g in todo), desc="build", unit="pair")
        for future in as_completed(futures):
            try:
                result = future.result()  # re-raises a worker's unexpected error here
            except OSError as exc:  # disk full, read-only folder: one line naming the shard, not a traceback
                raise storage_error(exc, shard_path(folder, futures[future])) from exc
            if result.get("error"):
                raise VocalmineError(result["error"])
            bar.update(len(groups[futures[future]]))
        bar.close()


def _tables(groups: list[list[dict]], folder: Path, pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                  pd.DataFrame]:
    split_of = dict(zip(pairs["pair_id"], pairs["split"]))
    artist_of = dict(zip(pairs["pair_id"], pairs["artist_norm"]))
    index, quality, rejects = [], [], []
    for g in range(len(groups)):
        part = read_part(folder, g)
        index.append(pd.DataFrame(part["patches"]).assign(shard=g))
        quality.append(pd.DataFrame(part["quality"]))
        rejects.append(pd.DataFrame(part["rejects"], columns=REJECTS_SCHEMA.names))
    index_df = pd.concat(index, ignore_index=True) if index else pd.DataFrame(columns=INDEX_SCHEMA.names)
    if len(index_df):
        index_df["split"] = index_df["pair_id"].map(split_of)
    else:
        index_df = pd.DataFrame({name: pd.Series(dtype=object) for name in INDEX_SCHEMA.names})
    quality_df = pd.concat(quality, ignore_index=True)
    quality_df["split"] = quality_df["pair_id"].map(split_of)
    quality_df["artist_norm"] = quality_df["pair_id"].map(artist_of)
    rejects_df = pd.concat(rejects, ignore_index=True)
    return index_df, quality_df, rejects_df


@holding("build", lambda catalog, **_: catalog.shards)
def build(*, catalog: DataCatalog, scheduler: str | None = None,
          config: FeaturesConfig = FeaturesConfig()) -> BuildSummary:
    """Build training shards from ``catalog.pairs`` into ``catalog.shards``.

    Args:
        catalog: the data catalog (reads ``pairs``, writes into ``shards``).
        scheduler: address of a running Dask scheduler; None starts a LocalCluster.
        config: thresholds, shard size, workers and split seed.

    Returns:
        A :class:`BuildSummary`.

    Raises:
        CatalogError: when pairs.parquet is missing or lacks a column.
        NothingUsableError: when no pair yields patches (the tables are still written).
    """
    started = time.perf_counter()
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA, stage="mine")
    if pairs.empty:
        raise NothingUsableError(f"{catalog.pairs}: no pairs to build features from (run `vocalmine mine` first)")
    duplicated = pairs["pair_id"].duplicated()
    if duplicated.any():
        log.warning("%s: %d duplicate pair_id rows ignored", catalog.pairs, int(duplicated.sum()))
        pairs = pairs[~duplicated]
    pairs = pairs.sort_values("pair_id", kind="stable").reset_index(drop=True)
    pairs["split"] = assign_splits(pairs, seed=config.seed, fractions=config.split_fractions).to_numpy()

    folder = catalog.shards
    (folder / PARTS_FOLDER).mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)
    remove_stale_temps(folder / PARTS_FOLDER)
    groups = plan_groups(pairs.drop(columns=["split"]), config.pairs_per_shard)
    fingerprint = config.fingerprint()
    todo = [g for g,
            members in enumerate(groups) if read_finished_group(folder, g, pair_ids=[p["pair_id"] for p in members],
                                                                fingerprint=fingerprint) is None]
    log.info("build: %d pairs in %d groups, %d to build, %d finished", len(pairs), len(groups), len(todo),
             len(groups) - len(todo))
    if todo or surplus(folder, len(groups)):
        # The tables go before any shard changes, so a run that fails midway leaves no index
        # describing shards it rewrote; a re-run resumes from the part records and writes them again.
        removed = remove_tables(folder)
        if removed:
            log.info("build: removed %s before changing shards", ", ".join(removed))
    if todo:
        _run_groups(todo, groups, folder=folder, audio_root=catalog.tracks.audio_root, config=config,
                    scheduler=scheduler)
    remove_surplus(folder, len(groups))

    index_df, quality_df, rejects_df = _tables(groups, folder, pairs)
    # index last: its presence means the other two tables and every shard it names are complete
    for df, name, schema in ((quality_df, QUALITY_FILE, QUALITY_SCHEMA), (rejects_df, REJECTS_FILE, REJECTS_SCHEMA),
                             (index_df, INDEX_FILE, INDEX_SCHEMA)):
        try:
            write_table(df, folder / name, schema, stage="build", settings=config)
        except OSError as exc:
            raise storage_error(exc, folder / name) from exc

    kept = quality_df[quality_df["status"] == "kept"]
    summary = BuildSummary(
        folder=folder,
        pairs=len(pairs),
        kept=len(kept),
        excluded=dict(Counter(quality_df.loc[quality_df["status"] != "kept", "reason"])),
        patches=len(index_df),
        shards=len(groups),
        groups_built=len(todo),
        groups_skipped=len(groups) - len(todo),
        audio_seconds=float(kept["duration_s"].sum()),
        shard_bytes=sum(shard_path(folder, g).stat().st_size for g in range(len(groups))),
        seconds=time.perf_counter() - started,
        splits={s: int((kept["split"] == s).sum()) for s in SPLITS},
        spec=config.spec,
    )
    if summary.patches == 0:
        raise NothingUsableError(
            f"{folder}: no pair yielded patches ({len(pairs)} pairs; excluded: {summary.excluded}); "
            f"see {folder / QUALITY_FILE}"
        )
    return summary
