"""`vocalmine mine`: ingest -> pairing -> decoded-audio check -> pairing -> content dedupe -> pairs, rejects,
unpaired."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vocalmine.core.atomic import atomic_path, remove_stale_temps
from vocalmine.core.catalog import DataCatalog
from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import NothingUsableError, storage_error
from vocalmine.core.lock import holding
from vocalmine.core.paths import relative_under
from vocalmine.core.tables import REJECTS_SCHEMA, artifact_table, parts_folder
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.accounting import check_accounting, reason_counts, remove_parts, settle_unpaired, unpaired_rows
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.fingerprint_cache import SYNC, envelope_loader, fingerprint_paths
from vocalmine.mining.dedupe import dedupe_pairs
from vocalmine.mining.engines import pair_catalog
from vocalmine.mining.fingerprint import group_contents
from vocalmine.mining.matching import sorted_by_ids, split_decisions
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, UNPAIRED_SCHEMA

log = logging.getLogger(__name__)

_STAGE_ORDER = {"ingest": 0, "pairing": 1, "content": 2}
WARN_SHARE = 0.2  # a reason that rejects more than this share of the rows is called out with the option that changes it
# The option or setting that changes how many rows a reason rejects.
HINTS = {
    R.BAD_DURATION: "--missing-duration keep (keeps rows whose duration is empty or n/a, ?, -, --:--), "
                    "or map tracks.columns.audio_path so the decoded duration is used",
    R.DURATION_MISMATCH: "--duration-tolerance (seconds)",
    R.AUDIO_NOT_FOUND: "tracks.audio_root and tracks.columns.audio_path in data_catalog.yaml",
    R.MISSING_AUDIO_PATH: "tracks.columns.audio_path in data_catalog.yaml (leave it out for a metadata-only catalog)",
    R.PATH_ESCAPES_ROOT: "tracks.audio_root in data_catalog.yaml",
    R.DUPLICATE_ID: "tracks.columns.track_id in data_catalog.yaml "
                    "(several columns join with '+', e.g. release_id+position)",
    R.MISSING_ID: "tracks.columns.track_id in data_catalog.yaml",
    R.MISSING_TITLE: "tracks.columns.title in data_catalog.yaml",
    R.MISSING_ARTIST: "tracks.columns.artist in data_catalog.yaml",
    R.UNDECODABLE: "the audio files themselves (re-encode or replace them)",
}


@dataclass(frozen=True)
class MiningSummary:
    """What one mining run read, rejected and kept."""

    rows_read: int  # data rows of the track CSV
    tracks_valid: int  # rows that passed ingest
    instrumentals: int  # valid tracks carrying the instrumental marker
    candidates: int  # (original, instrumental) candidates considered
    pairs_matched: int  # pairs after one-to-one assignment
    pairs: int  # pairs written (after content dedupe)
    rejected: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> reason -> count
    unpaired: dict[str, int] = field(default_factory=dict)  # reason -> valid rows with no partner
    rows_rejected: dict[str, int] = field(default_factory=dict)  # reason -> rows rejected (ingest and content stages)
    files_decoded: int = 0  # audio files decoded this run
    files_cached: int = 0  # fingerprints served from the cache
    engine: str = "pandas"  # matching engine used
    seconds: float = 0.0  # wall time of the run

    def format(self) -> str:
        """The one-screen summary printed by the CLI."""
        lines = [
            f"rows read            {self.rows_read}",
            f"valid tracks         {self.tracks_valid} ({self.instrumentals} instrumentals)",
            f"candidates           {self.candidates}",
            f"pairs matched        {self.pairs_matched} (engine {self.engine})",
            f"pairs written        {self.pairs}",
        ]
        for stage in ("ingest", "pairing", "content"):
            counts = self.rejected.get(stage, {})
            total = sum(counts.values())
            detail = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"rejected ({stage:<7}) {total}" + (f": {detail}" if detail else ""))
        lines.append(f"unpaired rows        {sum(self.unpaired.values())}" + (
            ": " + ", ".join(f"{r} {n}" for r, n in sorted(self.unpaired.items(), key=lambda kv: (-kv[1], kv[0])))
            if self.unpaired else ""))
        top = sorted(self.rows_rejected.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        if top:
            lines.append("top reject reasons   "
                         + ", ".join(f"{r} {n} ({n / max(self.rows_read, 1):.0%} of rows)" for r, n in top))
        for reason, n in top:
            if n > WARN_SHARE * self.rows_read:
                hint = HINTS.get(reason, "the settings of `vocalmine mine --help`")
                lines.append(f"note: {reason} rejects {n} of {self.rows_read} rows ({n / self.rows_read:.0%}); to "
                             f"change that, see {hint}")
        lines.append(f"fingerprints         {self.files_decoded} decoded, {self.files_cached} cached")
        lines.append(f"time                 {self.seconds:.1f} s")
        return "\n".join(lines)


def write_checked(tables: list[tuple[Path, pa.Table]], *, check: Callable[[], None]) -> None:
    """Write Parquet ``tables`` (path, table) while ``check`` runs, and put them under their names once it has
    passed; if it fails, none is written. The encoding (Arrow's, outside the GIL) and the check overlap: about
    3 s of the client's time at 10^7 rows.

    Raises:
        StorageError: a write failed (a full disk): one line naming the file.
    """
    try:
        with contextlib.ExitStack() as temps:  # renamed in place on a clean exit, removed on an exception
            targets = [temps.enter_context(atomic_path(path)) for path, _ in tables]
            with ThreadPoolExecutor(len(tables)) as pool:
                writes = [pool.submit(pq.write_table, table, tmp) for tmp, (_, table) in zip(targets, tables)]
                check()
                for (path, _), write in zip(tables, writes):
                    try:
                        write.result()
                    except OSError as exc:  # a full disk: one line naming the file
                        raise storage_error(exc, path) from exc
    except OSError as exc:  # the fsync or rename of a temp file, which the error names
        raise storage_error(exc, exc.filename or tables[0][0]) from exc


@holding("mine", lambda catalog, **_: catalog.pairs.parent)  # the folder of pairs, rejects and unpaired
def mine(*, catalog: DataCatalog, engine: str = "pandas", scheduler: str | None = None,
         config: MiningConfig = MiningConfig()) -> MiningSummary:
    """Mine (original, instrumental) pairs from the catalog's track CSV.

    Writes catalog.pairs (PAIRS_SCHEMA), catalog.rejects (REJECTS_SCHEMA),
    catalog.unpaired (UNPAIRED_SCHEMA) and the fingerprint cache catalog.fingerprints.
    Every data row ends in exactly one of them (mining/accounting.py; asserted).

    With audio, mining runs in two passes: the first finds every candidate, whose
    files (and those of rows without a usable duration) are then decoded; the second
    pairs again with rows whose decoded audio contradicts the catalog set aside
    (mining/audio_check.py), so that their rivals can pair. Metadata-only catalogs
    (no audio_path column mapped) skip decoding: paths and fingerprints are "".
    pairs.parquet stores audio paths relative to catalog.tracks.audio_root (POSIX).

    Args:
        catalog: the data catalog.
        engine: "pandas" or "dask" (dask.dataframe, partitioned by artist).
        scheduler: dask scheduler address for decoding (and the dask engine);
            None starts a LocalCluster; "sync" decodes in this process.
        config: pairing and dedupe settings.

    Raises:
        CatalogError: the track CSV is unreadable or lacks a mapped column.
        NothingUsableError: no pair remains (outputs are still written).
    """
    start = time.perf_counter()
    for folder in {catalog.pairs.parent, catalog.fingerprints.parent, catalog.unpaired.parent}:
        remove_stale_temps(folder)  # a killed run's half-written tables (never under their final names)

    # dask engine: each artist partition writes its unpaired rows here, so that no process holds every track
    parts = parts_folder(catalog.unpaired) if engine == "dask" else None

    def run_pairing(decoded_durations=None):
        if parts is not None:
            remove_parts(parts)
        if engine == "dask" and scheduler != SYNC:  # a LocalCluster of processes, or the scheduler given
            with dask_client(scheduler=scheduler, workers=config.n_workers, stage="mine") as client:
                return pair_catalog(catalog.tracks, config=config, engine=engine, scheduler=client,
                                    decoded=decoded_durations, unpaired_parts=parts)
        return pair_catalog(catalog.tracks, config=config, engine=engine, scheduler=scheduler,
                            decoded=decoded_durations, unpaired_parts=parts)

    def fingerprints(paths):
        return fingerprint_paths(sorted(paths), cache_path=catalog.fingerprints, seconds=config.fingerprint_seconds,
                                 scheduler=scheduler, n_workers=config.n_workers)

    paired = run_pairing()
    decoded = cached = 0
    summaries = {}
    has_audio = catalog.tracks.columns.audio_path is not None
    if has_audio:
        cand = paired.decisions[paired.decisions["original_id"].notna()]
        paths = (set(cand["original_path"]) | set(cand["instrumental_path"]) | set(paired.undated)) - {"", None}
        if paths:
            summaries, decoded, cached = fingerprints(paths)
            paired = run_pairing({p: (s.duration_s, s.error) for p, s in summaries.items()})
    ingest_rejects, decisions, n_rows = paired.rejects, paired.decisions, paired.n_rows
    pairs, pairing_rejects = split_decisions(decisions)
    n_matched = len(pairs)
    content_rejects = pd.DataFrame(columns=REJECTS_SCHEMA.names)
    if has_audio and len(pairs):
        paths = set(pairs["original_path"]) | set(pairs["instrumental_path"])
        if paths - set(summaries):
            more, d2, c2 = fingerprints(paths - set(summaries))
            summaries, decoded, cached = {**summaries, **more}, decoded + d2, cached + c2
        # From here on paths are as pairs.parquet stores them: relative to the audio root.
        stored = {p: relative_under(catalog.tracks.audio_root, p) for p in paths}
        pairs = pairs.assign(original_path=pairs["original_path"].map(stored),
                             instrumental_path=pairs["instrumental_path"].map(stored))
        summaries = {stored[p]: summaries[p] for p in paths}
        load = envelope_loader(catalog.fingerprints, summaries, seconds=config.fingerprint_seconds)
        canonical, _ = group_contents(summaries, load=load, threshold_db=config.same_content_db)
        pairs, content_rejects = dedupe_pairs(pairs, summaries=summaries, canonical=canonical)
    else:
        pairs = pairs.assign(original_fingerprint="", instrumental_fingerprint="")
        pairs = sorted_by_ids(pairs, ["original_id", "instrumental_id"])
    for col in ("original_path", "instrumental_path"):
        pairs[col] = pairs[col].fillna("")

    frames = [f for f in (ingest_rejects, pairing_rejects, content_rejects) if len(f)]
    rejects = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECTS_SCHEMA.names)
    settled = time.perf_counter()
    if paired.unpaired_parts is not None:
        unpaired = settle_unpaired(paired.unpaired_parts, decisions, pairs, rejects)  # an Arrow table
    else:
        unpaired = unpaired_rows(paired.tracks, decisions, pairs, rejects)
    log.info("unpaired rows: %d in %.1f s", len(unpaired), time.perf_counter() - settled)
    settings = {"engine": engine, **dataclasses.asdict(config)}  # recorded in every artifact (their provenance)
    written = time.perf_counter()
    tables = [(path, artifact_table(df, path, schema, stage="mine", settings=settings)) for df, path, schema in
              ((pairs, catalog.pairs, PAIRS_SCHEMA), (rejects, catalog.rejects, REJECTS_SCHEMA),
               (unpaired, catalog.unpaired, UNPAIRED_SCHEMA))]
    write_checked(tables, check=lambda: check_accounting(n_rows=n_rows, pairs=pairs, unpaired=unpaired,
                                                         rejects=rejects))
    if parts is not None:
        remove_parts(parts)
    log.info("tables written in %.1f s", time.perf_counter() - written)

    rejected: dict[str, dict[str, int]] = {}
    for (stage, reason), n in Counter(zip(rejects["stage"], rejects["reason"])).items():
        rejected.setdefault(stage, {})[reason] = n
    summary = MiningSummary(
        rows_read=n_rows,
        tracks_valid=paired.n_valid,
        instrumentals=int(decisions["instrumental_id"].nunique()) if len(decisions) else 0,
        candidates=int(decisions["original_id"].notna().sum()) if len(decisions) else 0,
        pairs_matched=n_matched,
        pairs=len(pairs),
        rejected=rejected,
        unpaired=reason_counts(unpaired["reason"]),
        rows_rejected=dict(Counter(rejects.loc[rejects["stage"].isin(("ingest", "content")), "reason"])),
        files_decoded=decoded,
        files_cached=cached,
        engine=engine,
        seconds=time.perf_counter() - start,
    )
    log.info("mining summary:\n%s", summary.format())
    if len(pairs) == 0:
        raise NothingUsableError(
            f"{catalog.tracks.path}: no (original, instrumental) pair remains of {n_rows} rows "
            f"({paired.n_valid} valid, {summary.instrumentals} instrumentals); see {catalog.rejects}"
        )
    return summary
