"""The decoded-audio cache: fingerprints of decoded files kept in Parquet, and decoding the rest on dask.distributed.

Decoding a file is the slow step of mining, so its result (the fingerprint
envelope, the decoded duration, or why the file cannot be decoded) is cached in
catalog.fingerprints, keyed by (absolute path, size, mtime_ns) and the fingerprint
length. A later run decodes only files that are new or changed since. Files not in
the cache are decoded in batches, one Dask task per batch (FILES_PER_TASK), on the client
of vocalmine.core.dask_client.

While files decode, what has been decoded reaches the disk every CHECKPOINT_S seconds as a
part file beside the cache (``fingerprints.parquet.parts/``, each written atomically), so a
`mine` killed while decoding resumes where it was; the cache, written at the end, absorbs the parts.

Memory stays bounded whatever the catalog: the client keeps a :class:`FileSummary` per file
(~0.5 KB), never the envelopes (11.5 KB each at 90 s). Every file of the cache is sorted by key and
read BATCH_ROWS rows at a time; the cache is rewritten by merging its sorted files, and parts are
merged MAX_PARTS at a time while files decode, so that the final merge reads few files.
"""

from __future__ import annotations

import heapq
import logging
import shutil
import time
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA
from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import CatalogError, storage_error
from vocalmine.core.progress import progress
from vocalmine.core.tables import check_version, parts_folder, read_metadata, write_batches
from vocalmine.mining.fingerprint import Fingerprint, FileSummary, file_key, fingerprint_file, summarize

log = logging.getLogger(__name__)

SYNC = "sync"  # scheduler value that decodes in this process (tests, tiny catalogs)
CHECKPOINT_S = 2.0  # decoded fingerprints reach the disk at least this often (a killed run loses no more)
BATCH_ROWS = 256  # rows of a cache file read (and written as one row group) at a time: ~3 MB of envelopes
MAX_PARTS = 32  # checkpoint parts merged into one once there are this many (the final merge reads few files)
Key = tuple[str, int, int]  # (absolute path, size, mtime_ns)
Row = tuple[Key, Fingerprint]


# -- reading ------------------------------------------------------------------------------------


def cache_files(path: Path) -> list[Path]:
    """The cache file and its checkpoint parts, oldest first (a later file's row wins over an earlier one's)."""
    parts = parts_folder(path)
    files = [Path(path)] if Path(path).is_file() else []
    return files + (sorted(parts.glob("part-*.parquet")) if parts.is_dir() else [])


def _rows(file: Path, seconds: float, paths: set[str] | None = None) -> Iterator[Row]:
    """The rows of one cache file made with ``seconds``, in file order (only those of ``paths`` when given);
    an unreadable or outdated file reads as empty."""
    try:
        check_version(file, read_metadata(file), FINGERPRINTS_SCHEMA, stage="mine")
        reader = pq.ParquetFile(file, pre_buffer=False)  # pre-buffering would keep every row group read so far
        for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=FINGERPRINTS_SCHEMA.names):
            keep = pc.equal(batch.column("seconds"), seconds)
            if paths is not None:  # a Python set: pc.is_in would hash every path again for each batch
                keep = pc.and_(keep, pa.array([p in paths for p in batch.column("path").to_pylist()], pa.bool_()))
            batch = batch.filter(keep)
            if not batch.num_rows:
                continue
            c = batch.to_pydict()
            for p, s, m, n, d, f, e in zip(c["path"], c["size"], c["mtime_ns"], c["n_frames"], c["duration_s"],
                                           c["features"], c["error"]):
                yield (p, s, m), Fingerprint(f, n, d, e)
    except (CatalogError, pa.ArrowInvalid, OSError) as exc:
        log.warning("ignoring fingerprint cache file: %s", exc)


def read_fingerprints(path: Path, keys: Iterable[Key], *, seconds: float) -> dict[Key, Fingerprint]:
    """The cached fingerprints of ``keys`` (those the cache holds), read from every cache file."""
    keys = set(keys)
    if not keys:
        return {}
    paths = {k[0] for k in keys}
    return {key: fp for file in cache_files(path) for key, fp in _rows(file, seconds, paths) if key in keys}


def envelope_loader(path: Path, summaries: Mapping[str, FileSummary], *, seconds: float):
    """A ``load`` for :func:`~vocalmine.mining.fingerprint.group_contents`: names -> their Fingerprints, read back
    from the cache under the keys ``summaries`` hold."""
    def load(names: Iterable[str]) -> dict[str, Fingerprint]:
        names = list(names)
        found = read_fingerprints(path, [summaries[n].key for n in names], seconds=seconds)
        return {n: found[summaries[n].key] for n in names}
    return load


def load_cache(path: Path, *, seconds: float) -> dict[Key, Fingerprint]:
    """Every cached fingerprint by (path, size, mtime_ns), checkpoint parts included (tests; small caches)."""
    return {key: fp for file in cache_files(path) for key, fp in _rows(file, seconds)}


# -- writing ------------------------------------------------------------------------------------


def _batches(rows: Iterable[Row], seconds: float) -> Iterator[pa.RecordBatch]:
    """``rows`` as record batches of BATCH_ROWS."""
    names = FINGERPRINTS_SCHEMA.names
    chunk: list[tuple] = []

    def batch() -> pa.RecordBatch:
        return pa.RecordBatch.from_arrays([pa.array(col, FINGERPRINTS_SCHEMA.field(name).type)
                                           for name, col in zip(names, zip(*chunk))], schema=FINGERPRINTS_SCHEMA)

    for (p, s, m), fp in rows:
        chunk.append((p, s, m, seconds, fp.n_frames, fp.duration_s, fp.features, fp.error))
        if len(chunk) == BATCH_ROWS:
            yield batch()
            chunk = []
    if chunk:
        yield batch()


def _write(rows: Iterable[Row], path: Path, seconds: float) -> None:
    try:
        write_batches(_batches(rows, seconds), path, FINGERPRINTS_SCHEMA, stage="mine",
                      settings={"fingerprint_seconds": seconds})
    except OSError as exc:  # a full disk: one line naming the file, not a traceback
        raise storage_error(exc, path) from exc


def merged_rows(files: list[Path], seconds: float, *, stale: dict[str, Key] | None = None) -> Iterator[Row]:
    """The rows of sorted cache ``files`` merged in key order, one per key (the latest file's); with ``stale``
    (path -> its current key), a row of such a path under another key (a file rewritten since) is dropped."""
    streams = [((key, rank, fp) for key, fp in _rows(file, seconds)) for rank, file in enumerate(files)]
    last: tuple | None = None
    for key, _, fp in heapq.merge(*streams, key=lambda row: (row[0], row[1])):
        if stale is not None and key[0] in stale and stale[key[0]] != key:
            continue
        if last is not None and last[0] != key:
            yield last
        last = (key, fp)
    if last is not None:
        yield last


def save_cache(path: Path, *, seconds: float, current: dict[str, Key] | None = None) -> None:
    """Rewrite the cache as the merge of its files (one row per key), then drop the checkpoint parts it absorbed."""
    files = cache_files(path)
    _write(merged_rows(files, seconds, stale=current), Path(path), seconds)
    for file in files:
        if file != Path(path):
            file.unlink(missing_ok=True)
    shutil.rmtree(parts_folder(path), ignore_errors=True)


class Checkpoint:
    """Fingerprints decoded in this run, written as a sorted part file every CHECKPOINT_S seconds; MAX_PARTS
    small parts are merged into one (the merged ones are only deleted once it is on disk)."""

    def __init__(self, path: Path, *, seconds: float):
        self.folder, self.seconds = parts_folder(path), seconds
        self.pending: dict[Key, Fingerprint] = {}
        self.small: list[Path] = []
        self.last = time.monotonic()

    def _name(self, kind: str) -> Path:
        # nanosecond names sort in writing order (the merge lets a later part's row win)
        return self.folder / f"part-{time.time_ns():020d}-{kind}.parquet"

    def add(self, key: Key, fp: Fingerprint) -> None:
        self.pending[key] = fp
        if time.monotonic() - self.last >= CHECKPOINT_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            part = self._name("s")
            _write(sorted(self.pending.items()), part, self.seconds)
            self.pending = {}
            self.small.append(part)
            if len(self.small) >= MAX_PARTS:
                merged = self._name("m")
                _write(merged_rows(self.small, self.seconds), merged, self.seconds)
                for file in self.small:
                    file.unlink(missing_ok=True)
                self.small = []
        self.last = time.monotonic()


# -- decoding -----------------------------------------------------------------------------------

FILES_PER_TASK = 64  # most files one Dask task decodes: a task costs the scheduler ~1 ms, a short file ~5 ms


def file_batches(paths: list[str], *, n_workers: int, files_per_task: int = FILES_PER_TASK) -> list[list[str]]:
    """``paths`` in consecutive batches of at most files_per_task, at least four batches per worker when there
    are that many files (so that workers finish together)."""
    size = max(1, min(files_per_task, -(-len(paths) // (4 * max(1, n_workers)))))
    return [paths[i: i + size] for i in range(0, len(paths), size)]


def fingerprint_batch(paths: list[str], seconds: float) -> list[Fingerprint]:
    """:func:`fingerprint_file` of each path (one Dask task)."""
    return [fingerprint_file(p, seconds) for p in paths]


def fingerprint_paths(
    paths: list[str], *, cache_path: Path, seconds: float, scheduler: str | None, n_workers: int,
    files_per_task: int = FILES_PER_TASK,
) -> tuple[dict[str, FileSummary], int, int]:
    """Summaries of the fingerprints of ``paths``, decoding only files the cache does not hold.

    Args:
        paths: absolute audio paths.
        cache_path: the Parquet cache (catalog.fingerprints); rewritten when anything was decoded.
        seconds: fingerprint length (part of the cache validity).
        scheduler: a dask scheduler address, None for a LocalCluster, or "sync" for in-process.
        n_workers: LocalCluster processes (no more than there are batches to decode; logged).
        files_per_task: most files per Dask task (1: one task per file, the bench's baseline).

    Returns:
        (path -> FileSummary, files decoded, files served from the cache); the envelopes are in the cache
        (:func:`read_fingerprints` with the summaries' keys).
    """
    resumed = parts_folder(cache_path).is_dir()  # a killed run's checkpoint parts: absorbed into the cache below
    keys = {p: file_key(p) for p in sorted(set(paths))}
    path_of = {k: p for p, k in keys.items()}
    out: dict[str, FileSummary] = {}
    wanted = set(keys)
    for file in cache_files(cache_path):  # summarised as read: the envelopes are never all in memory
        for key, fp in _rows(file, seconds, wanted):
            if key in path_of:
                out[path_of[key]] = summarize(fp, key)
    todo = [p for p in keys if p not in out]
    if todo:
        log.info("fingerprinting %d files (%d cached)", len(todo), len(out))
        checkpoint = Checkpoint(cache_path, seconds=seconds)
        if scheduler == SYNC:
            for p in progress(todo, desc="fingerprint", unit="file"):
                fp = fingerprint_file(p, seconds)
                out[p] = summarize(fp, keys[p])
                checkpoint.add(keys[p], fp)
        else:
            batches = file_batches(todo, n_workers=n_workers, files_per_task=files_per_task)
            with dask_client(scheduler=scheduler, workers=n_workers, tasks=len(batches), stage="mine") as client:
                futures = client.map(fingerprint_batch, batches, seconds=seconds, pure=False)
                bar = progress(total=len(todo), desc="fingerprint", unit="file")
                for batch, future in zip(batches, futures):
                    for p, fp in zip(batch, future.result()):
                        out[p] = summarize(fp, keys[p])
                        checkpoint.add(keys[p], fp)
                    bar.update(len(batch))
                    future.release()  # a batch's envelopes leave the workers once they are checkpointed
                bar.close()
        checkpoint.flush()
    if todo or resumed:
        # A file rewritten since it was cached keeps only its new entry.
        save_cache(cache_path, seconds=seconds, current=keys)
    return out, len(todo), len(keys) - len(todo)
