"""Mining benchmark: wall time, peak memory and pairs found on generated catalogs.

Catalogs have realistic artist blocks (log-normal sizes, median ~8 tracks, a
tail up to 2000) and ~15% instrumentals spelled as in real exports. Each run
is a fresh subprocess so peak RSS (ru_maxrss) is the run's own. The baseline
is what a user would otherwise write: all-pairs rapidfuzz over instrumental x
original titles (process.cdist, every core), same-artist filtered afterwards;
it runs on the sizes where it finishes and is extrapolated quadratically.

    python bench/bench_mining.py --sizes 1e5 1e6 [--engine pandas|dask] [--baseline-sizes 1e3 1e4]

Real catalogs (../shared/data/catalogs) are mined by bench/bench_real_catalogs.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
MARKERS = [" (Instrumental)", " - Instrumental", " [Instrumental Version]", " (Instrumental Mix)", " (Inst.)"]
QUALS = ["", "", "", "", " (Radio Edit)", " (Live)", " (Remix)", " - Remastered 2011", " (feat. Guest)"]


def generate(n: int, path: Path, seed: int = 0) -> None:
    """Write a catalog of about ``n`` rows (track_id, artist, title, duration ms)."""
    rng = np.random.default_rng(seed)
    # pseudo-words of 3-9 letters: "w0001"-style tokens would share characters and inflate fuzzy scores
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, size=int(rng.integers(3, 10)))).title() for _ in range(4000)], dtype=object)
    sizes = []
    total = 0
    while total < n:
        s = int(min(2000, max(1, rng.lognormal(np.log(8), 1.0))))
        sizes.append(s)
        total += s
    rows = []
    tid = 0
    for a, size in enumerate(sizes):
        artist = f"Artist {a:07d}"
        n_inst = int(round(size * 0.15 + rng.random() - 0.5)) if size > 1 else 0
        n_orig = size - n_inst
        words = rng.choice(vocab, size=(n_orig, 3))
        nwords = rng.integers(1, 4, size=n_orig)
        quals = rng.choice(QUALS, size=n_orig)
        durs = rng.uniform(120_000, 400_000, size=n_orig).round()
        titles = [" ".join(w[:k]) + q for w, k, q in zip(words, nwords, quals)]
        for t, d in zip(titles, durs):
            rows.append((f"T{tid:08d}", artist, t, int(d)))
            tid += 1
        for k in range(n_inst):
            j = int(rng.integers(0, n_orig))
            base = titles[j] if rng.random() < 0.9 else "orphan " + " ".join(rng.choice(vocab, size=2))
            mark = MARKERS[int(rng.integers(0, len(MARKERS)))]
            rows.append((f"T{tid:08d}", artist, base + mark, int(durs[j] + rng.normal(0, 1500))))
            tid += 1
    order = rng.permutation(len(rows))
    with path.open("w", encoding="utf-8") as fh:
        fh.write("track_id,artist,title,duration_ms\n")
        for i in order:
            t, a, title, d = rows[i]
            fh.write(f'{t},{a},"{title}",{d}\n')


YAML = """tracks:
  path: {csv}
  audio_root: {work}
  duration_unit: ms
  columns: {{track_id: track_id, artist: artist, title: title, duration: duration_ms}}
pairs: {work}/pairs.parquet
rejects: {work}/rejects.parquet
fingerprints: {work}/fingerprints.parquet
shards: {work}/shards
report: {work}/report
models: {work}/models
eval_set: {{path: {work}/eval.csv, audio_root: {work}}}
evaluation: {work}/evaluation
separated: {work}/separated
"""


def run_child(args: argparse.Namespace) -> None:
    """Inside the measuring subprocess: mine once and print JSON."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.mining.config import MiningConfig
    from vocalmine.mining.mine import mine

    catalog = load_catalog(args.child)
    start = time.perf_counter()
    summary = mine(catalog=catalog, engine=args.engine, scheduler="sync", config=MiningConfig(dask_partitions=args.partitions))
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb = usage.ru_maxrss / 1024
    print(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall, "peak_mb": peak_mb, "pairs": summary.pairs, "rows": summary.rows_read, "candidates": summary.candidates}))


def measure(csv: Path, work: Path, engine: str, partitions: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    yaml_file = work / "data_catalog.yaml"
    yaml_file.write_text(YAML.format(csv=csv, work=work), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(yaml_file), "--engine", engine, "--partitions", str(partitions)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline(csv: Path) -> dict:
    """All-pairs rapidfuzz over instrumental x original titles, then same-artist filter."""
    import pandas as pd
    from rapidfuzz import fuzz, process

    df = pd.read_csv(csv, dtype=str)
    inst = df["title"].str.contains("instrumental|inst\\.", case=False)
    ti = df.loc[inst, "title"].str.lower().str.replace(r"[\(\[\-].*instrument.*|\(inst\.\)", "", regex=True).str.strip().tolist()
    to = df.loc[~inst, "title"].str.lower().tolist()
    start = time.perf_counter()
    scores = process.cdist(ti, to, scorer=fuzz.ratio, score_cutoff=90, workers=-1, dtype=np.uint8)
    ii, oo = np.nonzero(scores)
    ai = df.loc[inst, "artist"].to_numpy()[ii]
    ao = df.loc[~inst, "artist"].to_numpy()[oo]
    wall = time.perf_counter() - start
    return {"wall_s": wall, "comparisons": len(ti) * len(to), "matches_same_artist": int((ai == ao).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="*", default=["1e5", "1e6"], help="catalog rows, e.g. 1e5 1e6 1e7")
    parser.add_argument("--baseline-sizes", nargs="*", default=["1e3", "1e4"], help="sizes for the all-pairs baseline")
    parser.add_argument("--engine", choices=["pandas", "dask"], default="pandas")
    parser.add_argument("--partitions", type=int, default=8, help="dask engine partitions")
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median reported)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vocalmine-bench", help="where generated catalogs are kept")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"# mining benchmark, engine={args.engine}, {os.cpu_count()} CPUs")
    base_rate = None
    for size in args.baseline_sizes:
        n = int(float(size))
        csv = args.cache / f"catalog-{n}.csv"
        if not csv.exists():
            generate(n, csv)
        b = baseline(csv)
        base_rate = b["wall_s"] / max(1, b["comparisons"])
        mined = measure(csv, args.cache / f"work-{n}-{args.engine}", args.engine, args.partitions)
        print(f"baseline all-pairs n={n:>9,}: {b['wall_s']:8.2f} s, {b['comparisons']:,} comparisons, {b['matches_same_artist']} same-artist matches "
              f"| vocalmine {mined['wall_s']:.2f} s, {mined['pairs']} pairs")
    for size in args.sizes:
        n = int(float(size))
        csv = args.cache / f"catalog-{n}.csv"
        if not csv.exists():
            t0 = time.perf_counter()
            generate(n, csv)
            print(f"(generated {csv} in {time.perf_counter() - t0:.0f} s)")
        runs = [measure(csv, args.cache / f"work-{n}-{args.engine}", args.engine, args.partitions) for _ in range(args.repeats)]
        wall = float(np.median([r["wall_s"] for r in runs]))
        peak = max(r["peak_mb"] for r in runs)
        cpu = float(np.median([r["cpu_s"] for r in runs]))
        line = f"vocalmine n={runs[0]['rows']:>10,}: {wall:8.2f} s wall (median of {len(runs)}), {cpu:.1f} s CPU incl. imports, peak {peak:7.0f} MB, {runs[0]['candidates']:,} candidates, {runs[0]['pairs']:,} pairs"
        if base_rate:
            inst = 0.15 * runs[0]["rows"]
            est = base_rate * inst * (runs[0]["rows"] - inst)
            line += f" | all-pairs baseline extrapolated {est:,.0f} s ({est / wall:,.0f}x)"
        print(line)
    if (SHARED / "catalogs").is_dir():
        print("real catalogs: run bench/bench_real_catalogs.py (every pair and every unpaired marker row, per --missing-duration)")
    else:
        print(f"skipped real catalogs: {SHARED / 'catalogs'} is absent")


if __name__ == "__main__":
    main()
