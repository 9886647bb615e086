"""Benchmark: the derived voice stored by `build` (original − g·instrumental, time domain) against true vocal stems.

On the generated demo corpus (WAV, FLAC and MP3 releases at 22.05-48 kHz,
instrumentals offset by milliseconds and rescaled; its truth holds every true
pair and the vocal stem as it sits in the original at 8192 Hz), every true
pair the features stage keeps is run through ``pair_features``; the stored
waveforms give the derived voice, compared with the stem over the aligned
overlap (SDR = 10 log10 ‖s‖² / ‖s − ŝ‖², edges of 512 samples left out).
Beside it, the same pair with the integer offset only (least-squares gain, no
fractional delay), to show what the sub-sample refinement buys. The corpus's
offsets are whole samples at 8192 Hz; ``--fractional`` delays each decoded
instrumental by a random fraction of a sample first, as a release offset off
that grid would. Per format of
the original file: median and worst SDR.

    .venv/bin/python bench/bench_features_voice.py [--corpus DIR] [--songs 40] [--json PATH]

MIR-1K bench pairs are scored by bench/bench_mir1k.py (``derived_voice_sdr``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.features.align import apply_offset, fractional_shift
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.pair import load_pair, pair_features

EDGE = 512


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    ref, est = reference[EDGE:-EDGE].astype(np.float64), estimate[EDGE:-EDGE].astype(np.float64)
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-30)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="an existing demo corpus (default: generate one)")
    parser.add_argument("--songs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--fractional", action="store_true",
                        help="delay each decoded instrumental by a random fraction of a sample (uniform ±0.5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_voice_") as tmp:
        corpus = args.corpus
        if corpus is None:
            from vocalmine.demo.corpus import generate_corpus

            corpus = Path(tmp) / "demo"
            generate_corpus(corpus, songs=args.songs, eval_songs=2, seed=args.seed)
        truth = pd.read_csv(corpus / "truth_pairs.csv", dtype={"features_reason": str}, keep_default_na=False)
        catalog = pd.read_csv(corpus / "catalog.csv", dtype=str)
        paths = dict(zip(catalog["track_id"], catalog["audio_path"]))
        rows = []
        for pair in truth.itertuples(index=False):
            if pair.features_reason:
                continue
            stem = corpus / "stems" / f"{pair.song_id}.vocals.wav"
            if not stem.is_file():
                continue
            original, instrumental = load_pair(corpus / paths[pair.original_id], corpus / paths[pair.instrumental_id])
            if args.fractional:  # a release offset off the 8192 Hz grid: the corpus's offsets are whole samples here
                shift = float(np.random.default_rng([args.seed, len(rows)]).uniform(-0.5, 0.5))
                instrumental = fractional_shift(instrumental, shift)
            result = pair_features(original, instrumental, config=FeaturesConfig())
            if result.reason:
                continue
            vocals = load_audio(stem, SAMPLE_RATE)
            truth_part = vocals[result.start : result.start + result.length]
            n = min(len(truth_part), result.waveforms.shape[1])
            derived = (result.waveforms[0].astype(np.float64) - result.waveforms[1].astype(np.float64))[:n]
            orig, inst, _ = apply_offset(original, instrumental, result.offset)
            g = float(np.dot(orig, inst) / np.dot(inst, inst))
            integer = (orig.astype(np.float64) - g * inst)[:n]
            rows.append({"pair": f"{pair.original_id}/{pair.instrumental_id}", "format": Path(paths[pair.original_id]).suffix[1:],
                         "instrumental_format": Path(paths[pair.instrumental_id]).suffix[1:],
                         "sdr_db": sdr(truth_part[:n], derived), "integer_offset_sdr_db": sdr(truth_part[:n], integer),
                         "delay": result.delay})
        table = pd.DataFrame(rows)
    summary = {}
    for fmt, g in [("all", table)] + list(table.groupby("format")):
        summary[fmt] = {"pairs": int(len(g)), "median_db": float(g["sdr_db"].median()), "worst_db": float(g["sdr_db"].min()),
                        "integer_offset_median_db": float(g["integer_offset_sdr_db"].median()),
                        "integer_offset_worst_db": float(g["integer_offset_sdr_db"].min())}
        print(f"{fmt:5s} {len(g):3d} pairs: derived voice SDR median {summary[fmt]['median_db']:.1f} dB, worst "
              f"{summary[fmt]['worst_db']:.1f} dB (integer offset only: median {summary[fmt]['integer_offset_median_db']:.1f}, "
              f"worst {summary[fmt]['integer_offset_worst_db']:.1f} dB)")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "pairs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
