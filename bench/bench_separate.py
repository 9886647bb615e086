"""Benchmark: `separate` on a generated 3-minute track, realtime factor on CPU (and CUDA).

Times vocalmine's whole-track separation (streamed STFT, 50%-overlapped
128-frame windows, batched, cross-faded, both models) against the naive loop a
user would otherwise write: the whole spectrogram at once, non-overlapped
windows, one window per forward pass. The speed of an untrained U-Net equals a
trained one's, so no checkpoint is needed. Also times the file path end to end
(decode 44.1 kHz WAV, resample, separate, write two WAVs).

    .venv/bin/python bench/bench_separate.py [--seconds 180] [--repeats 3] [--threads 2]

Targets: >= 100x realtime on 2 CPU cores, >= 1000x on an H200.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vocalmine.core.constants import N_BINS, PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.stft import istft, stft
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.inference import separate_files, separate_track
from vocalmine.model.unet import UNet


def generated_track(seconds: float, sr: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """A song-like test signal: a vibrato voice with harmonics over chords and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 220 * 2 ** (np.floor(t / 0.5) % 5 / 12) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = 0.2 * sum(np.sin(k * phase) / k for k in range(1, 8))
    chords = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8, 220.0))
    return (voice + chords + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


def naive_separate(y: np.ndarray, models: list[UNet], device: str) -> list[np.ndarray]:
    """The baseline: whole spectrogram, non-overlapped windows, one window per forward pass."""
    spec = stft(y)[:N_BINS]
    mag = np.abs(spec)
    mag = mag / max(mag.max(), 1e-12)
    frames = mag.shape[1]
    padded = -(-frames // PATCH_FRAMES) * PATCH_FRAMES
    mag = np.pad(mag, ((0, 0), (0, padded - frames)))
    outs = []
    with torch.inference_mode():
        for model in models:
            masks = []
            for start in range(0, padded, PATCH_FRAMES):
                x = torch.from_numpy(mag[None, None, :, start : start + PATCH_FRAMES]).to(device)
                masks.append(model(x)[0, 0].cpu().numpy())
            mask = np.concatenate(masks, axis=1)[:, :frames]
            outs.append(istft(mask * spec, y.shape[0]))
    return outs


CPU_TIMES: list[float] = []  # process CPU seconds of the last timed() call's runs


def timed(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call (CPU time kept in CPU_TIMES)."""
    fn()
    times = []
    CPU_TIMES.clear()
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        CPU_TIMES.append(time.process_time() - c0)
    return statistics.median(times)


def bench_device(device: str, y: np.ndarray, seconds: float, repeats: int, batch_size: int) -> dict:
    torch.manual_seed(0)
    models = [UNet().eval().to(device), UNet().eval().to(device)]
    ours = timed(lambda: separate_track(y, vocals_model=models[0], instrumental_model=models[1], device=device, batch_size=batch_size), repeats)
    ours_cpu = statistics.median(CPU_TIMES)
    quarter = timed(lambda: separate_track(y, vocals_model=models[0], instrumental_model=models[1], device=device,
                                           batch_size=batch_size, window_hop=96), repeats)
    naive = timed(lambda: naive_separate(y, models, device), repeats)
    return {"device": device, "ours_s": ours, "naive_s": naive, "ours_x": seconds / ours, "naive_x": seconds / naive,
            "ours_cpu_s": ours_cpu, "quarter_s": quarter}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="track length")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the target is for 2 cores)")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass on CPU")
    parser.add_argument("--cuda-batch-size", type=int, default=32, help="windows per forward pass on CUDA")
    parser.add_argument("--skip-cpu", action="store_true", help="only the CUDA measurement")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    y = generated_track(args.seconds)
    print(f"track: {args.seconds:.0f} s at {SAMPLE_RATE} Hz; torch {torch.__version__}, {args.threads} CPU threads")
    rows = []
    if not args.skip_cpu:
        rows.append(bench_device("cpu", y, args.seconds, args.repeats, args.batch_size))
    if torch.cuda.is_available():
        print(f"cuda: {torch.cuda.get_device_name(0)}")
        torch.backends.cudnn.benchmark = True
        rows.append(bench_device("cuda", y, args.seconds, args.repeats, args.cuda_batch_size))
    else:
        print("cuda: not available, CPU only")
    print(f"\n{'device':8s} {'vocalmine (s)':>14s} {'x realtime':>11s} {'naive (s)':>10s} {'x realtime':>11s} {'ratio':>6s}")
    for r in rows:
        print(f"{r['device']:8s} {r['ours_s']:14.3f} {r['ours_x']:11.0f} {r['naive_s']:10.3f} {r['naive_x']:11.0f} {r['naive_s'] / r['ours_s']:6.2f}")
    if not args.skip_cpu:
        # CPU time of a one-thread run: what a dedicated core costs, unlike wall time on a shared machine
        torch.set_num_threads(1)
        torch.manual_seed(0)
        m1 = [UNet().eval(), UNet().eval()]
        timed(lambda: separate_track(y, vocals_model=m1[0], instrumental_model=m1[1], batch_size=args.batch_size), args.repeats)
        one = statistics.median(CPU_TIMES)
        torch.set_num_threads(args.threads)
        print(f"cpu, 1 thread: {one:.2f} CPU-s per run = {args.seconds / one:.0f}x realtime per dedicated core "
              f"(~{args.threads * args.seconds / one:.0f}x on {args.threads} dedicated cores at perfect scaling)")
    for r in rows:
        print(f"{r['device']}: with 25% overlap (window_hop=96): {r['quarter_s']:.3f} s, {args.seconds / r['quarter_s']:.0f}x realtime")
        if r["device"] == "cpu":
            per_core = r["ours_cpu_s"] / args.threads
            print(f"cpu: vocalmine used {r['ours_cpu_s']:.2f} CPU-s per run = {args.seconds / per_core:.0f}x realtime "
                  f"if its {args.threads} threads had their cores to themselves (wall figures suffer on a shared machine)")
    print("(vocalmine: 50% overlap = 2x the windows of the naive loop, plus cross-fade; naive has seams at window joins)")

    if not args.skip_cpu:
        import soundfile as sf
        import soxr

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            torch.manual_seed(0)
            for target in ("vocals", "instrumental"):
                save_checkpoint(tmp / "models" / target / "best.pt", make_payload(model=UNet(), target=target, config={}, step=0, epoch=0))
            wav = tmp / "track.wav"
            sf.write(wav, soxr.resample(y, SAMPLE_RATE, 44100), 44100, subtype="PCM_16")
            run = lambda: separate_files(paths=[wav], out_dir=tmp / "out", models_dir=tmp / "models", device="cpu")  # noqa: E731
            total = timed(run, args.repeats)
            print(f"\nfile path (44.1 kHz WAV -> decode, resample, separate, write 2 WAVs) on CPU: "
                  f"{total:.3f} s, {args.seconds / total:.0f}x realtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
