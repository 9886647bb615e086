"""Benchmark: `separate` on a 3-minute 44.1 kHz stereo song, whole file path, time per step.

Full band at the native rate (the default of `vocalmine separate`): decode,
downmix + resample to 8192 Hz, model masks (8192 Hz STFT, 128-frame windows,
both models, ratio masks), then in one step as `apply_native` runs it, in
blocks on threads: native STFT of each channel, vocal mask interpolation and
extension, weighting by the channels' similarity, the centre's spectrum,
iSTFT; instrumental = mixture - vocals, write two 16-bit WAVs. Beside it, in
the same run: the paper's 8192 Hz
path (decode, resample, masks, 8192 Hz iSTFT, write mono float) and the naive
loop a user would write (librosa.load at 8192 Hz, whole spectrogram,
non-overlapped windows, one window per forward pass, iSTFT, write). The input is
a generated song written as WAV and as MP3. Untrained U-Nets run as fast as
trained ones, so no checkpoint is needed.

    .venv/bin/python bench/bench_separate.py [--seconds 180] [--repeats 3] [--threads 2] [--presets paper,16k,fullband]

With --presets, `Separator.separate_file` of the same song with untrained models of each
signal spec (vocalmine/core/spec.py), as an exported model file of that preset runs it.

Medians of --repeats runs after a warm-up. Wall time on a shared machine
suffers from other processes: the run prints the load average and the process
CPU time too.

Goal on 2 CPU cores: >= 300x realtime end to end for the WAV, model + STFT >= 500x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from vocalmine.core.audio import resample
from vocalmine.core.constants import N_BINS, PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.stft import istft, stft
from vocalmine.model.fullband import MaskOptions, apply_native
from vocalmine.model.loading import LoadedModels
from vocalmine.core.audio import read_audio
from vocalmine.model.output import write_outputs
from vocalmine.model.separator import Separator
from vocalmine.model.unet import UNet


def generated_song(seconds: float, sr: int = 44100, seed: int = 0) -> np.ndarray:
    """(n, 2) a vibrato voice with harmonics (centre) over panned chords, noise and hi-hat-like bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 220 * 2 ** (np.floor(t / 0.5) % 5 / 12) * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = 0.2 * sum(np.sin(k * phase) / k for k in range(1, 12))
    chords = 0.1 * sum(np.sin(2 * np.pi * f * t) for f in (110.0, 138.6, 164.8, 220.0))
    hats = 0.03 * rng.standard_normal(t.size) * (np.mod(t, 0.25) < 0.03)
    left, right = voice + 0.8 * chords + hats, voice + 1.2 * chords + 0.5 * hats
    return (0.7 * np.stack([left, right], axis=1) / np.abs(np.stack([left, right])).max()).astype(np.float32)


def naive_loop(path: Path, models: list[UNet], out_dir: Path) -> None:
    """What a user would write: librosa.load, whole spectrogram, one window per forward pass."""
    import librosa

    y, _ = librosa.load(path, sr=SAMPLE_RATE, mono=True)
    spec = stft(y)[:N_BINS]
    mag = np.abs(spec)
    mag = mag / max(mag.max(), 1e-12)
    frames = mag.shape[1]
    padded = -(-frames // PATCH_FRAMES) * PATCH_FRAMES
    mag = np.pad(mag, ((0, 0), (0, padded - frames)))
    with torch.inference_mode():
        for name, model in zip(("vocals", "instrumental"), models):
            masks = [model(torch.from_numpy(mag[None, None, :, s : s + PATCH_FRAMES]))[0, 0].numpy() for s in range(0, padded, PATCH_FRAMES)]
            mask = np.concatenate(masks, axis=1)[:, :frames]
            sf.write(out_dir / f"naive.{name}.wav", istft(mask * spec, y.shape[0]), SAMPLE_RATE, subtype="FLOAT")


class Steps:
    """Wall and CPU seconds per named step of one run."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._t = (time.perf_counter(), time.process_time())

    def mark(self, name: str) -> None:
        w, c = time.perf_counter(), time.process_time()
        self.wall[name] = self.wall.get(name, 0.0) + w - self._t[0]
        self.cpu[name] = self.cpu.get(name, 0.0) + c - self._t[1]
        self._t = (w, c)


def _model_steps(separator: Separator, path: Path) -> tuple[Steps, np.ndarray, int, np.ndarray, np.ndarray]:
    """The steps both paths share, timed: decode, downmix + resample to 8192 Hz, the models' masks."""
    s = Steps()
    x, rate = read_audio(path)
    s.mark("decode")
    mono = resample(np.ascontiguousarray(x.mean(axis=0, dtype=np.float32)), rate, SAMPLE_RATE)
    s.mark("downmix + resample")
    masks = separator.model_masks(mono)
    s.mark("model (8192 Hz STFT + U-Nets)")
    return s, x, rate, mono, masks


def native_path(separator: Separator, path: Path, out_dir: Path) -> Steps:
    """The steps of Separator.separate_file(output="native") with ratio masks, timed one by one (the same functions)."""
    s, x, rate, mono, masks = _model_steps(separator, path)
    options = separator.mask
    # native STFT of both channels, masks interpolated, extended and weighted by the channels' similarity,
    # the centre's spectrum, iSTFT: in blocks on threads, as Separator.separate runs it
    vocals = apply_native(x, masks, sample_rate=rate, extension=options.extension, complementary=True,
                          mid=options.channels == "mid", centre_power=options.centre_power,
                          band_centre_power=options.band_centre_power)[0]
    instrumental = x - vocals
    s.mark("full band (native STFT, mask, iSTFT)")
    write_outputs({"vocals": vocals, "instrumental": instrumental}, rate, out_dir, "native", subtype="PCM_16")
    s.mark("write")
    return s


def model_path(separator: Separator, path: Path, out_dir: Path) -> Steps:
    """The paper's output: 8192 Hz mono."""
    s, x, rate, mono, masks = _model_steps(separator, path)
    est = apply_native(mono[None], masks, sample_rate=SAMPLE_RATE, extension=separator.mask.extension,
                       complementary=True)[:, 0]  # windows of two hops, as Separator.separate(output="model")
    s.mark("iSTFT")
    write_outputs({"vocals": est[0], "instrumental": est[1]}, SAMPLE_RATE, out_dir, "model", subtype="FLOAT")
    s.mark("write")
    return s


def whole_call(separator: Separator, path: Path, out_dir: Path) -> Steps:
    """Separator.separate_file as `vocalmine separate` calls it: one step."""
    s = Steps()
    separator.separate_file(path, out_dir, name="call", overwrite=True)
    s.mark("separate_file")
    return s


def median_steps(fn, repeats: int) -> tuple[dict[str, float], dict[str, float], float, float]:
    """Median wall and CPU seconds per step and in total over ``repeats`` runs after a warm-up."""
    fn()
    runs = [fn() for _ in range(repeats)]
    wall = {k: statistics.median(r.wall[k] for r in runs) for k in runs[0].wall}
    cpu = {k: statistics.median(r.cpu[k] for r in runs) for k in runs[0].cpu}
    return wall, cpu, statistics.median(sum(r.wall.values()) for r in runs), statistics.median(sum(r.cpu.values()) for r in runs)


def preset_table(presets: list[str], wav: Path, tmp: Path, args) -> None:
    """separate_file of the WAV with untrained models at each preset's spec (as its model file runs them)."""
    from vocalmine.core.spec import preset

    print(f"\n| preset | spec | separate_file s | x realtime | CPU s |")
    print("|---|---|---:|---:|---:|")
    for name in presets:
        spec = preset(name)
        torch.manual_seed(0)
        models = {t: UNet(in_channels=spec.channels).eval() for t in ("vocals", "instrumental")}
        sep = Separator(LoadedModels(models, tmp, spec=spec), device="cpu", batch_size=args.batch_size)
        wall, cpu, total, total_cpu = median_steps(lambda: whole_call(sep, wav, tmp), args.repeats)
        print(f"| {name} | {spec.describe()} | {total:.3f} | {args.seconds / total:.0f} | {total_cpu:.2f} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="song length")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per measurement (median)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (the goal is for 2 cores)")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--presets", default="", help="comma list: also time separate_file per preset")
    parser.add_argument("--presets-only", action="store_true", help="only the per-preset table")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {"vocals": UNet().eval(), "instrumental": UNet().eval()}
    configs = {  # the defaults of Separator / `vocalmine separate`, then the first version's settings
        "default (auto precision, 25% overlap, vocal mask on the mid)": dict(),
        "fp32, 50% overlap, vocal mask on each channel": dict(precision="fp32", window_hop=64, mask=MaskOptions(channels="each")),
    }
    load = os.getloadavg()
    print(f"song: {args.seconds:.0f} s, 44.1 kHz stereo; torch {torch.__version__}, {args.threads} threads; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        song = generated_song(args.seconds)
        wav, mp3 = tmp / "song.wav", tmp / "song.mp3"
        sf.write(wav, song, 44100, subtype="PCM_16")
        sf.write(mp3, song, 44100, format="MP3")
        presets = [p.strip() for p in args.presets.split(",") if p.strip()]
        if presets:
            preset_table(presets, wav, tmp, args)
        if args.presets_only:
            return 0
        results = []
        for k, (label, options) in enumerate(configs.items()):
            sep = Separator(LoadedModels(models, tmp), device="cpu", batch_size=args.batch_size, **options)
            label += f" [{sep.precision}]"
            for fname, path in (("WAV", wav), ("MP3", mp3)) if k == 0 else (("WAV", wav),):
                results.append((f"full band, {label}, {fname}",) + median_steps(lambda: native_path(sep, path, tmp), args.repeats))
            if k == 0:
                results.append((f"8192 Hz mono, {label}, WAV",) + median_steps(lambda: model_path(sep, wav, tmp), args.repeats))
                results.append((f"Separator.separate_file (the real call, blocked native path), {label}, WAV",)
                               + median_steps(lambda: whole_call(sep, wav, tmp), args.repeats))
        naive = []
        for _ in range(args.repeats + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            naive_loop(wav, list(models.values()), tmp)
            naive.append((time.perf_counter() - t0, time.process_time() - c0))
        naive = naive[1:]
        print(f"\n| path | total s | x realtime | CPU s | x realtime per CPU-s/{args.threads} | model+STFT s | x realtime |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, wall, cpu, total, total_cpu in results:
            core = sum(v for k, v in wall.items() if k.startswith(("model", "full band", "iSTFT")))
            core_text = f"{core:.3f} | {args.seconds / core:.0f}" if core else " | "
            print(f"| {name} | {total:.3f} | {args.seconds / total:.0f} | {total_cpu:.2f} | "
                  f"{args.seconds / (total_cpu / args.threads):.0f} | {core_text} |")
        nw, nc = statistics.median(w for w, _ in naive), statistics.median(c for _, c in naive)
        print(f"| naive loop (librosa.load, 1 window per pass), 8192 Hz mono, WAV | {nw:.3f} | {args.seconds / nw:.0f} | "
              f"{nc:.2f} | {args.seconds / (nc / args.threads):.0f} | | |")
        for name, wall, cpu, total, total_cpu in results:
            print(f"\n{name}: median seconds per step (wall / CPU)")
            for k in wall:
                print(f"  {k:38s} {wall[k]:7.3f} / {cpu[k]:6.3f}")
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
