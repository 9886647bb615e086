"""One writer per output folder: an exclusive lock on a file inside it, held while a stage runs.

`mine`, `build`, `export-dataset` and `train` each hold the folder they write for as long as they run, so
two runs never mix their shards, tables, track folders or checkpoints, and neither deletes the other's
temp files. The lock is flock(2) on ``.vocalmine-<stage>.lock``: the kernel drops it when the holder exits
however it exits (kill -9 included), so a dead holder never blocks the next run. The file holds the
holder's description (pid, host, command, start time) for the one line a second run prints.

Where a file system does not support flock, the description alone decides: a holder on this host whose
pid is gone is taken over (best effort: two runs starting in the same instant could both proceed).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import logging
import os
import shlex
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from vocalmine.core.errors import VocalmineError

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

LOCK_PREFIX, LOCK_SUFFIX = ".vocalmine-", ".lock"
COMMAND_CHARS = 160  # the holder's command line is cut to this length, so the message stays one readable line
_NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)  # file systems without flock
_held: set[int] = set()  # descriptors of the locks this process holds (closed in forked children)


class FolderBusyError(VocalmineError):
    """Another process holds the folder a stage is about to write."""


@dataclass(frozen=True)
class Holder:
    """Who holds a folder, as written in its lock file."""

    pid: int
    host: str
    stage: str
    command: str
    since: float  # start time, seconds since the epoch

    def describe(self) -> str:
        started = datetime.fromtimestamp(self.since, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return (f"pid {self.pid} on {self.host} (`{self.command}`), running since {started} "
                f"({_duration(time.time() - self.since)})")


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def lock_path(folder: str | os.PathLike, stage: str) -> Path:
    """The lock file of ``stage`` in ``folder``."""
    return Path(folder) / f"{LOCK_PREFIX}{stage}{LOCK_SUFFIX}"


def command_line() -> str:
    """This process's command line as a user typed it (``vocalmine build ...`` rather than a path to __main__.py)."""
    argv = list(sys.argv) or ["python"]
    head = Path(argv[0])
    name = head.parent.name if head.name == "__main__.py" else head.name
    text = shlex.join([name or "python", *argv[1:]])
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 3] + "..."


def _me(stage: str) -> Holder:
    return Holder(pid=os.getpid(), host=socket.gethostname(), stage=stage, command=command_line(), since=time.time())


def _read_holder(fd: int) -> Holder | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["stage"]), str(data["command"]),
                      float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_holder(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(holder)).encode("utf-8"), 0)


def _busy(folder: Path, stage: str, holder: Holder | None) -> FolderBusyError:
    who = holder.describe() if holder else "another process (it has not described itself yet)"
    return FolderBusyError(f"{folder}: in use by {who}; another `{stage}` is writing here: wait for it to end "
                           "or stop it, then run again")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _close_in_child() -> None:
    # A forked child (a DataLoader worker) shares the lock; closing its copy leaves the lock to the parent
    # alone, so that a parent killed with -9 frees the folder even while such a child lingers.
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


def _acquire(folder: Path, stage: str) -> tuple[int, bool]:
    """An open descriptor of the lock file, locked; and whether flock holds it (False: the fallback)."""
    path = lock_path(folder, stage)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            if holder is None:  # the holder has just taken it and not yet written its description
                time.sleep(0.2)
                holder = _read_holder(fd)
            os.close(fd)
            raise _busy(folder, stage, holder) from None
        except OSError as exc:
            if exc.errno not in _NO_FLOCK:
                os.close(fd)
                raise
            return _acquire_without_flock(fd, folder, stage), False
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, True
        os.close(fd)  # the previous holder removed the file between our open and our flock: lock the new one


def _acquire_without_flock(fd: int, folder: Path, stage: str) -> int:
    holder = _read_holder(fd)
    if holder is not None and holder.pid != os.getpid():
        if holder.host != socket.gethostname() or _alive(holder.pid):
            os.close(fd)
            raise _busy(folder, stage, holder)
        log.warning("%s: taking over from pid %d, which is gone", lock_path(folder, stage), holder.pid)
    return fd


@contextlib.contextmanager
def hold_folder(folder: str | os.PathLike, stage: str) -> Iterator[Path]:
    """Hold ``folder`` (created if missing) for ``stage`` for the duration of the block.

    Args:
        folder: the folder the stage writes.
        stage: the stage's name; it names the lock file, so different stages may share a folder.

    Yields:
        The lock file's path.

    Raises:
        FolderBusyError: when another process holds the folder for ``stage``, naming it.
        VocalmineError: when the folder or the lock file cannot be created.
    """
    folder = Path(folder)
    created = [p for p in (folder, *folder.parents) if not p.exists()]  # removed again if the stage leaves them empty
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, flocked = _acquire(folder, stage)
    except OSError as exc:
        raise VocalmineError(f"{lock_path(folder, stage)}: cannot create the lock file "
                             f"({exc.strerror or exc})") from exc
    _held.add(fd)
    with contextlib.suppress(OSError):  # on a full disk the lock holds without its description
        _write_holder(fd, _me(stage))
    try:
        yield lock_path(folder, stage)
    finally:
        # Removed while still locked: a run waiting on the old file sees it gone and locks a new one.
        with contextlib.suppress(OSError):
            lock_path(folder, stage).unlink()
        _held.discard(fd)
        with contextlib.suppress(OSError):
            if flocked:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        for path in created:  # an empty run folder would read as a model set, say
            with contextlib.suppress(OSError):
                path.rmdir()


def holding(stage: str, folder_of: Callable[..., str | os.PathLike | None]) -> Callable[[F], F]:
    """Decorate a stage's keyword-only library function so that it runs holding its output folder.

    Args:
        stage: the stage's name (see :func:`hold_folder`).
        folder_of: called with the function's keyword arguments; the folder to hold, or None to hold none
            (a torchrun rank other than 0, say).
    """

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            folder = folder_of(**kwargs)
            with hold_folder(folder, stage) if folder is not None else contextlib.nullcontext():
                return fn(**kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
