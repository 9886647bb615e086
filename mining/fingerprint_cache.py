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
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from pathlib import Path

import pandas as pd

from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import CatalogError, storage_error
from vocalmine.core.progress import progress
from vocalmine.core.tables import parts_folder, read_table, write_table
from vocalmine.mining.fingerprint import Fingerprint, file_key, fingerprint_file
from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA

log = logging.getLogger(__name__)

SYNC = "sync"  # scheduler value that decodes in this process (tests, tiny catalogs)
CHECKPOINT_S = 2.0  # decoded fingerprints reach the disk at least this often (a killed run loses no more)
Key = tuple[str, int, int]  # (absolute path, size, mtime_ns)


def _read(path: Path, seconds: float) -> dict[Key, Fingerprint]:
    try:
        df = read_table(path, FINGERPRINTS_SCHEMA)
    except CatalogError as exc:
        log.warning("ignoring fingerprint cache: %s", exc)
        return {}
    df = df[df["seconds"] == seconds]
    return {
        (p, int(s), int(m)): Fingerprint(bytes(f), int(n), float(d), e)
        for p, s, m, n, d, f,
        e in zip(df["path"], df["size"], df["mtime_ns"], df["n_frames"], df["duration_s"], df["features"], df["error"])
    }


def load_cache(path: Path, *, seconds: float) -> dict[Key, Fingerprint]:
    """Cached fingerprints by (path, size, mtime_ns), checkpoint parts included; an unreadable file counts as empty."""
    parts = parts_folder(path)
    files = [Path(path)] if Path(path).is_file() else []
    files += sorted(parts.glob("part-*.parquet")) if parts.is_dir() else []
    cache: dict[Key, Fingerprint] = {}
    for file in files:
        cache.update(_read(file, seconds))
    return cache


def _write(df: pd.DataFrame, path: Path, seconds: float) -> None:
    try:
        write_table(df, path, FINGERPRINTS_SCHEMA, stage="mine", settings={"fingerprint_seconds": seconds})
    except OSError as exc:  # a full disk: one line naming the file, not a traceback
        raise storage_error(exc, path) from exc


def _frame(cache: dict[Key, Fingerprint], seconds: float) -> pd.DataFrame:
    rows = [(p, s, m, seconds, fp.n_frames, fp.duration_s, fp.features, fp.error)
            for (p, s, m), fp in sorted(cache.items())]
    return pd.DataFrame(rows, columns=FINGERPRINTS_SCHEMA.names)


def save_cache(path: Path, cache: dict[Key, Fingerprint], *, seconds: float) -> None:
    """Write the cache atomically (one row per key), then drop the checkpoint parts it now holds."""
    _write(_frame(cache, seconds), Path(path), seconds)
    shutil.rmtree(parts_folder(path), ignore_errors=True)


class Checkpoint:
    """Fingerprints decoded in this run, written as a part file every CHECKPOINT_S seconds."""

    def __init__(self, path: Path, *, seconds: float):
        self.folder, self.seconds = parts_folder(path), seconds
        self.pending: dict[Key, Fingerprint] = {}
        self.last = time.monotonic()

    def add(self, key: Key, fp: Fingerprint) -> None:
        self.pending[key] = fp
        if time.monotonic() - self.last >= CHECKPOINT_S:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            part = self.folder / f"part-{uuid.uuid4().hex[:12]}.parquet"
            _write(_frame(self.pending, self.seconds), part, self.seconds)
            self.pending = {}
        self.last = time.monotonic()


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
) -> tuple[dict[str, Fingerprint], int, int]:
    """Fingerprints of ``paths``, decoding only files the cache does not hold.

    Args:
        paths: absolute audio paths.
        cache_path: the Parquet cache (catalog.fingerprints); rewritten when anything was decoded.
        seconds: fingerprint length (part of the cache validity).
        scheduler: a dask scheduler address, None for a LocalCluster, or "sync" for in-process.
        n_workers: LocalCluster processes (no more than there are batches to decode; logged).
        files_per_task: most files per Dask task (1: one task per file, the bench's baseline).

    Returns:
        (path -> Fingerprint, files decoded, files served from the cache)
    """
    resumed = parts_folder(cache_path).is_dir()  # a killed run's checkpoint parts: absorbed into the cache below
    cache = load_cache(cache_path, seconds=seconds)
    keys = {p: file_key(p) for p in sorted(set(paths))}
    todo = [p for p, k in keys.items() if k not in cache]
    out = {p: cache[k] for p, k in keys.items() if k in cache}
    if todo:
        log.info("fingerprinting %d files (%d cached)", len(todo), len(out))
        checkpoint = Checkpoint(cache_path, seconds=seconds)
        if scheduler == SYNC:
            for p in progress(todo, desc="fingerprint", unit="file"):
                out[p] = cache[keys[p]] = fingerprint_file(p, seconds)
                checkpoint.add(keys[p], out[p])
        else:
            batches = file_batches(todo, n_workers=n_workers, files_per_task=files_per_task)
            with dask_client(scheduler=scheduler, workers=n_workers, tasks=len(batches), stage="mine") as client:
                futures = client.map(fingerprint_batch, batches, seconds=seconds, pure=False)
                bar = progress(total=len(todo), desc="fingerprint", unit="file")
                for batch, future in zip(batches, futures):
                    for p, fp in zip(batch, future.result()):
                        out[p] = cache[keys[p]] = fp
                        checkpoint.add(keys[p], fp)
                    bar.update(len(batch))
                    future.release()  # a batch's envelopes leave the workers once they are in the cache
                bar.close()
    if todo or resumed:
        # A file rewritten since it was cached keeps only its new entry.
        current = set(keys.values())
        cache = {k: v for k, v in cache.items() if k[0] not in keys or k in current}
        save_cache(cache_path, cache, seconds=seconds)
    return out, len(todo), len(keys) - len(todo)
