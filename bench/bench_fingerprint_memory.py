"""Benchmark: peak memory of `mine`'s content stage with song-length fingerprints.

`mine` fingerprints the first 90 s of every candidate's file: an envelope of
720 frames x 16 bands, 11.5 KB. The previous version held every envelope in the
client for the content stage; now the client holds a FileSummary per file
(signature, digest, duration) and reads envelopes back from the Parquet cache
only for the pairs the content index compares, COMPARE_CHUNK pairs at a time.

This bench writes a cache of --files synthetic song fingerprints (empty files
stand in for the audio, so that the cache keys match; 2% of the songs have a
lossy-like copy), then runs the content stage both ways, each in a fresh
process, and prints each one's peak RSS, wall time and comparison count, and
whether the two found the same groups:

    .venv/bin/python bench/bench_fingerprint_memory.py --files 100000 --work /tmp/vocalmine-fpmem
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SECONDS = 90.0  # MiningConfig's fingerprint_seconds
FRAMES = 720  # 90 s of 1024-sample frames at 8192 Hz


def generate(work: Path, n: int, seed: int) -> list[str]:
    """n empty stand-in files and a cache of their synthetic fingerprints; the paths."""
    from vocalmine.mining import fingerprint_cache as fc
    from vocalmine.mining.fingerprint import Fingerprint, file_key

    rng = np.random.default_rng(seed)
    paths = []
    for k in range(n):
        folder = work / "files" / f"{k // 1000:04d}"
        if k % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{k:07d}.wav"
        path.touch()
        paths.append(str(path))

    def rows():
        levels = None
        for k, path in enumerate(paths):
            if k % 50 == 1 and levels is not None:  # a copy of the previous song (codec noise)
                cells = levels + rng.normal(0, 0.4, levels.shape)
            else:
                shape = 50 + rng.uniform(-2.0, 0.5) * np.arange(16) + rng.normal(0, 4, 16)
                rhythm = 8 * np.sin(np.arange(FRAMES) / rng.uniform(1, 4))[:, None]
                levels = np.clip(shape[None, :] + rng.normal(0, 3, (FRAMES, 16)) + rhythm, 10, 80)
                duration = float(rng.integers(120, 300))
                cells = levels
            q = np.clip(np.round(cells / 0.5), 0, 160).astype(np.uint8)
            yield file_key(path), Fingerprint(q.tobytes(), FRAMES, duration, "")

    fc._write(rows(), work / "fingerprints.parquet", SECONDS)
    return paths


def child(mode: str, work: Path) -> None:
    """One way of running the content stage; prints its figures as JSON."""
    from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA
    from vocalmine.core.tables import read_table
    from vocalmine.mining import fingerprint_cache as fc
    from vocalmine.mining.fingerprint import Fingerprint, content_groups, group_contents

    cache = work / "fingerprints.parquet"
    paths = json.loads((work / "paths.json").read_text())
    start = time.perf_counter()
    if mode == "held":  # the previous version: the whole cache read, every envelope kept in the client
        table = read_table(cache, FINGERPRINTS_SCHEMA)
        prints = {p: Fingerprint(bytes(f), int(n), float(d), e) for p, n, d, f, e in
                  zip(table["path"], table["n_frames"], table["duration_s"], table["features"], table["error"])}
        del table
        canonical, compared = content_groups(prints, threshold_db=1.0)
    else:
        summaries, decoded, _ = fc.fingerprint_paths(paths, cache_path=cache, seconds=SECONDS, scheduler="sync",
                                                     n_workers=1)
        assert decoded == 0
        load = fc.envelope_loader(cache, summaries, seconds=SECONDS)
        canonical, compared = group_contents(summaries, load=load, threshold_db=1.0)
    wall = time.perf_counter() - start
    groups = hashlib.sha1(json.dumps(sorted(canonical.items())).encode()).hexdigest()[:12]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "peak_mb": peak_mb, "seconds": wall, "compared": compared,
                      "groups": len(set(canonical.values())), "digest": groups}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-fpmem"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("held", "streamed"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    listed = args.work / "paths.json"
    if not listed.is_file() or len(json.loads(listed.read_text())) != args.files:
        start = time.perf_counter()
        paths = generate(args.work, args.files, args.seed)
        listed.write_text(json.dumps(paths))
        size = (args.work / "fingerprints.parquet").stat().st_size
        print(f"(generated {args.files:,} fingerprints, cache {size / 2**20:.0f} MB, "
              f"in {time.perf_counter() - start:.0f} s)")
    envelopes_mb = args.files * FRAMES * 16 / 2**20
    print(f"# content stage of {args.files:,} song fingerprints ({envelopes_mb:,.0f} MB of envelopes), "
          "one process each")
    results = {}
    for mode in ("held", "streamed"):
        out = subprocess.run([sys.executable, __file__, "--work", str(args.work), "--child", mode],
                             capture_output=True, text=True, check=True)
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[mode]
        label = "every envelope in the client (previous)" if mode == "held" else "summaries, envelopes read back"
        print(f"  {label:>40}: peak {r['peak_mb']:7,.0f} MB, {r['seconds']:6.1f} s, {r['compared']:,} comparisons, "
              f"{r['groups']:,} groups")
    same = results["held"]["digest"] == results["streamed"]["digest"]
    ratio = results["held"]["peak_mb"] / results["streamed"]["peak_mb"]
    print(f"  same groups: {same}; peak memory ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()
