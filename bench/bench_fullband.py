"""Which masks for the full-band output: own vs ratio (power p), and the extension above 4 kHz.

On the evaluation songs at 44.1 kHz stereo (the demo's E001, E003, ...), runs
the models once per song and scores every variant with the same references:
BSS Eval v3 (channels as one signal), and the high-band SNR above 5 kHz (plain,
after a steep high-pass; see evaluation/clips.py). Beside them: the 8192 Hz
output resampled to 44.1 kHz, and the oracle ratio mask at the native STFT.
The defaults of `vocalmine separate` are the row "ratio p=1, full band,
mean-squared, mid, centre^8, band centre^2"; "paper window" is the same through the model's
own window scaled to the rate (25% overlap) instead of windows of two hops.
`--wide-vocal -8` first adds a decorrelated stereo reverb 8 dB under each
vocal, the adverse case of the channels' similarity weighting.

    .venv/bin/python bench/bench_fullband.py [--catalog data_catalog.yaml] [--models unet]

Duration-weighted means over the songs, dB.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from vocalmine.core.audio import resample
from vocalmine.core.catalog import load_catalog
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.evaluation.bss import BssEvalV3
from vocalmine.evaluation.clips import ClipJob, high_band_snr, load_clip_native, oracle_irm_native, silence_reason
from vocalmine.evaluation.evaluate import read_eval_set
from vocalmine.evaluation.tables import markdown
from vocalmine.model.fullband import EXTENSIONS, MaskOptions, apply_native, combine_masks
from vocalmine.model.separator import Separator

VARIANTS = [("own", 1.0), ("ratio", 1.0), ("ratio", 2.0)]  # (mode, power); --quick drops p=2
CENTRE_POWERS = (2.0, 4.0, 8.0, 16.0)  # powers of the channels' similarity that weight the extension
BAND_CENTRE_POWERS = (1.0, 2.0, 4.0)  # the same for the model's band below 4 kHz


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    return y[:n] if y.shape[0] >= n else np.pad(y, (0, n - y.shape[0]))


def wide_vocal(vocals: np.ndarray, rate: int, level_db: float, seed: int = 7) -> np.ndarray:
    """(2, n) the centred vocal plus a different exponentially decaying noise reverb (RT60 1.2 s) on each channel."""
    import scipy.signal

    rng = np.random.default_rng(seed)
    t = np.arange(int(1.0 * rate)) / rate
    decay = np.exp(-6.9 * t / 1.2)
    dry = vocals.mean(axis=0).astype(np.float64)
    wet = [scipy.signal.fftconvolve(dry, rng.standard_normal(t.size) * decay)[: dry.size] for _ in range(2)]
    gain = 10 ** (level_db / 20) * np.sqrt(np.sum(dry**2) / np.mean([np.sum(w**2) for w in wet]))
    return np.stack([dry + gain * wet[0], dry + gain * wet[1]]).astype(np.float32)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default="data_catalog.yaml")
    parser.add_argument("--models", default="unet", help="model set under the catalog's models folder")
    parser.add_argument("--rate", type=int, default=44100, help="score the evaluation songs at this rate only")
    parser.add_argument("--quick", action="store_true", help="own and ratio p=1 only")
    parser.add_argument("--seconds", type=float, default=0.0, help="score only the first SECONDS of each song (0: all)")
    parser.add_argument("--wide-vocal", type=float, default=None, metavar="DB",
                        help="make each vocal wide first: add a decorrelated stereo reverb (1.2 s) DB dB under it "
                             "(the adverse case of the channels' similarity weighting)")
    args = parser.parse_args()
    catalog = load_catalog(args.catalog)
    clips = read_eval_set(catalog.eval_set)
    separator = Separator.from_file(catalog.models, name=args.models, device="cpu", mask=MaskOptions(mode="own"))
    rows = []
    t0 = time.perf_counter()
    variants = VARIANTS[:2] if args.quick else VARIANTS
    for clip in clips.itertuples(index=False):
        job = ClipJob(clip.song, clip.mixture, clip.vocals, clip.accompaniment, (), ())
        mixture, vocals, accompaniment, rate = load_clip_native(job)
        if rate != args.rate or silence_reason(mixture, vocals, accompaniment, silence_db=-60.0):
            continue
        if args.seconds > 0:
            cut = int(args.seconds * rate)
            mixture, vocals, accompaniment = mixture[:, :cut], vocals[:, :cut], accompaniment[:, :cut]
        if args.wide_vocal is not None:
            vocals = wide_vocal(vocals, rate, args.wide_vocal)
            mixture = vocals + accompaniment
        refs = np.stack([vocals, accompaniment])
        scorer = BssEvalV3(refs.reshape(2, -1))
        x = mixture.astype(np.float32)
        mono = resample(np.ascontiguousarray(x.mean(axis=0)), rate, SAMPLE_RATE)
        raw = separator.model_masks(mono)  # (2, 512, T): each model's own mask
        n = x.shape[1]
        systems = {"oracle-irm (native)": oracle_irm_native(mixture, vocals, accompaniment, rate)}
        for mode, p in variants:
            masks = combine_masks(raw, MaskOptions(mode=mode, power=p))
            label = "own" if mode == "own" else f"ratio p={p:g}"
            # the 8192 Hz output as Separator.separate(output="model") gives it (windows of two hops)
            low = apply_native(mono[None], masks, sample_rate=SAMPLE_RATE, extension=MaskOptions().extension,
                               complementary=mode == "ratio")[:, 0]
            back = np.stack([_fit(resample(s, SAMPLE_RATE, rate), n) for s in low])
            systems[f"{label}, 8192 Hz resampled"] = np.repeat(back[:, None], x.shape[0], axis=1)
            for ext in EXTENSIONS if mode == "ratio" else ("top-mean", "zeros"):
                # as Separator applies them: ratio masks are complementary (instrumental = mixture - vocals)
                for mid in (False, True) if mode == "ratio" else (False,):
                    systems[f"{label}, full band, {ext}" + (", mid" if mid else "")] = apply_native(
                        x, masks, sample_rate=rate, extension=ext, complementary=mode == "ratio", mid=mid)
                    if mid and ext != "zeros":  # the extension weighted by the channels' similarity (centred vocal)
                        for k in CENTRE_POWERS:
                            systems[f"{label}, full band, {ext}, mid, centre^{k:g}"] = apply_native(
                                x, masks, sample_rate=rate, extension=ext, complementary=True, mid=True, centre_power=k)
                        if ext == MaskOptions().extension:  # the model's band weighted too (centre^8 above it)
                            for k in BAND_CENTRE_POWERS:
                                systems[f"{label}, full band, {ext}, mid, centre^8, band centre^{k:g}"] = apply_native(
                                    x, masks, sample_rate=rate, extension=ext, complementary=True, mid=True,
                                    centre_power=8.0, band_centre_power=k)
                            # the default through the model's own window scaled to the rate (25% overlap)
                            systems[f"{label}, full band, {ext}, mid, centre^8, band centre^2, paper window"] = apply_native(
                                x, masks, sample_rate=rate, extension=ext, complementary=True, mid=True,
                                centre_power=8.0, band_centre_power=2.0, synthesis="paper")
        for name, est in systems.items():
            sdr, sir, sar = scorer.score(est.reshape(2, -1))
            for k, source in enumerate(("vocals", "instrumental")):
                rows.append({"song": clip.song, "system": name, "source": source, "seconds": n / rate, "sdr": sdr[k],
                             "sir": sir[k], "sar": sar[k], "snr_high": high_band_snr(refs[k], est[k], rate)})
        print(f"{clip.song}: {len(systems)} systems scored ({time.perf_counter() - t0:.0f} s)", flush=True)
    if not rows:
        print(f"no evaluation song at {args.rate} Hz with both sources")
        return 1
    df = pd.DataFrame(rows)
    w = lambda g, c: float(np.average(g[c], weights=g["seconds"]))  # noqa: E731
    table = []
    for name, g in df.groupby("system", sort=False):
        row = {"system": name}
        for source, short in (("vocals", "V"), ("instrumental", "I")):
            s = g[g["source"] == source]
            row.update({f"{short} SDR": w(s, "sdr"), f"{short} SIR": w(s, "sir"), f"{short} SAR": w(s, "sar"),
                        f"{short} SNR>5k": w(s, "snr_high")})
        table.append(row)
    out = pd.DataFrame(table)
    print(f"\n{df['song'].nunique()} songs at {args.rate} Hz, stereo; duration-weighted means, dB; V = vocals, I = instrumental")
    print(markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
