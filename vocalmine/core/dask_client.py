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
    from dask.distributed import Client, LocalCluster

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
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=quiet) as cluster, Client(cluster) as client:
        yield client
