"""The demo corpus spreads its vocal levels over -12..+12 dB, so that a gate that depends on the level fails its tests."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from vocalmine.demo.score import VOCAL_DB_RANGE, compose


def _level_db(vocals: np.ndarray, accompaniment: np.ndarray) -> float:
    """Vocal-to-accompaniment ratio where the voice sings, dB."""
    voiced = np.abs(vocals) > 1e-3 * np.abs(vocals).max()
    return float(10 * np.log10(np.mean(vocals[voiced].astype(np.float64) ** 2) / np.mean(accompaniment[voiced].astype(np.float64) ** 2)))


def test_compose_draws_vocal_levels_over_the_whole_range():
    levels = np.array([compose(np.random.default_rng(seed), 8.0).vocal_db for seed in range(80)])
    lo, hi = VOCAL_DB_RANGE
    assert lo == -12.0 and hi == 12.0
    assert levels.min() >= lo and levels.max() <= hi
    counts, _ = np.histogram(levels, bins=4, range=VOCAL_DB_RANGE)
    assert counts.min() >= 8  # every 6-dB band is well represented


def test_demo_corpus_stems_span_quiet_and_loud_vocals(demo_corpus):
    levels = {}
    for path in sorted((demo_corpus / "stems").glob("*.vocals.wav")):
        song = path.name.split(".")[0]
        vocals, _ = sf.read(path, dtype="float32")
        accompaniment, _ = sf.read(demo_corpus / "stems" / f"{song}.accompaniment.wav", dtype="float32")
        if np.any(vocals):
            levels[song] = _level_db(vocals, accompaniment)
    assert len(levels) >= 5
    assert min(levels.values()) < -4.0 and max(levels.values()) > 4.0, levels
