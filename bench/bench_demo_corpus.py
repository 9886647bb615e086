"""Benchmark: time and size of the default demo corpus (`vocalmine demo-data`).

Generates the default corpus (40 songs of 20-32 s, 8 eval songs) into a temp
folder, once per worker count, and prints wall time, CPU time, size and the
real-time factor against the audio it wrote. The issue asks for under a minute
on 2 cores. Needs no data set (the corpus is generated), so it never skips.

    .venv/bin/python bench/bench_demo_corpus.py [--repeats N] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from vocalmine.demo.corpus import generate_corpus

TARGET_S = 60.0  # the budget for the default corpus on 2 cores


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1, help="generations per worker count (median reported)")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="process counts to compare")
    args = parser.parse_args()
    for workers in args.workers:
        walls, cpus, summary = [], [], None
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                cpu0 = time.process_time() + _children_cpu()
                summary = generate_corpus(Path(tmp) / "demo", workers=workers)
                cpus.append(time.process_time() + _children_cpu() - cpu0)
                walls.append(summary.elapsed_s)
        wall = statistics.median(walls)
        print(f"workers={workers}: median {wall:.1f} s wall, {statistics.median(cpus):.1f} s CPU over {args.repeats} run(s); "
              f"{wall / TARGET_S:.2f} x the {TARGET_S:.0f} s budget")
        print(f"  {summary.tracks} tracks ({summary.audio_seconds / 60:.1f} min of audio), {summary.true_pairs} true pairs, "
              f"{summary.eval_songs} eval songs, {summary.bytes / 1e6:.1f} MB; "
              f"{summary.audio_seconds / wall:.0f}x real time")


if __name__ == "__main__":
    main()
