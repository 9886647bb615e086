"""Pair-quality benchmark of the features stage on real singing (MIR-1K) and on a demo corpus.

MIR-1K train clips (../shared/data/mir1k/train, FLAC 8192 Hz stereo: left =
accompaniment, right = vocals): the original is the mixture (left + right), the
instrumental is the accompaniment delayed by a seeded offset (±1.5 s, integer
samples at 8192 Hz, low noise before a late start) and scaled by a seeded gain
(±6 dB). Reported per clip, then as medians and extremes:

- offset error in samples, gain error in dB;
- SDR of the derived vocal (Y_v = max(X − g·Y_i, 0), mixture phase) against the
  true vocal, and its difference to the unperturbed pair (offset 0, gain 1) on
  the same samples;
- pairs the exclusion rules set aside.

With ``--demo DIR`` the same figures are computed for the truth pairs of a
generated demo corpus (truth_pairs.csv, stems/), where offsets are fractional
and the instrumental went through its own mastering and codec.

    .venv/bin/python bench/bench_features_mir1k.py [--clips 171] [--seed 0] [--demo data/demo]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.features.pair import load_pair, pair_features, vocal_estimate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MAX_OFFSET_S = 1.5  # applied offsets lie in ±this
MAX_GAIN_DB = 6.0  # applied gains lie in ±this


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Plain SDR in dB (no allowed distortion filter), as a check figure."""
    num = float(np.sum(reference.astype(np.float64) ** 2))
    den = float(np.sum((reference - estimate).astype(np.float64) ** 2))
    return 10 * math.log10(num / den) if num > 0 and den > 0 else math.nan


def perturb(accompaniment: np.ndarray, *, offset: int, gain: float, rng: np.random.Generator) -> np.ndarray:
    """Instrumental whose content lags the mixture by ``offset`` samples, with mixture ≈ gain · instrumental."""
    inst = accompaniment / gain
    if offset >= 0:
        return np.concatenate([1e-3 * rng.standard_normal(offset), inst]).astype(np.float32)
    return inst[-offset:].astype(np.float32)


def score(original, instrumental, vocals, accompaniment, *, true_offset: float, true_gain: float) -> dict:
    """One pair's figures."""
    started = time.perf_counter()
    result = pair_features(original, instrumental)
    took = time.perf_counter() - started
    row = {"reason": result.reason, "offset_err": result.offset - true_offset, "seconds": took,
           "gain_err_db": 20 * math.log10(result.gain / true_gain) if result.gain and result.gain > 0 else math.nan,
           "confidence": result.confidence, "vocal_ratio": result.vocal_ratio, "residual_ratio": result.residual_ratio}
    if math.isnan(row["gain_err_db"]):
        return row
    estimate, start = vocal_estimate(original, instrumental, offset=result.offset, gain=result.gain)
    span = slice(start, start + len(estimate))
    reference, _ = vocal_estimate(original[span], accompaniment[span], offset=0, gain=1.0)
    row["sdr"] = sdr(vocals[span], estimate)
    row["sdr_unperturbed"] = sdr(vocals[span], reference)
    row["sdr_diff"] = row["sdr"] - row["sdr_unperturbed"]
    return row


def summarise(title: str, df: pd.DataFrame) -> None:
    scored = df.dropna(subset=["sdr_diff"]) if "sdr_diff" in df else df.iloc[:0]
    print(f"\n{title}: {len(df)} pairs, excluded by the rules: {df['reason'].replace('', np.nan).value_counts().to_dict() or 'none'}")
    off = df["offset_err"].abs()
    gain = df["gain_err_db"].abs()
    print(f"  offset error (samples @ 8192 Hz): median {off.median():.2f}, max {off.max():.2f}, within 1 sample {np.mean(off <= 1):.1%}")
    print(f"  gain error (dB): median |err| {gain.median():.4f}, max |err| {gain.max():.4f}, within 0.2 dB {np.mean(gain < 0.2):.1%}")
    if len(scored):
        print(f"  derived vocal SDR: median {scored['sdr'].median():.2f} dB (unperturbed pair {scored['sdr_unperturbed'].median():.2f} dB)")
        print(f"  SDR difference to unperturbed: median {scored['sdr_diff'].median():+.3f} dB, worst {scored['sdr_diff'].min():+.3f} dB, "
              f"within 1 dB {np.mean(scored['sdr_diff'] > -1):.1%}")
    print(f"  rule margins: align confidence min {df['confidence'].min():.3f} (rule < 0.2), residual ratio max "
          f"{df['residual_ratio'].max():.3f} (rule > 0.3), vocal ratio min {df['vocal_ratio'].min():.3f} (rule < 0.01)")
    print(f"  time per pair (pair_features): median {df['seconds'].median() * 1000:.0f} ms")


def mir1k(clips: int, seed: int) -> pd.DataFrame | None:
    folder = DATA / "mir1k" / "train"
    if not folder.is_dir():
        print(f"skipped MIR-1K: {folder} not found (benchmark data is not part of the repository)")
        return None
    files = sorted(folder.glob("*.flac"))[:clips]
    rng = np.random.default_rng(seed)
    rows = []
    for path in files:
        stereo, sr = sf.read(path, dtype="float32", always_2d=True)
        assert sr == SAMPLE_RATE, f"{path}: expected {SAMPLE_RATE} Hz, got {sr}"
        accompaniment, vocals = stereo[:, 0].copy(), stereo[:, 1].copy()
        mixture = accompaniment + vocals
        offset = int(rng.integers(-MAX_OFFSET_S * SAMPLE_RATE, MAX_OFFSET_S * SAMPLE_RATE + 1))
        gain = float(10 ** (rng.uniform(-MAX_GAIN_DB, MAX_GAIN_DB) / 20))
        instrumental = perturb(accompaniment, offset=offset, gain=gain, rng=rng)
        row = score(mixture, instrumental, vocals, accompaniment, true_offset=offset, true_gain=gain)
        rows.append({"clip": path.stem, "offset": offset, "gain_db": 20 * math.log10(gain), **row})
    return pd.DataFrame(rows)


def demo(corpus: Path) -> pd.DataFrame:
    catalog = pd.read_csv(corpus / "catalog.csv", dtype=str, keep_default_na=False).drop_duplicates("track_id")
    path_of = dict(zip(catalog["track_id"], catalog["audio_path"]))
    truth = pd.read_csv(corpus / "truth_pairs.csv", dtype=str, keep_default_na=False)
    rows = []
    for pair in truth.itertuples():
        original, instrumental = load_pair(corpus / path_of[pair.original_id], corpus / path_of[pair.instrumental_id])
        if pair.features_reason:
            result = pair_features(original, instrumental)
            print(f"  {pair.song_id}: expected {pair.features_reason}, got {result.reason or 'kept'} ({result.detail})")
            continue
        vocals = load_audio(corpus / "stems" / f"{pair.song_id}.vocals.wav")
        accompaniment = load_audio(corpus / "stems" / f"{pair.song_id}.accompaniment.wav")
        row = score(original, instrumental, vocals, accompaniment,
                    true_offset=float(pair.offset_s) * SAMPLE_RATE, true_gain=float(pair.gain))
        rows.append({"song": pair.song_id, **row})
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=171, help="MIR-1K train clips to use (sorted by name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the applied offsets and gains")
    parser.add_argument("--demo", type=Path, default=None, help="also score the truth pairs of this demo corpus")
    args = parser.parse_args()
    df = mir1k(args.clips, args.seed)
    if df is not None and len(df):
        summarise(f"MIR-1K train (offsets ±{MAX_OFFSET_S} s, gains ±{MAX_GAIN_DB} dB, seed {args.seed})", df)
        worst = df.reindex(df["sdr_diff"].sort_values().index).head(3) if "sdr_diff" in df else df.head(0)
        if len(worst):
            print("  worst clips:\n" + worst[["clip", "offset", "gain_db", "offset_err", "gain_err_db", "sdr", "sdr_diff"]].to_string(index=False))
    if args.demo is not None:
        summarise(f"demo corpus {args.demo}", demo(args.demo))
    return 0


if __name__ == "__main__":
    sys.exit(main())
