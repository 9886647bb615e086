"""Mining benchmark: wall time, peak memory and pairs found on generated catalogs.

Catalogs have realistic artist blocks (log-normal sizes, median ~8 tracks, a
tail up to 2000) and ~15% instrumentals spelled as in real exports. Each run is
the `vocalmine mine` command as a user runs it (the dask engine on its
LocalCluster of 2 worker processes), with wall time and the peak memory summed
over every process it starts, sampled every 0.2 s. The bench prints the growth
of time and memory per 10x rows, and checks that the engines write identical
pairs, rejects and unpaired tables where both ran. The baseline is what a user
would otherwise write: all-pairs rapidfuzz over instrumental x original titles
(process.cdist, every core), same-artist filtered afterwards; it runs on the
sizes where it finishes and is extrapolated quadratically.

    python bench/bench_mining.py --sizes 1e5 1e6 1e7 --engines pandas dask [--baseline-sizes 1e3 1e4]

Real catalogs (../shared/data/catalogs) are mined by bench/bench_real_catalogs.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from process_tree import run_measured

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
MARKERS = [" (Instrumental)", " - Instrumental", " [Instrumental Version]", " (Instrumental Mix)", " (Inst.)"]
QUALS = ["", "", "", "", " (Radio Edit)", " (Live)", " (Remix)", " - Remastered 2011", " (feat. Guest)"]


def generate(n: int, path: Path, seed: int = 0) -> None:
    """Write a catalog of about ``n`` rows (track_id, artist, title, duration ms)."""
    rng = np.random.default_rng(seed)
    # pseudo-words of 3-9 letters: "w0001"-style tokens would share characters and inflate fuzzy scores
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, size=int(rng.integers(3, 10)))).title() for _ in range(4000)],
                     dtype=object)
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


def measure(csv: Path, work: Path, engine: str, *, verbose: bool = False) -> dict:
    """`vocalmine mine` on ``csv``: wall seconds, peak RSS summed over its process tree, and its summary."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.parquet"):
        old.unlink()
    yaml_file = work / "data_catalog.yaml"
    yaml_file.write_text(YAML.format(csv=csv, work=work), encoding="utf-8")
    cmd = [str(Path(sys.executable).with_name("vocalmine")), *(["-v"] if verbose else []), "--catalog", str(yaml_file),
           "mine", "--engine", engine]
    run = run_measured(cmd, work / "mine.log")
    wall, peak = run["wall_s"], run["peak_gb"] * 2**30
    if run["rc"]:
        raise SystemExit(f"vocalmine mine failed (exit {run['rc']}); see {work / 'mine.log'}")
    import pandas as pd

    pairs = pd.read_parquet(work / "pairs.parquet")
    unpaired = pd.read_parquet(work / "unpaired.parquet", columns=["track_id"])
    rejects = pd.read_parquet(work / "rejects.parquet", columns=["stage"])
    return {"wall_s": wall, "peak_mb": peak / 2**20, "peak_at_s": run["peak_at_s"], "pairs": len(pairs),
            "unpaired": len(unpaired),
            "rows": len(pairs) * 2 + len(unpaired) + int((rejects["stage"] == "ingest").sum())}


def same_tables(a: Path, b: Path) -> bool:
    """Whether two mine runs wrote identical pairs, rejects and unpaired tables."""
    import pandas as pd

    for name in ("pairs", "rejects", "unpaired"):
        try:
            pd.testing.assert_frame_equal(pd.read_parquet(a / f"{name}.parquet"),
                                          pd.read_parquet(b / f"{name}.parquet"))
        except AssertionError:
            return False
    return True


def baseline(csv: Path) -> dict:
    """All-pairs rapidfuzz over instrumental x original titles, then same-artist filter."""
    import pandas as pd
    from rapidfuzz import fuzz, process

    df = pd.read_csv(csv, dtype=str)
    inst = df["title"].str.contains("instrumental|inst\\.", case=False)
    ti = (df.loc[inst, "title"].str.lower().str.replace(r"[\(\[\-].*instrument.*|\(inst\.\)", "", regex=True)
          .str.strip().tolist())
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
    parser.add_argument("--engines", nargs="+", choices=["pandas", "dask"], default=["pandas", "dask"])
    parser.add_argument("--repeats", type=int, default=1, help="runs per size (median reported)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vocalmine-bench",
                        help="where generated catalogs are kept")
    parser.add_argument("--verbose", action="store_true",
                        help="run `vocalmine -v mine`: each run's log (work-N-ENGINE/mine.log) then holds the dask "
                             "engine's phase times")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"# mining benchmark: `vocalmine mine` per engine, {os.cpu_count()} CPUs")
    base_rate = None
    for size in args.baseline_sizes:
        n = int(float(size))
        csv = args.cache / f"catalog-{n}.csv"
        if not csv.exists():
            generate(n, csv)
        b = baseline(csv)
        base_rate = b["wall_s"] / max(1, b["comparisons"])
        print(f"baseline all-pairs n={n:>9,}: {b['wall_s']:8.2f} s, {b['comparisons']:,} comparisons, "
              f"{b['matches_same_artist']} same-artist matches")
    previous: dict[str, dict] = {}
    for size in args.sizes:
        n = int(float(size))
        csv = args.cache / f"catalog-{n}.csv"
        if not csv.exists():
            t0 = time.perf_counter()
            generate(n, csv)
            print(f"(generated {csv} in {time.perf_counter() - t0:.0f} s)")
        for engine in args.engines:
            work = args.cache / f"work-{n}-{engine}"
            runs = [measure(csv, work, engine, verbose=args.verbose) for _ in range(args.repeats)]
            wall = float(np.median([r["wall_s"] for r in runs]))
            peak = max(r["peak_mb"] for r in runs)
            line = (f"{engine:>6} n={runs[0]['rows']:>10,}: {wall:7.1f} s wall (median of {len(runs)}), peak "
                    f"{peak:7.0f} MB summed over processes (at {runs[0]['peak_at_s']:.0f} s of run 1), "
                    f"{runs[0]['pairs']:,} pairs")
            last = previous.get(engine)
            if last:
                line += (f" | growth per {n / last['n']:.0f}x rows: time {wall / last['wall']:.1f}x, "
                         f"memory {peak / last['peak']:.1f}x")
            if base_rate:
                inst = 0.15 * runs[0]["rows"]
                est = base_rate * inst * (runs[0]["rows"] - inst)
                line += f" | all-pairs baseline extrapolated {est:,.0f} s ({est / wall:,.0f}x)"
            print(line, flush=True)
            previous[engine] = {"n": n, "wall": wall, "peak": peak}
        if len(args.engines) == 2:
            same = same_tables(args.cache / f"work-{n}-pandas", args.cache / f"work-{n}-dask")
            print(f"  n={n:,}: pandas and dask tables {'identical' if same else 'DIFFER'}")
    if (SHARED / "catalogs").is_dir():
        print("real catalogs: run bench/bench_real_catalogs.py (every pair and every unpaired marker row, "
              "per --missing-duration)")
    else:
        print(f"skipped real catalogs: {SHARED / 'catalogs'} is absent")


if __name__ == "__main__":
    main()
