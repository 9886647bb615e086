"""Audio at catalog scale: ~10^5 short files mined and built, in bounded memory.

Generates a catalog of short WAV files (default 100,000 files of 2-4 s at 8 kHz, 40 songs per artist, durations
on a 0.5 s grid so that thousands share one), with re-released pairs (the same two recordings under other ids)
and mislabelled instrumentals (a copy of the original mix) spread through it, then measures:

1. decode + fingerprint at `mine`: files per second per core with batched Dask tasks (FILES_PER_TASK files
   each) against one task per file, in the same run, on the same files (a LocalCluster of 2 workers);
2. content dedupe: the comparisons the content index makes against the pairs of near-equal duration the
   previous sliding window compared, at growing catalog sizes, and whether it finds every planted copy;
3. `vocalmine mine` and `vocalmine build` end to end through the CLI on the whole catalog: wall time and the
   peak memory summed over every process (Dask workers included), sampled every 0.2 s;
4. `build` with one pair per task against pairs_per_shard=64, on the same pairs.

    python bench/bench_audio_scale.py --files 100000 --work /tmp/audio-scale

Nothing downloads; the audio is synthesised here (seed --seed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import soundfile as sf
from process_tree import run_measured

from vocalmine.core.catalog import catalog_for_corpus

RATE = 8000  # telephone rate: the fingerprint and the gate run at 8192 Hz, and 10^5 files fit in 5 GB
DURATIONS = np.arange(2.0, 4.01, 0.5)  # seconds: five values, so each is shared by a fifth of the catalog
TRACKS_PER_ARTIST = 40
REISSUE_SHARE = 0.03  # pairs released again under new ids (same recordings): duplicate_recording
MISLABEL_SHARE = 0.02  # "instrumentals" that are a copy of the original mix: same_content


def _song(rng: np.random.Generator, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """(accompaniment, voice) of one synthetic song: chords with a rhythm, a band of noise, a sung melody."""
    from scipy.signal import lfilter

    n = int(seconds * RATE)
    t = np.arange(n, dtype=np.float32) / RATE
    acc = np.zeros(n, np.float32)
    for _ in range(2):
        f0 = rng.uniform(60, 400)
        for k, amp in enumerate(rng.uniform(0.2, 1.0, 4) * np.arange(1, 5) ** -rng.uniform(0.5, 2.0), start=1):
            acc += np.float32(amp) * np.sin(np.float32(2 * np.pi * f0 * k) * t + np.float32(rng.uniform(0, 6)))
    beat = rng.uniform(1.5, 4.0)
    acc *= 0.55 + 0.45 * np.sin(np.float32(2 * np.pi * beat) * t + np.float32(rng.uniform(0, 6)))
    # a band of noise: a resonator at a random frequency (bright or dark songs)
    centre, width = rng.uniform(200, 3500), rng.uniform(0.02, 0.2)
    r, theta = 1 - width, 2 * np.pi * centre / RATE
    noise = lfilter([width], [1, -2 * r * np.cos(theta), r * r], rng.standard_normal(n)).astype(np.float32)
    acc += np.float32(rng.uniform(0.2, 1.5)) * noise / (np.abs(noise).mean() + 1e-9) * np.abs(acc).mean()
    notes = 200 * 2 ** (rng.integers(0, 18, int(seconds / 0.4) + 1) / 12)
    f = np.repeat(notes, int(0.4 * RATE))[:n] * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t))
    phase = (2 * np.pi * np.cumsum(f) / RATE).astype(np.float32)
    voice = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.3 * np.sin(3 * phase)
    voice *= 10 ** (rng.uniform(-6, 3) / 20) * np.abs(acc).mean() / (np.abs(voice).mean() + 1e-9)
    return acc, voice.astype(np.float32)


def _artist(root: Path, artist_number: int, seed: int) -> tuple[list[tuple], dict]:
    """Write one artist's TRACKS_PER_ARTIST songs (and their instrumentals, re-releases, mislabelled copies)."""
    rng = np.random.default_rng([seed, artist_number])
    artist = f"Artist {artist_number:05d}"
    folder = root / "audio" / artist.replace(" ", "_")
    folder.mkdir(parents=True, exist_ok=True)
    rows, truth = [], {"pairs": 0, "reissued": [], "mislabelled": []}
    for k in range(TRACKS_PER_ARTIST):
        track = artist_number * TRACKS_PER_ARTIST + k
        seconds = float(rng.choice(DURATIONS))
        acc, voice = _song(rng, seconds)
        mix = acc + voice
        peak = max(np.abs(mix).max(), np.abs(acc).max()) / 0.9
        title = f"Song {track:07d} {''.join(rng.choice(list('abcdefghij'), 5))}"
        orig = folder / f"{track:07d}.wav"
        sf.write(orig, mix / peak, RATE, subtype="PCM_16")
        rows.append((f"T{track:07d}", artist, title, f"{seconds:.2f}", str(orig.relative_to(root))))
        if rng.random() >= 0.6:
            continue
        inst = folder / f"{track:07d}-inst.wav"  # an instrumental release
        mislabelled = rng.random() < MISLABEL_SHARE
        sf.write(inst, (mix if mislabelled else acc) / peak, RATE, subtype="PCM_16")
        rows.append((f"T{track:07d}I", artist, f"{title} (Instrumental)", f"{seconds:.2f}",
                     str(inst.relative_to(root))))
        truth["pairs"] += 1
        if mislabelled:
            truth["mislabelled"].append(f"T{track:07d}I")
        elif rng.random() < REISSUE_SHARE:  # the same two recordings again, on a later release
            for suffix, src in (("R", orig), ("RI", inst)):
                copy = folder / f"{track:07d}-{suffix}.wav"
                copy.write_bytes(src.read_bytes())
                name = title + " (2011 Remaster)" + (" (Instrumental)" if suffix == "RI" else "")
                rows.append((f"T{track:07d}{suffix}", artist, name, f"{seconds:.2f}", str(copy.relative_to(root))))
            truth["reissued"].append(f"T{track:07d}RI")
    return rows, truth


def generate(root: Path, n_files: int, seed: int, workers: int) -> dict:
    """Write about ``n_files`` files under ``root`` (audio/ and catalog.csv), artists in parallel; the planted truth."""
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    files_per_artist = TRACKS_PER_ARTIST * (1 + 0.6 * (1 + 2 * REISSUE_SHARE))
    n_artists = max(1, round(n_files / files_per_artist))
    rows, truth = [], {"pairs": 0, "reissued": [], "mislabelled": []}
    with ProcessPoolExecutor(workers) as pool:
        for artist_rows, artist_truth in pool.map(partial(_artist, root, seed=seed), range(n_artists), chunksize=8):
            rows += artist_rows
            truth["pairs"] += artist_truth["pairs"]
            truth["reissued"] += artist_truth["reissued"]
            truth["mislabelled"] += artist_truth["mislabelled"]
    order = np.random.default_rng(seed).permutation(len(rows))  # catalogs are not sorted by artist
    with (root / "catalog.csv").open("w", encoding="utf-8") as fh:
        # the demo corpus's columns (core/catalog.py's template maps them; album, isrc and date left empty)
        fh.write("track_id,artist,title,duration,audio_path,album,isrc,release_date\n")
        for i in order:
            fh.write(",".join(f'"{v}"' for v in rows[i]) + ",,,\n")
    (root / "truth.json").write_text(json.dumps(truth))
    return truth


def fingerprint_speed(paths: list[str], work: Path, workers: int) -> dict:
    """files/s of decode + fingerprint, batched tasks against one task per file, same files, same cluster size."""
    from vocalmine.mining.fingerprint_cache import FILES_PER_TASK, fingerprint_paths

    out = {}
    for label, per_task in (("one task per file", 1), (f"{FILES_PER_TASK} files per task", FILES_PER_TASK)):
        cache = work / f"fp-{per_task}.parquet"
        cache.unlink(missing_ok=True)
        start = time.perf_counter()
        fingerprint_paths(paths, cache_path=cache, seconds=90.0, scheduler=None, n_workers=workers,
                          files_per_task=per_task)
        wall = time.perf_counter() - start
        out[label] = {"files": len(paths), "wall_s": wall, "files_per_s_per_core": len(paths) / wall / workers}
        print(f"  decode+fingerprint, {label:>22}: {len(paths):,} files in {wall:6.1f} s = "
              f"{len(paths) / wall / workers:6.1f} files/s per core ({workers} workers)")
    return out


def dedupe_growth(cache: Path, truth: dict, catalog_csv: Path, root: Path) -> list[dict]:
    """Comparisons of the content index against the old duration window, at growing sizes; planted copies found."""
    import pandas as pd

    from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA
    from vocalmine.core.tables import read_table
    from vocalmine.mining.fingerprint import Fingerprint, content_groups

    table = read_table(cache, FINGERPRINTS_SCHEMA)
    prints = {p: Fingerprint(bytes(f), int(n), float(d), e) for p, n, d, f, e in
              zip(table["path"], table["n_frames"], table["duration_s"], table["features"], table["error"])}
    rows = pd.read_csv(catalog_csv, dtype=str)
    path_of = {t: str(root / p) for t, p in zip(rows["track_id"], rows["audio_path"])}
    planted = [(path_of[t], path_of[t[:-2] + "I"]) for t in truth["reissued"]] + \
              [(path_of[t], path_of[t[:-1]]) for t in truth["mislabelled"]]
    keys = sorted(prints)  # by artist folder: a prefix is a smaller catalog of whole artists
    out = []
    for size in sorted({len(keys) // 100, len(keys) // 10, len(keys)}):
        subset = {k: prints[k] for k in keys[:size]}
        start = time.perf_counter()
        canonical, compared = content_groups(subset, threshold_db=1.0)
        wall = time.perf_counter() - start
        d = np.sort([fp.duration_s for fp in subset.values()])
        window = int(sum(np.searchsorted(d, d + 1.0, side="right") - np.arange(len(d)) - 1))
        found = [canonical.get(a) is not None and canonical.get(a) == canonical.get(b) for a, b in planted
                 if a in subset and b in subset]
        out.append({"files": len(subset), "compared": compared, "window_pairs": window, "seconds": wall,
                    "planted": len(found), "found": int(sum(found))})
        print(f"  dedupe {len(subset):>7,} files: {compared:>9,} full comparisons (previous window: {window:>14,}), "
              f"{wall:6.1f} s; planted copies found {sum(found)}/{len(found)}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/vocalmine-audio-scale"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--speed-files", type=int, default=4000, help="files for the batched vs per-file decode")
    parser.add_argument("--build-pairs", type=int, default=2000, help="pairs for the one-task-per-pair build")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    root, work = args.work / "corpus", args.work / "work"
    work.mkdir(parents=True, exist_ok=True)
    vm = [str(Path(sys.executable).with_name("vocalmine"))]
    if (root / "truth.json").is_file():
        truth = json.loads((root / "truth.json").read_text())
    else:
        start = time.perf_counter()
        truth = generate(root, args.files, args.seed, args.workers)
        print(f"(generated {args.files:,} files in {time.perf_counter() - start:.0f} s)")
    yaml_file = work / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, root, work), encoding="utf-8")
    n_files = sum(1 for _ in open(root / "catalog.csv")) - 1
    print(f"# audio at scale: {n_files:,} files, {truth['pairs']:,} true pairs, {len(truth['reissued'])} re-releases, "
          f"{len(truth['mislabelled'])} mislabelled, {os.cpu_count()} CPUs")
    figures: dict = {"files": n_files, "truth": {k: (v if isinstance(v, int) else len(v)) for k, v in truth.items()}}

    paths = sorted(str(p) for p in (root / "audio").rglob("*.wav"))[: args.speed_files]
    figures["fingerprint"] = fingerprint_speed(paths, work, args.workers)

    for f in (work / "fingerprints.parquet",):
        f.unlink(missing_ok=True)
    mine = run_measured([*vm, "--catalog", str(yaml_file), "mine", "--engine", "dask", "--workers", str(args.workers)],
                    work / "mine.log")
    import pandas as pd

    pairs = pd.read_parquet(work / "pairs.parquet")
    rejects = pd.read_parquet(work / "rejects.parquet")
    content = rejects[rejects["stage"] == "content"]["reason"].value_counts().to_dict()
    decoded = pd.read_parquet(work / "fingerprints.parquet")
    figures["mine"] = {**mine, "pairs": len(pairs), "content_rejects": content, "files_decoded": len(decoded),
                       "files_per_s_per_core": len(decoded) / mine["wall_s"] / args.workers}
    print(f"  vocalmine mine: {mine['wall_s']:.1f} s wall, peak {mine['peak_gb']:.2f} GB over all processes, "
          f"{len(decoded):,} files decoded ({len(decoded) / mine['wall_s'] / args.workers:.1f} files/s per core "
          f"including pairing), {len(pairs):,} pairs, content rejects {content}")
    figures["dedupe"] = dedupe_growth(work / "fingerprints.parquet", truth, root / "catalog.csv", root)

    build = run_measured([*vm, "--catalog", str(yaml_file), "build", "--workers", str(args.workers), "--set",
                      "pairs_per_shard=64"], work / "build.log")
    seconds = float(pairs["original_duration_s"].sum())
    figures["build"] = {**build, "pairs": len(pairs), "pair_seconds": seconds,
                        "realtime_per_core": seconds / build["wall_s"] / args.workers}
    print(f"  vocalmine build (64 pairs per task): {len(pairs):,} pairs, {build['wall_s']:.1f} s wall, peak "
          f"{build['peak_gb']:.2f} GB, {len(pairs) / build['wall_s'] / args.workers:.1f} pairs/s per core "
          f"({seconds / build['wall_s'] / args.workers:.0f}x realtime per core, start-up included)")
    # one task per pair against 64 per task, on the same first pairs
    sub = work / "sub"
    sub.mkdir(exist_ok=True)
    (sub / "data_catalog.yaml").write_text(catalog_for_corpus(sub / "data_catalog.yaml", root, sub), encoding="utf-8")
    table = pq.read_table(work / "pairs.parquet")  # its provenance kept: build reads it as mine wrote it
    order = np.argsort(np.asarray(table.column("pair_id").to_pylist()))[: args.build_pairs]
    pq.write_table(table.take(order), sub / "pairs.parquet")
    figures["build_tasks"] = {}
    for per_task in (1, 64):
        shutil.rmtree(sub / "shards", ignore_errors=True)
        run = run_measured([*vm, "--catalog", str(sub / "data_catalog.yaml"), "build", "--workers", str(args.workers),
                        "--set", f"pairs_per_shard={per_task}"], sub / f"build-{per_task}.log")
        rate = args.build_pairs / run["wall_s"] / args.workers
        figures["build_tasks"][per_task] = {**run, "pairs_per_s_per_core": rate}
        print(f"  build {args.build_pairs:,} pairs, {per_task:>2} per task: {run['wall_s']:6.1f} s, "
              f"{rate:6.1f} pairs/s per core, peak {run['peak_gb']:.2f} GB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=float))


if __name__ == "__main__":
    main()
