"""The one Dask client set-up of every distributed stage (mine, build, evaluate).

A LocalCluster of single-threaded worker processes by default, or an existing
scheduler when its address is given. The worker count is logged, and when it
is smaller than asked for the log says why: nothing is capped silently.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

from vocalmine.core.errors import VocalmineError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def dask_client(*, scheduler: str | None, workers: int, tasks: int | None = None,
                stage: str = "dask") -> Iterator[object]:
    """A ``distributed.Client``, closed (with its LocalCluster) on exit.

    Args:
        scheduler: address of a running scheduler (``tcp://host:8786``); None starts a LocalCluster.
        workers: LocalCluster worker processes (one thread each) when no scheduler is given.
        tasks: number of tasks to come, when known: a LocalCluster never starts more workers
            than there are tasks (each costs about a second to start), and says so.
        stage: the stage name, for the log.

    Raises:
        VocalmineError: when the scheduler cannot be reached (one line naming the address).
    """
    from dask.distributed import Client

    # The p2p shuffle logs each shuffle's start and end at WARNING in the scheduler (this process for a
    # LocalCluster): routine, not a warning.
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise VocalmineError(f"{stage}: cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        try:
            log.info("%s: scheduler %s with %d workers", stage, scheduler,
                     len(client.scheduler_info().get("workers", {})))
            yield client
        finally:
            client.close()
        return
    n = max(1, workers if tasks is None else min(workers, tasks))
    if n < workers:
        log.info("%s: LocalCluster of %d workers (asked for %d; only %d tasks)", stage, n, workers, tasks)
    else:
        log.info("%s: LocalCluster of %d workers", stage, n)
    # worker processes log to stderr by themselves; at shutdown on a loaded machine a heartbeat can race the
    # closing scheduler and print a traceback for nothing (task errors still reach this client as exceptions)
    quiet = logging.CRITICAL if logging.getLogger().getEffectiveLevel() > logging.INFO else logging.INFO
    with local_cluster(n, silence_logs=quiet) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def local_cluster(workers: int, *, silence_logs: int = logging.WARNING) -> Iterator[object]:
    """A LocalCluster of ``workers`` single-threaded processes whose C allocator keeps its default tuning.

    Dask starts worker processes with MALLOC_TRIM_THRESHOLD_=65536 so that freed memory goes back to the
    system at once. Setting it also freezes glibc's mmap threshold at 128 KiB, so every array a task makes
    (a song, its spectrogram) is mapped afresh and page-faulted in: `build` ran 1.6x slower per core in a
    worker than in one process, `mine` of 10^7 rows 1.2x. Our tasks hold a bounded working set each, so the
    default tuning is kept, with two malloc arenas instead of one per thread: a worker's threads (event
    loop, comms, the task) each held freed memory of their own, 0.6 GB more over `mine`'s 10^7 rows.
    """
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                          "distributed.nanny.pre-spawn-environ.MALLOC_ARENA_MAX": 2}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=silence_logs)
    with cluster:
        yield cluster
