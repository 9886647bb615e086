"""Engines that drive ingest and :func:`match_partition`: pandas (in memory) or dask.dataframe.

Both parse with the same reader (csv_reader.read_csv_block: malformed records become
malformed_row rejects with the same row numbers), run the same row-local
validation (ingest.validate_rows), the same
duplicate-id rule (ingest.duplicate_rows; the dask engine applies it to the rows whose id hash is
shared, found from every block's 64-bit id hashes),
and the same partition function on whole artist blocks (matching.match_partition,
partitioned by matching.artist_partition), and end with the same canonical
sorts, so their outputs are equal row for row. The dask engine reads the CSV in
blocks and shuffles through disk, so a catalog need not fit in memory.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.catalog import TrackCatalog
from vocalmine.core.errors import ConfigError
from vocalmine.mining.accounting import write_unpaired_part
from vocalmine.mining.audio_check import annotate_audio, audio_rejects
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.csv_reader import CsvBlock, read_csv_block, read_header
from vocalmine.mining.ingest import (
    check_columns, duplicate_rows, finalize_rows, ingest, malformed_rows, split_rows, track_ids, validate_rows,
)
from vocalmine.mining.matching import artist_partition, empty_decisions, match_partition, prepare_tracks, sort_decisions

log = logging.getLogger(__name__)

ENGINES = ("pandas", "dask")


@dataclass(frozen=True)
class Paired:
    """What ingest + pairing produced."""

    n_rows: int  # data rows of the CSV
    n_valid: int  # rows that passed ingest (and the audio check, when decoded durations were given)
    rejects: pd.DataFrame  # ingest rejects (REJECTS columns) in row order, then audio-check rejects by track_id
    decisions: pd.DataFrame  # matching.DECISION_COLUMNS, canonical order
    # the n_valid tracks that went into pairing (KEPT_COLUMNS), sorted by track_id; None when each artist
    # partition wrote its unpaired rows itself (see unpaired_parts)
    tracks: pd.DataFrame | None
    undated: tuple[str, ...] = ()  # audio paths of valid tracks whose catalog duration is missing
    # the folder of unpaired parts, one per artist partition (dask engine, when asked for): the unpaired rows
    # as if every matched pair were kept (accounting.settle_unpaired finishes them)
    unpaired_parts: Path | None = None


def _dask_scheduler(scheduler):
    # A distributed Client computes through its .get; names ("threads", "sync") pass through.
    if scheduler is None:
        return "threads"
    return scheduler if isinstance(scheduler, str) else scheduler.get


def _prepare_dask(valid, *, config: MiningConfig):
    """Lazy prepared tracks (matching.PREPARED_COLUMNS added) of a dask DataFrame of valid tracks."""
    prepare = functools.partial(prepare_tracks, markers=config.markers)
    return valid.map_partitions(prepare, meta=prepare(valid._meta))


def _settle_partition(part: pd.DataFrame, *, config: MiningConfig, parts: str | None,
                      partition_info=None) -> pd.DataFrame:
    """Decisions of one artist partition; with ``parts``, its provisional unpaired rows written there too."""
    tracks = part.drop(columns="_part").reset_index(drop=True)
    decisions = match_partition(tracks, config=config, threads=1)  # a worker is one thread: no more
    if parts is not None and partition_info is not None:
        write_unpaired_part(Path(parts), partition_info["number"], tracks[KEPT_COLUMNS], decisions)
    return decisions


def _match_dask(prepared, *, config: MiningConfig, n_partitions: int, parts: Path | None = None):
    """Lazy decisions of a dask DataFrame of prepared tracks: shuffle by artist_partition, match per partition."""
    prepared = prepared.assign(_part=prepared["artist_norm"].map_partitions(artist_partition, n_partitions,
                                                                            meta=("_part", "int64")))
    # Every row of an artist goes to the one partition artist_partition names.
    shuffled = prepared.shuffle(on="_part", npartitions=n_partitions)
    return shuffled.map_partitions(_settle_partition, config=config, parts=None if parts is None else str(parts),
                                   meta=empty_decisions())


def match_tracks(tracks: pd.DataFrame, *, config: MiningConfig, engine: str = "pandas", scheduler=None) -> pd.DataFrame:
    """Pair decisions for valid tracks (ingest.TRACK_COLUMNS) held in memory.

    Args:
        tracks: (n rows) valid tracks.
        config: pairing settings (and dask_partitions).
        engine: "pandas" or "dask".
        scheduler: for the dask engine: a distributed Client or a dask scheduler name.

    Returns:
        the decision frame of :func:`match_partition` (canonical order).
    """
    if engine == "pandas":
        return match_partition(prepare_tracks(tracks, config.markers), config=config)
    if engine != "dask":
        raise ConfigError(f"engine must be one of {ENGINES}, got {engine!r}")
    import dask
    import dask.dataframe as dd

    n_partitions = config.dask_partitions or 8  # 0 (auto) follows the CSV's blocks, and there are none here
    n_in = max(1, min(n_partitions, len(tracks) // 50_000 + 1))
    valid = dd.from_pandas(tracks.reset_index(drop=True), npartitions=n_in, sort=False)
    (result,) = dask.compute(_match_dask(_prepare_dask(valid, config=config), config=config,
                                         n_partitions=n_partitions), scheduler=_dask_scheduler(scheduler))
    return sort_decisions(result) if len(result) else empty_decisions()


# What Paired.tracks keeps of the prepared tracks: the valid tracks and what their titles said.
KEPT_COLUMNS = ["track_id", "artist", "title", "duration_s", "audio_path", "is_instrumental", "marker", "marker_family"]


def id_hashes(raw: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(block-relative rows int32, uint64 hashes) of the non-empty track ids of a parsed CSV block."""
    ids = track_ids(raw, column).to_numpy(dtype=object)
    present = ids != ""
    return (raw.index.to_numpy()[present].astype(np.int32),
            pd.util.hash_array(ids[present], categorize=False))


def _shared_hashes(hashes: np.ndarray) -> np.ndarray:
    """(n,) bool: the hashes that occur more than once."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    same = ordered[1:] == ordered[:-1]
    shared = np.zeros(len(hashes), dtype=bool)
    shared[order[1:][same]] = True
    shared[order[:-1][same]] = True
    return shared


def _undated(tracks: pd.DataFrame) -> tuple[str, ...]:
    paths = tracks.loc[tracks["duration_s"].isna(), "audio_path"]
    return tuple(p for p in paths.tolist() if p)


def _sorted_tracks(prepared: pd.DataFrame) -> pd.DataFrame:
    return prepared[KEPT_COLUMNS].sort_values("track_id", kind="mergesort").reset_index(drop=True)


def pair_catalog(tracks: TrackCatalog, *, config: MiningConfig, engine: str = "pandas", scheduler=None,
                 decoded: dict[str, tuple[float, str]] | None = None, unpaired_parts: Path | None = None) -> Paired:
    """Ingest the track CSV and pair it with the chosen engine.

    Args:
        tracks: the catalog's track section.
        config: mining settings.
        engine: "pandas" (in memory) or "dask" (blocks of dask_blocksize bytes, disk shuffles).
        scheduler: for the dask engine: a distributed Client or a dask scheduler name.
        decoded: audio path -> (decoded seconds, error): when given, rows are checked against
            their decoded audio before pairing (mining/audio_check.py).
        unpaired_parts: dask engine: a folder where each artist partition writes its provisional
            unpaired rows, so that no process holds every track (Paired.tracks is then None).

    Both engines read with csv_reader.read_csv_block, so a record whose field count is not the
    header's is the same malformed_row reject, with the same row number, in either.

    Raises:
        CatalogError: not a CSV, a broken header row, or a mapped column is absent.
    """
    if engine == "pandas":
        valid, rejects, n_rows = ingest(tracks, config=config)
        if decoded is not None:
            annotated = annotate_audio(valid, decoded=decoded, tolerance_s=config.duration_tolerance_s)
            rejects = pd.concat([rejects, audio_rejects(annotated)], ignore_index=True)
            valid = annotated.loc[annotated["_a_reason"] == "", list(valid.columns)].reset_index(drop=True)
        prepared = prepare_tracks(valid, config.markers)
        return Paired(n_rows, len(valid), rejects, match_partition(prepared, config=config), _sorted_tracks(prepared),
                      undated=_undated(prepared))
    if engine != "dask":
        raise ConfigError(f"engine must be one of {ENGINES}, got {engine!r}")
    import dask
    import dask.dataframe as dd
    from dask.bytes import read_bytes

    names = read_header(tracks.path, delimiter=tracks.delimiter)
    check_columns(names, tracks)
    get = _dask_scheduler(scheduler)
    # Blocks of whole lines, parsed by the reader of the pandas path (block 0 starts with the header row).
    _, (blocks,) = read_bytes(str(tracks.path), delimiter=b"\n", blocksize=config.dask_blocksize, sample=False)
    # artist partitions of ~150k rows (a block of 16 MiB holds ~300k of 57 bytes): bounded memory per task
    n_partitions = config.dask_partitions or max(8, 2 * len(blocks))

    def read(data: bytes, number: int, first_row: int = 0) -> CsvBlock:
        return read_csv_block(bytes(data), names=names, path=tracks.path, delimiter=tracks.delimiter,
                              header=number == 0, first_row=first_row, block=number)

    def count(data: bytes, number: int) -> tuple[CsvBlock, np.ndarray, np.ndarray]:
        """The block's malformed records (few and small), and the rows and 64-bit hashes of its non-empty ids."""
        block = read(data, number)
        rows, hashes = id_hashes(block.raw, tracks.columns.track_id)
        return dataclasses.replace(block, raw=None), rows, hashes

    clock = [time.perf_counter()]  # phase times, logged: where a large catalog's time goes

    def lap() -> float:
        clock.append(time.perf_counter())
        return clock[-1] - clock[-2]

    counted = dask.compute([dask.delayed(count)(b, i) for i, b in enumerate(blocks)], scheduler=get)[0]
    t_count = lap()
    lengths = np.array([c.n_records for c, _, _ in counted], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    malformed = [dataclasses.replace(c, bad_rows=c.bad_rows + off) for (c, _, _),
                 off in zip(counted, offsets.tolist()) if len(c.bad_rows)]

    def rows_of(data: bytes, number: int, first_row: int) -> pd.DataFrame:
        return read(data, number, first_row).raw

    def ids_at(data: bytes, number: int, first_row: int, rows: np.ndarray) -> pd.DataFrame:
        part = rows_of(data, number, first_row)
        part = part.loc[part.index.isin(rows)]
        return pd.DataFrame({"track_id": track_ids(part, tracks.columns.track_id).to_numpy(dtype=object),
                             "_row": part.index.to_numpy(dtype=np.int64)})

    # Duplicate ids: rows whose id hash is shared are the only candidates; their ids are read again and
    # compared exactly (a catalog without duplicates, and no hash collision, reads nothing more).
    shared = _shared_hashes(np.concatenate([h for _, _, h in counted]))
    wanted, start = [], 0
    for i, ((_, rows, hashes), off) in enumerate(zip(counted, offsets.tolist())):
        mine = shared[start: start + len(hashes)]
        start += len(hashes)
        if mine.any():
            wanted.append((i, rows[mine].astype(np.int64) + off))
    del counted, shared
    found = dask.compute([dask.delayed(ids_at)(blocks[i], i, int(offsets[i]), r) for i, r in wanted],
                         scheduler=get)[0]
    dups = duplicate_rows(pd.concat(found, ignore_index=True)) if found else np.zeros(0, dtype=np.int64)

    raw_meta = read_csv_block(b"", names=names, path=tracks.path, header=False).raw
    raw = dd.from_delayed(
        [dask.delayed(rows_of)(b, i, int(off)) for i, (b, off) in enumerate(zip(blocks, offsets.tolist()))],
        meta=raw_meta,
    )
    meta = validate_rows(raw_meta, tracks=tracks, config=config)
    validated = raw.map_partitions(validate_rows, tracks=tracks, config=config, meta=meta)

    t_ids = lap()
    dups = np.sort(np.asarray(dups, dtype=np.int64))
    final = validated.map_partitions(finalize_rows, duplicates=dups, meta=finalize_rows(meta, duplicates=dups))
    ok = final["reason"] == ""
    valid = final[ok][["track_id", "artist", "title", "duration_s", "audio_path"]]
    late = None
    if decoded is not None:
        annotated = valid.map_partitions(annotate_audio, decoded=decoded, tolerance_s=config.duration_tolerance_s,
                                         meta=annotate_audio(valid._meta, decoded={}, tolerance_s=0.0))
        late = annotated[annotated["_a_reason"] != ""]
        valid = annotated[annotated["_a_reason"] == ""][list(valid.columns)]
    prepared = _prepare_dask(valid, config=config)
    decided = _match_dask(prepared, config=config, n_partitions=n_partitions, parts=unpaired_parts)
    if unpaired_parts is None:
        kept = prepared[KEPT_COLUMNS]
    else:  # the tracks stay in the workers: only their number and the undated paths come back
        kept = prepared.map_partitions(lambda part: pd.DataFrame({"n": [len(part)], "undated": [_undated(part)]}),
                                       meta={"n": "int64", "undated": object})
    rejected, decisions, kept, late = dask.compute(final[~ok], decided, kept, late, scheduler=get)
    t_match = lap()
    if unpaired_parts is None:
        n_valid, undated, kept = len(kept), _undated(kept), _sorted_tracks(kept)
    else:
        n_valid, undated, kept = int(kept["n"].sum()), tuple(p for u in kept["undated"] for p in u), None
    if malformed:
        rejected = pd.concat([rejected, *(malformed_rows(c, expected=len(names)) for c in malformed)],
                             ignore_index=True)
    _, rejects = split_rows(rejected)
    if late is not None:
        rejects = pd.concat([rejects, audio_rejects(late)], ignore_index=True)
    decisions = sort_decisions(decisions) if len(decisions) else empty_decisions()
    log.info("dask engine: %d rows in %d blocks, %d partitions by artist; count %.1f s, duplicate ids %.1f s, "
             "validate + titles + shuffle + match %.1f s, rejects and decisions sorted %.1f s", int(lengths.sum()),
             len(lengths), n_partitions, t_count, t_ids, t_match, lap())
    return Paired(int(lengths.sum()), int(n_valid), rejects.reset_index(drop=True), decisions, kept,
                  undated=tuple(sorted(undated)), unpaired_parts=unpaired_parts)
