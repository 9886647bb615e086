"""Preloaded into every Dask worker a vocalmine command starts (``distributed.worker.preload``).

A terminal's Ctrl-C reaches the whole foreground process group: the command and its
LocalCluster workers. The command alone answers it (one line, exit 130, see
``vocalmine.cli``) and stops its workers itself; a worker that also took the
KeyboardInterrupt would print tracebacks over that line, so workers ignore SIGINT.
"""

from __future__ import annotations

import signal
import threading


def ignore_sigint() -> None:
    """Ignore SIGINT in this process (only the main thread may change signal handlers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def dask_setup(worker=None) -> None:  # noqa: ARG001 - the preload hook's signature
    """Dask's preload hook, called when a worker starts."""
    ignore_sigint()


ignore_sigint()  # also on import: the hook runs late on some versions
