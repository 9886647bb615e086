"""The decoded-audio cache: fingerprints of decoded files kept in Parquet, and decoding the rest on dask.distributed.

Decoding a file is the slow step of mining, so its result (the fingerprint
envelope, the decoded duration, or why the file cannot be decoded) is cached in
catalog.fingerprints, keyed by (absolute path, size, mtime_ns) and the fingerprint
length. A later run decodes only files that are new or changed since. Files not in
the cache are decoded one Dask task each, on the client of vocalmine.core.dask_client.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from vocalmine.core.dask_client import dask_client
from vocalmine.core.errors import CatalogError
from vocalmine.core.progress import progress
from vocalmine.core.tables import read_table, write_table
from vocalmine.mining.fingerprint import Fingerprint, file_key, fingerprint_file
from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA

log = logging.getLogger(__name__)

SYNC = "sync"  # scheduler value that decodes in this process (tests, tiny catalogs)


def load_cache(path: Path, *, seconds: float) -> dict[tuple[str, int, int], Fingerprint]:
    """Cached fingerprints by (path, size, mtime_ns); an unreadable cache counts as empty."""
    if not Path(path).is_file():
        return {}
    try:
        df = read_table(path, FINGERPRINTS_SCHEMA)
    except CatalogError as exc:
        log.warning("ignoring fingerprint cache: %s", exc)
        return {}
    df = df[df["seconds"] == seconds]
    return {
        (p, int(s), int(m)): Fingerprint(bytes(f), int(n), float(d), e)
        for p, s, m, n, d, f, e in zip(df["path"], df["size"], df["mtime_ns"], df["n_frames"], df["duration_s"], df["features"], df["error"])
    }


def save_cache(path: Path, cache: dict[tuple[str, int, int], Fingerprint], *, seconds: float) -> None:
    """Write the cache atomically (one row per key)."""
    rows = [(p, s, m, seconds, fp.n_frames, fp.duration_s, fp.features, fp.error) for (p, s, m), fp in sorted(cache.items())]
    df = pd.DataFrame(rows, columns=FINGERPRINTS_SCHEMA.names)
    write_table(df, path, FINGERPRINTS_SCHEMA, stage="mine", settings={"fingerprint_seconds": seconds})


def fingerprint_paths(
    paths: list[str], *, cache_path: Path, seconds: float, scheduler: str | None, n_workers: int
) -> tuple[dict[str, Fingerprint], int, int]:
    """Fingerprints of ``paths``, decoding only files the cache does not hold.

    Args:
        paths: absolute audio paths.
        cache_path: the Parquet cache (catalog.fingerprints); rewritten when anything was decoded.
        seconds: fingerprint length (part of the cache validity).
        scheduler: a dask scheduler address, None for a LocalCluster, or "sync" for in-process.
        n_workers: LocalCluster processes (no more than there are files to decode; logged).

    Returns:
        (path -> Fingerprint, files decoded, files served from the cache)
    """
    cache = load_cache(cache_path, seconds=seconds)
    keys = {p: file_key(p) for p in sorted(set(paths))}
    todo = [p for p, k in keys.items() if k not in cache]
    out = {p: cache[k] for p, k in keys.items() if k in cache}
    if todo:
        log.info("fingerprinting %d files (%d cached)", len(todo), len(out))
        if scheduler == SYNC:
            results = [fingerprint_file(p, seconds) for p in progress(todo, desc="fingerprint", unit="file")]
        else:
            with dask_client(scheduler=scheduler, workers=n_workers, tasks=len(todo), stage="mine") as client:
                # One task per file (see DESIGN.md: ~2 ms per task).
                futures = client.map(fingerprint_file, todo, seconds=seconds, pure=False)
                results = [f.result() for f in progress(futures, desc="fingerprint", unit="file")]
        for p, fp in zip(todo, results):
            out[p] = fp
            cache[keys[p]] = fp
        # A file rewritten since it was cached keeps only its new entry.
        current = set(keys.values())
        cache = {k: v for k, v in cache.items() if k[0] not in keys or k in current}
        save_cache(cache_path, cache, seconds=seconds)
    return out, len(todo), len(keys) - len(todo)
