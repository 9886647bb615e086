"""The fast BSS Eval path against mir_eval, on small signals."""

from __future__ import annotations

import numpy as np
import pytest

from vocalmine.evaluation.bss import BssEvalV3, bss_eval_sources, mir_eval_sources

SR = 8192


def _sources(seconds: float, seed: int) -> np.ndarray:
    """(2, n): a vibrato 'voice' with harmonics and a noisy chordal 'accompaniment'."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 220 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t) ** 2)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (130.8, 164.8, 196.0)) * 0.3
    accomp = chord + 0.2 * rng.standard_normal(t.size)
    return np.stack([voice, accomp])


@pytest.mark.parametrize("seed,leak,noise", [(0, 0.3, 0.05), (1, 0.05, 0.2), (2, 0.6, 0.01)])
def test_fast_path_agrees_with_mir_eval_within_0_01_db(seed, leak, noise):
    refs = _sources(1.0, seed)
    rng = np.random.default_rng(seed + 10)
    est = np.stack(
        [
            refs[0] + leak * refs[1] + noise * rng.standard_normal(refs.shape[1]),
            refs[1] + 0.5 * leak * refs[0] + noise * rng.standard_normal(refs.shape[1]),
        ]
    )
    # a filtered (delayed, scaled) estimate exercises the 512-tap distortion filter
    est[0] = 0.7 * np.concatenate([np.zeros(3), est[0][:-3]])
    expected = np.array(mir_eval_sources(refs, est))
    got = np.array(BssEvalV3(refs).score(est))
    np.testing.assert_allclose(got, expected, atol=0.01, rtol=0)
    assert np.all(np.isfinite(got))


def test_one_scorer_serves_several_estimates():
    refs = _sources(0.8, 3)
    scorer = BssEvalV3(refs)
    for est in (refs + 0.1 * refs[::-1], np.stack([refs.sum(0), refs.sum(0)])):
        np.testing.assert_allclose(np.array(scorer.score(est))[:2], np.array(mir_eval_sources(refs, est))[:2], atol=0.01)


def test_better_estimate_scores_higher():
    refs = _sources(1.0, 4)
    good = bss_eval_sources(refs, refs + 0.05 * refs[::-1])[0]
    bad = bss_eval_sources(refs, refs + 0.5 * refs[::-1])[0]
    assert np.all(good > bad + 10)


def test_silent_reference_is_refused_like_mir_eval():
    refs = _sources(0.5, 5)
    refs[0] = 0.0
    with pytest.raises(ValueError, match="non-silent"):
        BssEvalV3(refs)
    with pytest.raises(ValueError, match="non-silent"):
        mir_eval_sources(refs, refs + 0.1)


def test_unknown_backend_and_shape_mismatch():
    refs = _sources(0.5, 6)
    with pytest.raises(ValueError, match="backend must be one of"):
        bss_eval_sources(refs, refs, backend="museval")
    with pytest.raises(ValueError, match="differs from references"):
        BssEvalV3(refs).score(refs[:, :-1])
