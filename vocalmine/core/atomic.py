"""Atomic writes: write to a temp file beside the target, fsync, then rename.

A reader never sees a half-written file, and a killed writer leaves at most a
``*.tmp`` file that the next write of the same target replaces.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np

TMP_SUFFIX = ".tmp"
FULL_DISK_BYTES = 1 << 20  # a write that fails with less free space than this left ran out of space
TOKEN_CHARS = 8  # random hex characters that tell one temp file of a target from another


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it onto ``target`` on success.

    On an exception the temp file is removed and ``target`` is left untouched.
    The temp name keeps the target's suffix (libraries such as soundfile pick
    the format from it) and ends with ``.tmp`` before that suffix.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:TOKEN_CHARS]}{TMP_SUFFIX}{target.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the target path."""
    return write_bytes_atomic(target, text.encode("utf-8"))


def save_npy_atomic(target: str | os.PathLike, array: np.ndarray) -> Path:
    """Save ``array`` as a memory-mappable ``.npy`` file atomically (OSError(ENOSPC) when the disk fills)."""
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            try:
                np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
            except OSError as exc:
                if exc.errno is not None:
                    raise
                raise disk_full_or(exc, tmp) from exc  # numpy's short write: "N requested and M written"
    return Path(target)


def disk_full_or(exc: BaseException, path: str | os.PathLike) -> BaseException:
    """OSError(ENOSPC) naming ``path`` when its file system has (almost) no space left, else ``exc`` itself.

    For writers that report a write which ran out of space without an errno (libsndfile's "System error.",
    numpy's short write), so that callers can tell a full disk, and say so in one line.
    """
    try:
        stat = os.statvfs(Path(path).parent)
    except OSError:
        return exc
    if stat.f_bavail * stat.f_frsize < FULL_DISK_BYTES:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
    return exc


def remove_stale_temps(directory: str | os.PathLike) -> int:
    """Delete temp files a killed writer left in ``directory``; return how many."""
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    count = 0
    for path in directory.iterdir():
        if path.is_file() and path.name.startswith(".") and TMP_SUFFIX in path.name:
            path.unlink(missing_ok=True)
            count += 1
    return count


def remove_temps_of(target: str | os.PathLike) -> int:
    """Delete the temp files that killed writes of ``target`` left beside it (see :func:`atomic_path`); how many.

    Only ``target``'s own temps go, so writers of other files in the same folder are left alone.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return 0
    head, tail = f".{target.stem}.", f"{TMP_SUFFIX}{target.suffix}"
    count = 0
    for path in target.parent.iterdir():
        name = path.name
        if name.startswith(head) and name.endswith(tail) and len(name) == len(head) + TOKEN_CHARS + len(tail):
            path.unlink(missing_ok=True)
            count += 1
    return count
