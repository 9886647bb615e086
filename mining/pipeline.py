"""`vocalmine mine`: ingest -> pairing -> content dedupe -> pairs.parquet + rejects.parquet."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from vocalmine.core.catalog import DataCatalog
from vocalmine.core.errors import NothingUsableError
from vocalmine.core.tables import REJECTS_SCHEMA, write_table
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.decode import fingerprint_paths
from vocalmine.mining.dedupe import dedupe_pairs
from vocalmine.mining.engines import pair_catalog
from vocalmine.mining.fingerprint import canonical_fingerprints
from vocalmine.mining.matching import split_decisions
from vocalmine.mining.schema import PAIRS_SCHEMA

log = logging.getLogger(__name__)

_STAGE_ORDER = {"ingest": 0, "pairing": 1, "content": 2}


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
        lines.append(f"fingerprints         {self.files_decoded} decoded, {self.files_cached} cached")
        lines.append(f"time                 {self.seconds:.1f} s")
        return "\n".join(lines)


def mine(*, catalog: DataCatalog, engine: str = "pandas", scheduler: str | None = None, config: MiningConfig = MiningConfig()) -> MiningSummary:
    """Mine (original, instrumental) pairs from the catalog's track CSV.

    Writes catalog.pairs (PAIRS_SCHEMA), catalog.rejects (REJECTS_SCHEMA) and the
    fingerprint cache catalog.fingerprints. Metadata-only catalogs (no audio_path
    column mapped) skip the content stage: paths and fingerprints are "".

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
    if engine == "dask" and scheduler not in (None, "sync"):
        from dask.distributed import Client

        with Client(scheduler) as client:
            paired = pair_catalog(catalog.tracks, config=config, engine=engine, scheduler=client)
    else:
        paired = pair_catalog(catalog.tracks, config=config, engine=engine, scheduler=scheduler)
    ingest_rejects, decisions, n_rows = paired.rejects, paired.decisions, paired.n_rows
    pairs, pairing_rejects = split_decisions(decisions)
    n_matched = len(pairs)
    content_rejects = pd.DataFrame(columns=REJECTS_SCHEMA.names)
    decoded = cached = 0
    if catalog.tracks.columns.audio_path is not None and len(pairs):
        paths = sorted(set(pairs["original_path"]) | set(pairs["instrumental_path"]))
        prints, decoded, cached = fingerprint_paths(
            paths, cache_path=catalog.fingerprints, seconds=config.fingerprint_seconds, scheduler=scheduler, n_workers=config.n_workers
        )
        canonical = canonical_fingerprints(prints, threshold_db=config.same_content_db)
        pairs, content_rejects = dedupe_pairs(pairs, prints=prints, canonical=canonical)
    else:
        pairs = pairs.assign(original_fingerprint="", instrumental_fingerprint="")
        pairs = pairs.sort_values(["original_id", "instrumental_id"], kind="mergesort").reset_index(drop=True)
    for col in ("original_path", "instrumental_path"):
        pairs[col] = pairs[col].fillna("")

    frames = [f for f in (ingest_rejects, pairing_rejects, content_rejects) if len(f)]
    rejects = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REJECTS_SCHEMA.names)
    settings = {"engine": engine, **dataclasses.asdict(config)}  # recorded in both artifacts (their provenance)
    write_table(pairs, catalog.pairs, PAIRS_SCHEMA, stage="mine", settings=settings)
    write_table(rejects, catalog.rejects, REJECTS_SCHEMA, stage="mine", settings=settings)

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
