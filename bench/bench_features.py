"""Benchmark of `vocalmine build` on generated 3-minute 44.1 kHz WAV pairs.

Reports, as medians over repeats:
- realtime factor per core, end to end (decode both files, align, gain fit,
  STFT, patches, shard + part writing), in one process;
- the same through Dask with 1 and 2 worker processes (cluster started and
  warmed before timing), and the 1 -> 2 worker speed-up;
- a run's cost beside its groups (a build that finds every group finished), and
  the 1 -> 2 worker speed-up on a larger build (--scaling-pairs, the same files
  under new ids), where the groups outnumber the workers as in a real catalog;
- bytes of shard per second of audio;
- the trainer's loader on page-cached shards: random remixed crops per second as
  waveform batches, and with the batch STFTs that make X and Y_v; beside the
  former layout (fixed-grid spectrogram patches, rebuilt here from the same
  pairs) and its random patch reads;
against a baseline a user would otherwise write: librosa.load + librosa.stft
in a plain per-file loop writing one .npy per file (no alignment, no gain).
With --presets, a table per signal spec (vocalmine/core/spec.py): pairs per
second per core in one process, shard bytes per audio second, and the loader's
remixed crops per second with their spectrograms, at that spec.

Realtime factor is given two ways: per second of pair (the original's
duration) and per second of decoded audio (both files of the pair).

    .venv/bin/python bench/bench_features.py [--pairs 6] [--seconds 180] [--repeats 3] [--presets paper,16k,fullband]

The machine may be shared: timings are pessimistic when other jobs run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import soundfile as sf  # noqa: E402

from vocalmine.core.catalog import catalog_for_corpus, load_catalog  # noqa: E402
from vocalmine.core.dask_client import local_cluster  # noqa: E402
from vocalmine.core.constants import N_FFT, HOP_LENGTH, PATCH_FRAMES, SAMPLE_RATE  # noqa: E402
from vocalmine.core.tables import write_table  # noqa: E402
from vocalmine.features.config import FeaturesConfig, config_from_overrides  # noqa: E402
from vocalmine.features.group import process_group  # noqa: E402
from vocalmine.features.build import build  # noqa: E402
from vocalmine.core.contract.shards import open_shard  # noqa: E402
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, pair_id_for  # noqa: E402
from vocalmine.core.contract.shards import QUALITY_FILE

SR = 44100


def make_pair(folder: Path, k: int, seconds: float) -> dict:
    """A stereo 16-bit 44.1 kHz original and an offset, gain-changed instrumental."""
    rng = np.random.default_rng(k)
    n = int(seconds * SR)
    t = np.arange(n, dtype=np.float32) / SR
    acc = 0.05 * rng.standard_normal(n).astype(np.float32)
    for f in rng.uniform(80, 800, size=4):
        acc += np.float32(0.08) * np.sin(np.float32(2 * np.pi * f) * t + np.float32(rng.uniform(0, 6)))
    voc = np.float32(0.1) * np.sin(np.float32(2 * np.pi * rng.uniform(200, 400)) * t + np.float32(3) * np.sin(np.float32(2 * np.pi * 5) * t))
    voc *= (t % 4 < 2.5).astype(np.float32)
    lag = int(rng.uniform(-1.5, 1.5) * SR)
    gain = float(10 ** (rng.uniform(-3, 3) / 20))
    inst = acc / gain
    inst = np.concatenate([0.01 * rng.standard_normal(lag).astype(np.float32), inst]) if lag >= 0 else inst[-lag:]
    orig_path, inst_path = folder / f"O{k}.wav", folder / f"I{k}.wav"
    mix = acc + voc
    sf.write(orig_path, np.stack([mix, mix * 0.9], axis=1), SR, subtype="PCM_16")
    sf.write(inst_path, np.stack([inst, inst * 0.9], axis=1), SR, subtype="PCM_16")
    oid, iid = f"O{k}", f"I{k}"
    return {
        "pair_id": pair_id_for(oid, iid), "original_id": oid, "instrumental_id": iid, "artist": f"A{k}",
        "artist_norm": f"a{k}", "original_title": "s", "instrumental_title": "s (instrumental)", "base_title": "s",
        "title_score": 100.0, "title_threshold": 85.0, "original_duration_s": seconds, "instrumental_duration_s": seconds,
        "duration_delta_s": 0.0, "original_path": str(orig_path), "instrumental_path": str(inst_path),
        "original_fingerprint": f"o{k}", "instrumental_fingerprint": f"i{k}",
        "marker": "instrumental", "marker_family": "instrumental",
    }


def baseline(pairs: list[dict], out: Path) -> float:
    """librosa.load + librosa.stft magnitudes, one .npy per file, plain loop. Returns seconds."""
    import librosa

    started = time.perf_counter()
    for pair in pairs:
        for key in ("original_path", "instrumental_path"):
            y, _ = librosa.load(pair[key], sr=SAMPLE_RATE, mono=True)
            mag = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH))[:-1].astype(np.float16)
            np.save(out / f"{Path(pair[key]).stem}.npy", mag)
    return time.perf_counter() - started


def read_throughput(folder: Path, *, batches: int = 40, batch_size: int = 16, seed: int = 0,
                    spectrograms: bool = False) -> float:
    """Patches/s of the trainer's loader on one core (page cache warm).

    Random-crop recipes of an epoch (75% remixed, as the trainer's default) read
    by :class:`WaveDataset` into float16 (b, 3, SEGMENT) batches, as a loader
    worker does. With ``spectrograms`` the batch also becomes model input X and
    target Y_v (three batched torch STFTs on this CPU, as the trainer does on
    its device).
    """
    import torch

    from vocalmine.core.contract.shards import pairs_of, read_spec
    from vocalmine.model.data import RemixConfig, WaveDataset, collate, epoch_recipes, read_index
    from vocalmine.model.objective import batch_spectrograms

    torch.set_num_threads(1)
    pairs = pairs_of(read_index(folder))
    spec = read_spec(folder)
    dataset = WaveDataset(folder, pairs, spec)
    for shard in pairs["shard"].unique():  # page-cache warm-up
        np.asarray(open_shard(folder, int(shard), spec.channels)).sum(dtype=np.float64)
    recipes = epoch_recipes(pairs["samples"].to_numpy(), size=batches * batch_size, seed=seed, epoch=0,
                            remix=RemixConfig(), spec=spec)
    started = time.perf_counter()
    for b in range(batches):
        batch = collate(dataset.__getitems__(recipes[b * batch_size : (b + 1) * batch_size]))
        if spectrograms:
            x, y, _ = batch_spectrograms(batch, target="vocals", spec=spec)
    return batches * batch_size / (time.perf_counter() - started)


def old_patch_layout(folder: Path, out: Path) -> tuple[Path, int]:
    """Today's layout before the waveform shards, rebuilt from the stored waveforms for comparison:
    float16 (n, 2, 512, 128) patches of X/scale and g·Y_i/scale on the fixed grid. Returns (path, bytes)."""
    from vocalmine.core.stft import magnitude, stft
    from vocalmine.core.contract.shards import pairs_of
    from vocalmine.model.data import read_index

    patches = []
    for row in pairs_of(read_index(folder)).itertuples(index=False):
        wave = np.asarray(open_shard(folder, int(row.shard))[:, row.offset : row.offset + row.samples], np.float32)
        mags = magnitude(stft(wave)) / row.scale  # (2, 512, T)
        n = -(-mags.shape[2] // PATCH_FRAMES)
        padded = np.zeros((2, 512, n * PATCH_FRAMES), np.float16)
        padded[:, :, : mags.shape[2]] = mags
        patches.append(padded.reshape(2, 512, n, PATCH_FRAMES).transpose(2, 0, 1, 3))
    path = out / "old-layout.npy"
    np.save(path, np.concatenate(patches))
    return path, path.stat().st_size


def old_read_throughput(path: Path, *, batches: int = 300, batch_size: int = 32, seed: int = 0) -> float:
    """Patches/s of the former loader: random (2, 512, 128) float16 patches out of a memory-mapped array."""
    array = np.asarray(np.load(path, mmap_mode="r"))
    np.asarray(array).sum(dtype=np.float64)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for _ in range(batches):
        picks = np.sort(rng.integers(0, len(array), size=batch_size))
        batch = array[picks]
        assert batch.shape[0] == batch_size
    return batches * batch_size / (time.perf_counter() - started)


def baseline_read_throughput(folder: Path, *, batches: int = 100, batch_size: int = 32, seed: int = 0) -> float:
    """Patches/s reading random 128-frame windows of the baseline's per-file .npy spectrograms."""
    files = sorted(folder.glob("O*.npy"))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    count = 0
    for _ in range(batches):
        for _ in range(batch_size):
            name = files[rng.integers(len(files))].name
            mix = np.load(folder / name, mmap_mode="r")
            inst = np.load(folder / ("I" + name[1:]), mmap_mode="r")
            frames = min(mix.shape[1], inst.shape[1])
            width = min(PATCH_FRAMES, frames)  # a file shorter than a patch gives the window it has
            start = int(rng.integers(0, frames - width + 1))
            x = np.asarray(mix[:, start : start + width], dtype=np.float32)
            np.maximum(x - np.asarray(inst[:, start : start + width], dtype=np.float32), 0)
            count += 1
    return count / (time.perf_counter() - started)


def _warm_up() -> None:
    from vocalmine.features.pair import pair_features

    from vocalmine.core.audio import TORCH_CAST_MIN, to_float16

    noise = np.random.default_rng(0).standard_normal(5 * SAMPLE_RATE).astype(np.float32)
    pair_features(noise, noise)
    to_float16(np.zeros(TORCH_CAST_MIN, np.float32))  # a song's waveforms go through torch: its import, untimed


def timed_build(catalog, config: FeaturesConfig, n_workers: int) -> float:
    """Seconds of one build() through a LocalCluster started as `build` starts it, after one untimed build
    (imports, first calls and the workers' heap growth, which a long build pays once, stay outside)."""
    from dask.distributed import Client

    with local_cluster(n_workers) as cluster, Client(cluster) as client:
        client.run(_warm_up)
        seconds = []
        for _ in range(2):
            for path in catalog.shards.glob("parts/*.json"):
                path.unlink()
            started = time.perf_counter()
            build(catalog=catalog, scheduler=cluster.scheduler_address, config=config)
            seconds.append(time.perf_counter() - started)
        return seconds[-1]


def timed_resume(catalog, config: FeaturesConfig) -> float:
    """Seconds of a build() that finds every group finished: what a run costs beside its groups (the client, the
    pairs read, the parts checked, the three tables written)."""
    from dask.distributed import Client

    with local_cluster(1) as cluster, Client(cluster):
        build(catalog=catalog, scheduler=cluster.scheduler_address, config=config)
        started = time.perf_counter()
        build(catalog=catalog, scheduler=cluster.scheduler_address, config=config)
        return time.perf_counter() - started


def scaling_catalog(pairs: list[dict], n: int, tmp: Path):
    """A catalog of ``n`` pairs made of the generated files under new ids (page-cached after the first reads)."""
    folder = tmp / "scaling"
    folder.mkdir()
    rows = []
    for k in range(n):
        pair = dict(pairs[k % len(pairs)])
        pair["original_id"], pair["instrumental_id"] = f"{pair['original_id']}-{k}", f"{pair['instrumental_id']}-{k}"
        pair["pair_id"] = pair_id_for(pair["original_id"], pair["instrumental_id"])
        rows.append(pair)
    yaml_file = folder / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, tmp / "audio", folder / "work"), encoding="utf-8")
    catalog = load_catalog(yaml_file)
    write_table(pd.DataFrame(rows), catalog.pairs, PAIRS_SCHEMA)
    return catalog


def _group(args: tuple) -> None:
    g, pair, folder, audio_root, config = args
    process_group(group=g, pairs=[pair], folder=folder, audio_root=audio_root, config=config)


def timed_pool(pairs: list[dict], tmp: Path, config: FeaturesConfig) -> float:
    """Seconds of the per-pair groups on a warmed multiprocessing pool of 2: what two cores give without Dask
    (the ceiling of the 1 -> 2 worker speed-up on this machine: the cores share caches and memory bandwidth)."""
    import multiprocessing

    jobs = [(g, pair, tmp / "pool", tmp / "audio", config) for g, pair in enumerate(pairs)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_group, jobs, chunksize=1)  # imports, first calls, heap growth
        started = time.perf_counter()
        pool.map(_group, jobs, chunksize=1)
        return time.perf_counter() - started


def preset_table(presets: list[str], pairs: list[dict], tmp: Path, *, repeats: int, pair_seconds: float) -> None:
    """Per signal spec: one-process build time per pair, shard bytes per audio second, loader throughput."""
    print(f"\nper signal spec ({len(pairs)} pairs, {pair_seconds:.0f} pair-seconds; one process; load {os.getloadavg()}):")
    print(f"{'preset':10s}{'s/pair':>8s}{'pairs/s/core':>14s}{'x RT/pair-s':>13s}{'bytes/audio-s':>15s}{'crops/s+STFT':>14s}")
    _warm_up()
    for name in presets:
        config = config_from_overrides({"pairs_per_shard": 1, "workers": 1}, preset_name=name)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            for g, pair in enumerate(pairs):
                process_group(group=g, pairs=[pair], folder=tmp / f"single-{name}", audio_root=tmp / "audio", config=config)
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        yaml_file = tmp / f"catalog-{name}.yaml"
        yaml_file.write_text(catalog_for_corpus(yaml_file, tmp / "audio", tmp / f"work-{name}"), encoding="utf-8")
        catalog = load_catalog(yaml_file)
        write_table(pd.DataFrame(pairs), catalog.pairs, PAIRS_SCHEMA)
        summary = build(catalog=catalog, config=config)
        crops = statistics.median(read_throughput(catalog.shards, seed=s, spectrograms=True, batches=5, batch_size=8)
                                  for s in range(repeats))
        print(f"{name:10s}{seconds / len(pairs):8.2f}{len(pairs) / seconds:14.3f}{pair_seconds / seconds:13.0f}"
              f"{summary.bytes_per_audio_second:15,.0f}{crops:14.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--presets", default="", help="comma list of presets for the per-spec table (paper,16k,fullband)")
    parser.add_argument("--presets-only", action="store_true", help="only the per-spec table")
    parser.add_argument("--scaling-pairs", type=int, default=24,
                        help="pairs of a second, larger build timed with 1 and 2 workers (0: none): a few pairs "
                             "are too few groups to show how the workers share a catalog")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_features_") as tmp:
        tmp = Path(tmp)
        (tmp / "audio").mkdir()
        print(f"generating {args.pairs} pairs of {args.seconds:.0f} s 44.1 kHz stereo WAV ...", flush=True)
        pairs = [make_pair(tmp / "audio", k, args.seconds) for k in range(args.pairs)]
        pair_seconds = args.pairs * args.seconds
        yaml_file = tmp / "data_catalog.yaml"
        yaml_file.write_text(catalog_for_corpus(yaml_file, tmp / "audio", tmp / "work"), encoding="utf-8")
        catalog = load_catalog(yaml_file)
        write_table(pd.DataFrame(pairs), catalog.pairs, PAIRS_SCHEMA)
        config = FeaturesConfig(pairs_per_shard=1)
        presets = [p.strip() for p in args.presets.split(",") if p.strip()]
        if presets:
            preset_table(presets, pairs, tmp, repeats=args.repeats, pair_seconds=pair_seconds)
        if args.presets_only:
            return 0

        # one process, one core: process_group on each pair (decode .. write)
        _warm_up()
        single, decoded = [], 0.0
        for _ in range(args.repeats):
            started = time.perf_counter()
            decoded = 0.0
            for g, pair in enumerate(pairs):
                decoded += process_group(group=g, pairs=[pair], folder=tmp / "single", audio_root=tmp / "audio", config=config)["decoded_seconds"]
            single.append(time.perf_counter() - started)
        t_single = statistics.median(single)

        base = []
        (tmp / "baseline").mkdir()
        for _ in range(args.repeats):
            base.append(baseline(pairs, tmp / "baseline"))
        t_base = statistics.median(base)

        t1 = statistics.median(timed_build(catalog, config, 1) for _ in range(args.repeats))
        t2 = statistics.median(timed_build(catalog, config, 2) for _ in range(args.repeats))
        t_pool = statistics.median(timed_pool(pairs, tmp, config) for _ in range(args.repeats))

        t_resume = statistics.median(timed_resume(catalog, config) for _ in range(args.repeats))
        if args.scaling_pairs:
            scaling = scaling_catalog(pairs, args.scaling_pairs, tmp)
            s1 = statistics.median(timed_build(scaling, config, 1) for _ in range(args.repeats))
            s2 = statistics.median(timed_build(scaling, config, 2) for _ in range(args.repeats))

        shard_bytes = sum(p.stat().st_size for p in catalog.shards.glob("shard-*.npy"))
        quality = pd.read_parquet(catalog.shards / QUALITY_FILE)
        kept_seconds = float(quality.loc[quality["status"] == "kept", "duration_s"].sum())
        base_bytes = sum(p.stat().st_size for p in (tmp / "baseline").glob("*.npy"))
        reads = statistics.median(read_throughput(catalog.shards, seed=s) for s in range(args.repeats))
        reads_spec = statistics.median(read_throughput(catalog.shards, seed=s, spectrograms=True, batches=10)
                                       for s in range(args.repeats))
        old_path, old_bytes = old_patch_layout(catalog.shards, tmp)
        old_reads = statistics.median(old_read_throughput(old_path, seed=s) for s in range(args.repeats))
        base_reads = statistics.median(baseline_read_throughput(tmp / "baseline", seed=s) for s in range(args.repeats))

        print(f"\ninput: {args.pairs} pairs x {args.seconds:.0f} s = {pair_seconds:.0f} pair-seconds, {decoded:.0f} s decoded; "
              f"{quality['status'].eq('kept').sum()} pairs kept; cpus={os.cpu_count()}; load: {os.getloadavg()}")
        print(f"{'':38s}{'seconds':>9s}{'x RT/pair-s':>13s}{'x RT/decoded-s':>16s}")
        rows = [
            ("vocalmine, 1 process (per core)", t_single),
            ("vocalmine build, Dask 1 worker", t1),
            ("vocalmine build, Dask 2 workers", t2),
            ("the same groups, 2 bare processes", t_pool),
            ("baseline librosa loop (per core)", t_base),
        ]
        for name, seconds in rows:
            print(f"{name:38s}{seconds:9.2f}{pair_seconds / seconds:13.0f}{decoded / seconds:16.0f}")
        print(f"speed-up vs baseline (per core): {t_base / t_single:.2f}x; 1 -> 2 workers: {t1 / t2:.2f}x "
              f"(two bare processes on this machine's two cores: {t_single / t_pool:.2f}x of one)")
        print(f"a build's cost beside its groups (every group finished, Dask 1 worker): {t_resume:.2f} s")
        if args.scaling_pairs:
            scaled = args.scaling_pairs * args.seconds
            print(f"larger build, {args.scaling_pairs} pairs ({scaled:.0f} pair-seconds): Dask 1 worker {s1:.2f} s "
                  f"({scaled / s1:.0f}x RT/pair-s), 2 workers {s2:.2f} s ({scaled / s2:.0f}x); 1 -> 2 workers: "
                  f"{s1 / s2:.2f}x")
        print(f"shard bytes per audio second: {shard_bytes / kept_seconds:,.0f} waveforms "
              f"(former spectrogram patches: {old_bytes / kept_seconds:,.0f}; baseline .npy of both files: {base_bytes / pair_seconds:,.0f})")
        print(f"loader, one core: {reads:,.0f} random remixed crops/s as waveform batches; {reads_spec:,.0f}/s with "
              f"X and Y_v made by the batch STFTs on this CPU (former patch reads: {old_reads:,.0f} patches/s; "
              f"baseline per-file .npy windows: {base_reads:,.0f} patches/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
