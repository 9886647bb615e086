"""Run a command and measure it as a user sees it: wall time, and peak memory summed over its process tree.

A stage that starts Dask workers uses memory in every one of them; the peak of the sum, sampled every 0.2 s,
is the figure the benches quote (ru_maxrss sees one process only).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path


def run_measured(cmd: list[str], log: Path, *, every_s: float = 0.2) -> dict:
    """Run ``cmd`` with its output in ``log``; {"rc", "wall_s", "peak_gb", "peak_at_s"} (peak RSS summed over the
    tree, and when it was seen, in seconds since the start)."""
    import psutil

    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        root, peak, peak_at = psutil.Process(proc.pid), 0, 0.0
        while proc.poll() is None:
            total = 0
            with contextlib.suppress(psutil.Error):
                for child in [root, *root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += child.memory_info().rss
            if total > peak:
                peak, peak_at = total, time.perf_counter() - start
            time.sleep(every_s)
    return {"rc": proc.returncode, "wall_s": time.perf_counter() - start, "peak_gb": peak / 2**30, "peak_at_s": peak_at}
