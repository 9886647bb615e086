"""Benchmark of the content-dedupe step of `mine` (mining/dedupe.py) on a large generated set of pairs.

Pairs with decoded-file summaries and content fingerprints, a share of them
undecodable, mislabelled (same content on both sides) or re-released (the same
two recordings as an earlier pair): the product's column-wise pass against the
row loop a user would write first (``DataFrame.iterrows``, the product's former
code), checked to give the same kept pairs and rejects. Prints medians of
--repeats runs and the ratio.

    .venv/bin/python bench/bench_dedupe.py [--pairs 200000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.dedupe import _reject, dedupe_pairs
from vocalmine.mining.fingerprint import FileSummary
from vocalmine.mining.matching import sorted_by_ids


def row_loop(pairs: pd.DataFrame, *, summaries: dict, canonical: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The baseline: the same decisions, one row at a time."""
    pairs = sorted_by_ids(pairs.assign(
        original_fingerprint=[canonical.get(p, "") for p in pairs["original_path"]],
        instrumental_fingerprint=[canonical.get(p, "") for p in pairs["instrumental_path"]],
    ), ["original_id", "instrumental_id"])
    rejects, keep, seen = [], [], {}
    for _, pair in pairs.iterrows():
        bad_i = summaries[pair["instrumental_path"]].error
        bad_o = summaries[pair["original_path"]].error
        if bad_i or bad_o:
            track = pair["instrumental_id"] if bad_i else pair["original_id"]
            rejects.append(_reject(pair, R.UNDECODABLE, track, bad_i or bad_o))
            continue
        if pair["original_fingerprint"] == pair["instrumental_fingerprint"]:
            detail = (f"instrumental {pair['instrumental_id']} decodes to the same audio as original "
                      f"{pair['original_id']} (fingerprint {pair['original_fingerprint']})")
            rejects.append(_reject(pair, R.SAME_CONTENT, pair["instrumental_id"], detail))
            continue
        content = (pair["original_fingerprint"], pair["instrumental_fingerprint"])
        if content in seen:
            rejects.append(_reject(pair, R.DUPLICATE_RECORDING, pair["instrumental_id"],
                                   f"same recordings as the kept pair {seen[content]}"))
            continue
        seen[content] = f"{pair['original_id']} + {pair['instrumental_id']}"
        keep.append(pair.name)
    return (pairs.loc[keep].reset_index(drop=True),
            pd.DataFrame(rejects, columns=["stage", "reason", "track_id", "pair_id", "detail", "row"]))


def generate(n: int, seed: int) -> tuple[pd.DataFrame, dict, dict]:
    """n pairs over 2n files: 1% undecodable files, 1% mislabelled pairs, 2% re-released pairs."""
    rng = np.random.default_rng(seed)
    paths = [f"audio/{k:08d}.wav" for k in range(2 * n)]
    summaries = {p: FileSummary(duration_s=180.0, error="cannot decode" if rng.random() < 0.01 else "",
                                signature=None, digest="") for p in paths}
    canonical = {p: f"{k:016x}" for k, p in enumerate(paths)}
    originals, instrumentals = paths[:n], paths[n:]
    for k in np.flatnonzero(rng.random(n) < 0.01):  # an instrumental that is the original again
        canonical[instrumentals[k]] = canonical[originals[k]]
    for k in np.flatnonzero(rng.random(n) < 0.02):  # a re-release of an earlier pair's two recordings
        j = int(rng.integers(0, n))
        canonical[originals[k]], canonical[instrumentals[k]] = canonical[originals[j]], canonical[instrumentals[j]]
    ids = rng.permutation(n)
    pairs = pd.DataFrame({"pair_id": [f"{k:016x}" for k in ids], "original_id": [f"o{k:08d}" for k in ids],
                          "instrumental_id": [f"i{k:08d}" for k in ids], "original_path": originals,
                          "instrumental_path": instrumentals})
    return pairs, summaries, canonical


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pairs, summaries, canonical = generate(args.pairs, args.seed)
    times: dict[str, list[float]] = {"dedupe_pairs": [], "iterrows loop": []}
    results = {}
    for _ in range(args.repeats):
        for name, fn in (("dedupe_pairs", dedupe_pairs), ("iterrows loop", row_loop)):
            started = time.perf_counter()
            results[name] = fn(pairs, summaries=summaries, canonical=canonical)
            times[name].append(time.perf_counter() - started)
    (kept, rejects), (kept_ref, rejects_ref) = results["dedupe_pairs"], results["iterrows loop"]
    same = kept.equals(kept_ref) and rejects.equals(rejects_ref)
    print(f"{args.pairs:,} pairs: {len(kept):,} kept, rejects {rejects['reason'].value_counts().to_dict()}; "
          f"same as the loop: {same}")
    for name, values in times.items():
        print(f"{name:<14} median {statistics.median(values):7.2f} s  (min {min(values):.2f}, max {max(values):.2f})")
    ratio = statistics.median(times["iterrows loop"]) / statistics.median(times["dedupe_pairs"])
    print(f"speed-up: {ratio:.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
