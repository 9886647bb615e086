"""Benchmark of the quality gate of `vocalmine build`: keep true pairs at any vocal level, exclude other recordings.

Generates its own corpus with the demo synthesiser (vocalmine.demo): every
family is one composition rendered once, giving one true pair and one
negative.

- True pairs: the original is the mastered mix (vocal + accompaniment, limiter,
  fade), the instrumental its accompaniment delayed by a fractional offset in
  ±400 ms, re-gained by ±4 dB, sometimes with a longer ring-out; the vocal is
  set at a vocal-to-accompaniment ratio drawn in one of four bands over
  −12..+12 dB (measured where the voice sings).
- Negatives, the same release treatment, four kinds:
  ``other_performance`` (the same score at another tempo, played again),
  ``other_edit`` (the accompaniment with a section of 2–6 s cut out),
  ``live_take`` (a live mix: other tempo, room reverb, crowd, against the studio
  instrumental), ``other_song`` (another composition in the same key and tempo).
- Files are WAV, FLAC or MP3 at 22.05, 44.1 or 48 kHz, mono or stereo, and go
  through the pipeline's decoder (``load_pair``) and ``pair_features``.

It prints the keep rate of true pairs per vocal-level band and the rejection
rate per negative kind, for the gate of the given config (the phase-coherence
gate by default) beside the old residual-ratio gate (alignment confidence < 0.2
or residual ratio > 0.3 -> too_different, vocal ratio < 0.01 -> too_similar),
computed from the same run. Per-case values go to ``<out>/seed-<seed>/results.csv``.

    .venv/bin/python bench/bench_quality_gate.py [--seed 101] [--pairs-per-band 12] [--workers 2] [--set key=value ...]
    .venv/bin/python bench/bench_quality_gate.py --seed 101 --reuse --set min_coherence=0.8   # judge the same audio again

The default thresholds were set on seed 101 and checked on seed 202; the tests
use neither. Timings are wall-clock on a possibly shared machine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.signal  # noqa: E402

from vocalmine.core.contract import features_reasons as reasons  # noqa: E402
from vocalmine.features.config import FeaturesConfig, config_from_overrides  # noqa: E402
from vocalmine.features.pair import load_pair, pair_features  # noqa: E402
from vocalmine.demo.release import AudioFormat, delayed, fade_out, master, write_release  # noqa: E402
from vocalmine.demo.score import compose  # noqa: E402
from vocalmine.demo.synth import SYNTH_RATE, render_accompaniment, render_vocal  # noqa: E402

SR = SYNTH_RATE
BANDS = ((-12.0, -6.0), (-6.0, 0.0), (0.0, 6.0), (6.0, 12.0))  # vocal-to-accompaniment ratio bands, dB
NEGATIVE_KINDS = ("other_performance", "other_edit", "live_take", "other_song")
FORMATS = (AudioFormat(".wav", 44100, 2), AudioFormat(".flac", 48000, 2), AudioFormat(".mp3", 44100, 2),
           AudioFormat(".wav", 22050, 1), AudioFormat(".flac", 44100, 1), AudioFormat(".mp3", 48000, 1))
MAX_OFFSET_S = 0.4  # instrumental offsets in ± this, seconds (fractional samples)
MAX_GAIN_DB = 4.0  # instrumental gain in ± this, dB, relative to the original's mastering gain
SONG_SECONDS = (22.0, 34.0)  # length of each composition
TAIL_S = (1.0, 2.5)  # longer ring-out of some instrumentals, seconds
OLD_GATE = {"min_align_confidence": 0.2, "max_residual_ratio": 0.3, "min_vocal_ratio": 0.01}  # the gate before issue 12


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) + 1e-12


def _vocal_at_level(vocal: np.ndarray, acc: np.ndarray, level_db: float) -> np.ndarray:
    """Scale ``vocal`` to ``level_db`` against the accompaniment, both measured where the voice sings."""
    voiced = np.abs(vocal) > 1e-3 * np.abs(vocal).max()
    return vocal * _rms(acc[voiced].mean(axis=1)) / _rms(vocal[voiced]) * 10 ** (level_db / 20)


def _room(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """A room impulse response (exponentially decaying noise, unit energy), mono."""
    t = np.arange(int(seconds * SR)) / SR
    ir = rng.standard_normal(t.size) * np.exp(-t / (seconds / 6.9))
    return ir / np.sqrt(np.sum(ir**2))


def _release(acc: np.ndarray, gain: float, rng: np.random.Generator, length_o: int) -> tuple[np.ndarray, float, float]:
    """An instrumental release of ``acc`` (n, 2): fractional offset, gain, maybe a longer tail. Returns (y, offset_s, gain_db)."""
    offset_s = float(rng.uniform(-MAX_OFFSET_S, MAX_OFFSET_S))
    gain_db = float(rng.uniform(-MAX_GAIN_DB, MAX_GAIN_DB))
    tail = rng.uniform(*TAIL_S) if rng.random() < 0.35 else 0.0
    length = int(round(length_o + (offset_s + tail) * SR))
    y = delayed(acc, offset_s=offset_s, length=length, sr=SR)
    g = gain * 10 ** (gain_db / 20)
    g = min(g, 0.95 / max(np.abs(y).max(), 1e-12))
    return y * (g * fade_out(length, SR))[:, None], offset_s, gain_db


def _cut(acc: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """``acc`` with a 2–6 s section removed (10 ms crossfade), or a 2-6 s section repeated."""
    n = acc.shape[0]
    width = int(rng.uniform(2.0, 6.0) * SR)
    start = int(rng.uniform(0.25, 0.65) * (n - width))
    fade = int(0.01 * SR)
    ramp = np.linspace(0.0, 1.0, fade)[:, None]
    if rng.random() < 0.7:
        head, tail = acc[: start + fade].copy(), acc[start + width :].copy()
        detail = f"cut {width / SR:.1f} s at {start / SR:.1f} s"
    else:  # an extended edit: the section is played twice
        head, tail = acc[: start + width + fade].copy(), acc[start:].copy()
        detail = f"repeat {width / SR:.1f} s at {start / SR:.1f} s"
    head[-fade:] *= 1 - ramp
    tail[:fade] *= ramp
    return np.concatenate([head[:-fade], head[-fade:] + tail[:fade], tail[fade:]]), detail


def render_family(out: Path, seed: int, index: int, band: int, negative: str) -> list[dict]:
    """Render family ``index``: its true pair (vocal level in ``BANDS[band]``) and one negative of kind ``negative``."""
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, index]).spawn(6)]
    compose_rng, acc_rng, vocal_rng, release_rng, neg_rng, fmt_rng = rngs
    score = compose(compose_rng, float(compose_rng.uniform(*SONG_SECONDS)))
    n = int(np.ceil((score.music_s + 5.0) * SR))
    acc = render_accompaniment(score, acc_rng, sr=SR, length=n)
    level_db = float(vocal_rng.uniform(*BANDS[band]))
    vocal = _vocal_at_level(render_vocal(score, vocal_rng, sr=SR, length=n), acc, level_db)
    # the release starts on the first sung phrase, so that no long vocal-free intro makes the gate easy
    start_s = max(0.0, score.lead_in_s + score.melody.phrase_start[0] * score.beat_s - float(release_rng.uniform(0.05, 0.3)))
    s0 = int(start_s * SR)
    acc, vocal = acc[s0:], vocal[s0:]
    if release_rng.random() < 0.5:  # a radio fade: the song fades out over 3 s while it is sung
        length_o = int(round((score.music_s - start_s - release_rng.uniform(1.0, 4.0)) * SR))
        envelope = np.ones(acc.shape[0])
        envelope[length_o - 3 * SR : length_o] = np.linspace(1.0, 0.0, 3 * SR)
        envelope[length_o:] = 0.0
        vocal = vocal * envelope
        original_acc = acc * envelope[:, None]
        if release_rng.random() < 0.5:
            acc = original_acc  # the instrumental release has the same fade; else it plays on
    else:
        length_o = int(round((score.music_s - start_s + release_rng.uniform(1.6, 2.2)) * SR))
        original_acc = acc
    mastered = master(vocal, original_acc, length=length_o, loudness_db=float(release_rng.uniform(-16.0, -11.0)), sr=SR)
    folder = out / f"F{index:04d}"
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, y: np.ndarray) -> str:
        fmt = FORMATS[int(fmt_rng.integers(len(FORMATS)))]
        path = folder / f"{name}{fmt.suffix}"
        write_release(path, y, fmt, SR)
        return str(path)

    original = write("original", mastered.mix)
    inst, offset_s, gain_db = _release(acc, mastered.gain, release_rng, length_o)
    rows = [{"family": index, "kind": "true_pair", "band": band, "vocal_db": level_db, "offset_s": offset_s, "gain_db": gain_db,
             "original": original, "instrumental": write("instrumental", inst), "detail": ""}]

    detail = ""
    neg_original = original
    if negative == "other_performance":
        factor = float(neg_rng.choice([-1, 1]) * neg_rng.uniform(0.005, 0.04) + 1.0)
        other = score.variant(neg_rng, bpm_factor=factor)
        neg_acc = render_accompaniment(other, neg_rng, sr=SR, length=int(np.ceil((other.music_s + 5.0) * SR)))[int(s0 / factor):]
        detail = f"tempo x{factor:.3f}"
    elif negative == "other_edit":
        neg_acc, detail = _cut(acc, neg_rng)
    elif negative == "live_take":
        factor = float(neg_rng.choice([-1, 1]) * neg_rng.uniform(0.01, 0.06) + 1.0)
        live = score.variant(neg_rng, bpm_factor=factor)
        n_live = int(np.ceil((live.music_s + 5.0) * SR))
        live_acc = render_accompaniment(live, neg_rng, sr=SR, length=n_live)
        live_vocal = _vocal_at_level(render_vocal(live, neg_rng, sr=SR, length=n_live), live_acc, level_db)
        live_acc, live_vocal = live_acc[int(s0 / factor):], live_vocal[int(s0 / factor):]
        n_live = live_acc.shape[0]
        ir = _room(neg_rng, float(neg_rng.uniform(0.8, 1.8)))
        wet = float(neg_rng.uniform(0.3, 0.7))
        live_mix = live_acc + live_vocal[:, None]
        live_mix = live_mix + wet * np.stack([scipy.signal.oaconvolve(live_mix[:, c], ir)[:n_live] for c in range(2)], axis=1)
        crowd = neg_rng.standard_normal((n_live, 2)) * 0.02 * np.abs(live_mix).max()
        live_len = min(n_live, int(round((live.music_s + 2.0) * SR)) - int(s0 / factor))
        live_master = master(np.zeros(n_live), live_mix + crowd, length=live_len,
                             loudness_db=float(neg_rng.uniform(-16.0, -12.0)), sr=SR)
        neg_original = write("live", live_master.mix)
        neg_acc = acc  # against the studio instrumental
        detail = f"tempo x{factor:.3f}, reverb {wet:.2f}"
    elif negative == "other_song":
        other = compose(neg_rng, score.music_s)
        other = dataclasses.replace(other, bpm=score.bpm, key=score.key, minor=score.minor, n_bars=score.n_bars)
        if neg_rng.random() < 0.5:
            other = dataclasses.replace(other, progression=score.progression)
        if other.instruments == score.instruments:
            other = other.variant(neg_rng, rearrange=True)
        neg_acc = render_accompaniment(other, neg_rng, sr=SR, length=n)[s0:]
        detail = f"same key and tempo{', same chords' if other.progression == score.progression else ''}"
    else:
        raise ValueError(f"unknown negative kind {negative!r}")
    neg_inst, neg_offset, neg_gain = _release(neg_acc, mastered.gain, release_rng, length_o)
    rows.append({"family": index, "kind": negative, "band": band, "vocal_db": level_db, "offset_s": neg_offset,
                 "gain_db": neg_gain, "original": neg_original, "instrumental": write(f"neg-{negative}", neg_inst),
                 "detail": detail})
    return rows


def evaluate(row: dict, config: FeaturesConfig) -> dict:
    """Run the pipeline's decoder and ``pair_features`` on one case; its verdicts under the new and the old gate."""
    original, instrumental = load_pair(row["original"], row["instrumental"])
    started = time.perf_counter()
    result = pair_features(original, instrumental, config=config)
    took = time.perf_counter() - started
    old = ""
    if result.reason and result.reason not in (reasons.TOO_DIFFERENT, reasons.TOO_SIMILAR):
        old = result.reason
    elif not result.confidence >= OLD_GATE["min_align_confidence"] or not result.residual_ratio <= OLD_GATE["max_residual_ratio"]:
        old = reasons.TOO_DIFFERENT
    elif not result.vocal_ratio >= OLD_GATE["min_vocal_ratio"]:
        old = reasons.TOO_SIMILAR
    return {**row, "reason": result.reason, "old_reason": old, "confidence": result.confidence,
            "residual_ratio": result.residual_ratio, "vocal_ratio": result.vocal_ratio,
            "coherence": getattr(result, "coherence", math.nan), "segment_coherence": getattr(result, "segment_coherence", math.nan),
            "detail_gate": result.detail, "seconds": took}


def _task(args: tuple) -> list[dict]:
    out, seed, index, band, negative, config = args
    return [evaluate(row, config) for row in render_family(out, seed, index, band, negative)]


def _judge(args: tuple) -> dict:
    row, config = args
    return evaluate(row, config)


CASE_COLUMNS = ("family", "kind", "band", "vocal_db", "offset_s", "gain_db", "original", "instrumental", "detail")


def table(df: pd.DataFrame) -> str:
    """Keep rate per vocal band and rejection rate per negative kind, new gate beside old."""
    lines = [f"{'case':<28}{'n':>5}{'new gate':>12}{'old gate':>12}"]
    true = df[df.kind == "true_pair"]
    for b, (lo, hi) in enumerate(BANDS):
        part = true[true.band == b]
        lines.append(f"{f'true pairs {lo:+.0f}..{hi:+.0f} dB kept':<28}{len(part):>5}"
                     f"{(part.reason == '').mean():>12.1%}{(part.old_reason == '').mean():>12.1%}")
    lines.append(f"{'true pairs, all, kept':<28}{len(true):>5}{(true.reason == '').mean():>12.1%}{(true.old_reason == '').mean():>12.1%}")
    neg = df[df.kind != "true_pair"]
    for kind in NEGATIVE_KINDS:
        part = neg[neg.kind == kind]
        lines.append(f"{kind + ' excluded':<28}{len(part):>5}{(part.reason != '').mean():>12.1%}{(part.old_reason != '').mean():>12.1%}")
    lines.append(f"{'negatives, all, excluded':<28}{len(neg):>5}{(neg.reason != '').mean():>12.1%}{(neg.old_reason != '').mean():>12.1%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=101, help="corpus seed (thresholds were set on 101, checked on 202)")
    parser.add_argument("--pairs-per-band", type=int, default=12, help="true pairs per vocal band (negatives: as many per kind)")
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument("--out", default="/tmp/gate", help="scratch folder for the generated audio and results.csv")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="features config override")
    parser.add_argument("--reuse", action="store_true", help="judge the audio of an earlier run of this seed again (no rendering)")
    args = parser.parse_args(argv)
    config = config_from_overrides(dict(s.split("=", 1) for s in args.set))
    out = Path(args.out) / f"seed-{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    families = len(BANDS) * args.pairs_per_band
    # bands cycle fastest; the negative kind shifts each round, so every kind meets every band
    tasks = [(out, args.seed, i, i % len(BANDS), NEGATIVE_KINDS[(i + i // len(BANDS)) % len(NEGATIVE_KINDS)], config)
             for i in range(families)]
    started = time.perf_counter()
    if args.reuse:
        cases = pd.read_csv(out / "results.csv", keep_default_na=False)[list(CASE_COLUMNS)].to_dict("records")
        with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as pool:
            rows = list(pool.map(_judge, [(case, config) for case in cases]))
        families = len(cases) // 2
    elif args.workers <= 1:
        rows = [r for t in tasks for r in _task(t)]
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=args.workers) as pool:
            rows = [r for part in pool.map(_task, tasks) for r in part]
    df = pd.DataFrame(rows)
    df.to_csv(out / "results.csv", index=False)
    print(f"seed {args.seed}: {families} true pairs, {families} negatives, {time.perf_counter() - started:.0f} s "
          f"({args.workers} workers; pair_features median {df.seconds.median() * 1000:.0f} ms)")
    print(table(df))
    worst = df[(df.kind == "true_pair") & (df.reason != "")]
    for _, r in worst.iterrows():
        print(f"  lost true pair F{r.family:04d} ({r.vocal_db:+.1f} dB): {r.reason}: {r.detail_gate}")
    missed = df[(df.kind != "true_pair") & (df.reason == "")]
    for _, r in missed.iterrows():
        print(f"  kept negative F{r.family:04d} {r.kind} ({r.detail}): coherence {r.coherence:.3f}, segments {r.segment_coherence:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
