"""The quality gate of `build`: the same recording plus a voice is kept at any vocal level; another recording is not."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from vocalmine.core.audio import resample
from vocalmine.core.constants import HOP_LENGTH, SAMPLE_RATE
from vocalmine.core.errors import ConfigError
from vocalmine.core.stft import stft
from vocalmine.demo.release import delayed
from vocalmine.demo.score import compose
from vocalmine.demo.synth import SYNTH_RATE, render_accompaniment, render_vocal
from vocalmine.core.contract import features_reasons as reasons
from vocalmine.features.coherence import carried_bins, phase_coherence, segment_bounds
from vocalmine.features.config import FeaturesConfig, config_from_overrides
from vocalmine.features.group import quality_row
from vocalmine.features.pair import pair_features

SECONDS = 14.0


def _mono(stereo: np.ndarray) -> np.ndarray:
    """(n, 2) at the synthesis rate -> (m,) float32 at 8192 Hz."""
    return resample(np.ascontiguousarray(stereo.mean(axis=1), dtype=np.float32), SYNTH_RATE, SAMPLE_RATE)


def _at_level(vocal: np.ndarray, acc: np.ndarray, level_db: float) -> np.ndarray:
    """``vocal`` scaled to ``level_db`` against the accompaniment, both measured where the voice sings."""
    voiced = np.abs(vocal) > 1e-3 * np.abs(vocal).max()
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))  # noqa: E731
    return vocal * rms(acc[voiced].mean(axis=1)) / rms(vocal[voiced]) * 10 ** (level_db / 20)


@pytest.fixture(scope="module")
def recording():
    """One composition: its score, stereo accompaniment and mono vocal at the synthesis rate, from the first phrase on."""
    rng = np.random.default_rng(1234)
    score = compose(rng, SECONDS)
    n = int((score.music_s + 2.0) * SYNTH_RATE)
    acc = render_accompaniment(score, rng, sr=SYNTH_RATE, length=n)
    vocal = render_vocal(score, rng, sr=SYNTH_RATE, length=n)
    start = int((score.lead_in_s + score.melody.phrase_start[0] * score.beat_s - 0.1) * SYNTH_RATE)
    return score, acc[start:], vocal[start:], start


def _pair(acc: np.ndarray, vocal: np.ndarray, level_db: float, *, inst_acc: np.ndarray | None = None,
          offset_s: float = 0.1234567, gain_db: float = -3.0) -> tuple[np.ndarray, np.ndarray]:
    """(original, instrumental) at 8192 Hz: the mix at ``level_db``, and ``inst_acc`` (default: the same accompaniment)
    delayed by a fractional ``offset_s`` and re-gained by ``gain_db``."""
    original = _mono(acc + _at_level(vocal, acc, level_db)[:, None])
    source = acc if inst_acc is None else inst_acc
    inst = delayed(source, offset_s=offset_s, length=source.shape[0] + int(offset_s * SYNTH_RATE), sr=SYNTH_RATE)
    return original, _mono(inst * 10 ** (gain_db / 20))


@pytest.mark.slow
@pytest.mark.parametrize("level_db", [12.0, 6.0])
def test_loud_vocal_true_pair_is_kept(recording, level_db):
    _, acc, vocal, _ = recording
    result = pair_features(*_pair(acc, vocal, level_db))
    assert result.reason == "", result.detail
    assert result.coherence > 0.95 and result.segment_coherence > 0.9
    assert abs(result.offset - round(0.1234567 * SAMPLE_RATE)) <= 1
    # the old residual criterion rises with the vocal's share; coherence does not
    quiet = pair_features(*_pair(acc, vocal, -12.0))
    assert abs(result.coherence - quiet.coherence) < 0.03


def test_quiet_vocal_true_pair_is_kept(recording):
    _, acc, vocal, _ = recording
    result = pair_features(*_pair(acc, vocal, -12.0, offset_s=-0.3, gain_db=4.0))
    assert result.reason == "", result.detail
    assert result.coherence > 0.95
    assert result.vocal_ratio > FeaturesConfig().min_vocal_ratio  # a faint voice is still a voice


def test_another_performance_is_too_different(recording):
    score, acc, vocal, start = recording
    # the same score played again 2 % faster: magnitudes alike, phases unrelated
    other = score.variant(np.random.default_rng(7), bpm_factor=1.02)
    n = int((other.music_s + 2.0) * SYNTH_RATE)
    again = render_accompaniment(other, np.random.default_rng(8), sr=SYNTH_RATE, length=n)[int(start / 1.02):]
    config = FeaturesConfig()
    result = pair_features(*_pair(acc, vocal, 0.0, inst_acc=again), config=config)
    assert result.reason == reasons.TOO_DIFFERENT
    assert result.coherence < 0.7
    assert f"phase coherence {result.coherence:.3f} < {config.min_coherence}" in result.detail


def _cut(acc: np.ndarray, at_s: float, width_s: float) -> np.ndarray:
    a, b = int(at_s * SYNTH_RATE), int((at_s + width_s) * SYNTH_RATE)
    return np.concatenate([acc[:a], acc[b:]])


def test_another_edit_with_a_cut_section_is_too_different(recording):
    _, acc, vocal, _ = recording
    original, instrumental = _pair(acc, vocal, 3.0, inst_acc=_cut(acc, 8.0, 2.5))
    result = pair_features(original, instrumental)
    assert result.reason == reasons.TOO_DIFFERENT
    assert result.segment_coherence < FeaturesConfig().min_segment_coherence
    # the per-segment rule alone finds it, and says where
    only_segments = FeaturesConfig(min_coherence=0.0)
    result = pair_features(original, instrumental, config=only_segments)
    assert result.reason == reasons.TOO_DIFFERENT
    assert f"segment phase coherence {result.segment_coherence:.3f} < {only_segments.min_segment_coherence}" in result.detail
    at = float(result.detail.split("segment at ")[1].split(" s")[0])
    assert 7.0 <= at <= 14.0  # in the part after the cut (the aligner matched the part before it, or the one after)
    assert result.segment_start_s == pytest.approx(at, abs=0.05)  # the quality table records where, for the report
    assert quality_row("p", result, only_segments)["segment_start_s"] == result.segment_start_s
    # without the cut the same material is kept
    assert pair_features(*_pair(acc, vocal, 3.0), config=only_segments).reason == ""


def test_same_audio_or_no_vocal_is_too_similar(recording):
    _, acc, vocal, _ = recording
    original, _ = _pair(acc, vocal, 0.0)
    copy = pair_features(original, 0.7 * original)
    assert copy.reason == reasons.TOO_SIMILAR and "vocal ratio" in copy.detail
    assert copy.coherence > 0.99
    no_vocal = pair_features(_mono(acc), _pair(acc, vocal, 0.0)[1])
    assert no_vocal.reason == reasons.TOO_SIMILAR


def test_coherence_ignores_a_constant_sub_sample_delay():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(12 * SAMPLE_RATE).astype(np.float32)
    half = resample(resample(x, SAMPLE_RATE, 2 * SAMPLE_RATE)[1:], 2 * SAMPLE_RATE, SAMPLE_RATE)  # x delayed by half a sample
    n = min(len(x), len(half))
    X, Y = stft(x[:n]), stft(half[:n])
    same = phase_coherence(X, Y, gain=1.0)
    assert same.whole > 0.98 and same.lowest_segment > 0.97
    # the plain real part of X·conj(Y), without the per-frequency phase, is hurt by the delay at high frequencies
    plain = float(np.real(np.sum(X * np.conj(Y))) / math.sqrt(np.sum(np.abs(X) ** 2) * np.sum(np.abs(Y) ** 2)))
    assert plain < same.whole - 0.1
    other = phase_coherence(X, stft(rng.standard_normal(n).astype(np.float32)), gain=1.0)
    assert other.whole < 0.3 and np.nanmax(np.abs(other.segments)) < 0.2


def test_carried_bins_and_segments():
    mix = np.array([[1.0, 1.0, 1.0, 0.0]])
    inst = np.array([[1.2, 3.0, 0.5, 0.0]])
    assert carried_bins(mix, inst, ratio=1.5).tolist() == [[True, False, False, False]]
    assert segment_bounds(10, 32) == [(0, 10)]
    assert segment_bounds(100, 32) == [(0, 33), (33, 67), (67, 100)]
    empty = phase_coherence(np.zeros((4, 40), np.complex64), np.zeros((4, 40), np.complex64), gain=1.0)
    assert math.isnan(empty.whole) and math.isnan(empty.lowest_segment) and empty.lowest_segment_start == -1


def test_quality_row_keeps_values_and_thresholds(recording):
    _, acc, vocal, _ = recording
    config = FeaturesConfig(min_coherence=0.85, min_segment_coherence=0.7)
    result = pair_features(*_pair(acc, vocal, 0.0), config=config)
    row = quality_row("p1", result, config)
    assert row["coherence"] == pytest.approx(result.coherence) and row["segment_coherence"] == pytest.approx(result.segment_coherence)
    assert row["min_coherence"] == 0.85 and row["min_segment_coherence"] == 0.7
    assert row["segment_start_s"] == result.segment_start_s and 0 <= row["segment_start_s"] < SECONDS
    assert 0 < row["carried_fraction"] <= 1


def test_gate_config_is_validated():
    with pytest.raises(ConfigError, match="coherence_ratio"):
        FeaturesConfig(coherence_ratio=1.0)
    with pytest.raises(ConfigError, match="min_segment_coherence"):
        config_from_overrides({"min_segment_coherence": "2"})
    assert config_from_overrides({"coherence_segment_s": "5"}).coherence_segment_s == 5.0
    assert dataclasses.replace(FeaturesConfig(), min_coherence=0.5).fingerprint() != FeaturesConfig().fingerprint()
    assert HOP_LENGTH * 32 / SAMPLE_RATE == FeaturesConfig().coherence_segment_s  # 32-frame segments by default


def test_a_fade_on_the_original_only_is_kept(recording):
    # a radio edit: the original ends 3 s early with a 6-s fade while the voice sings; the instrumental plays on
    _, acc, vocal, _ = recording
    original, instrumental = _pair(acc, vocal, 12.0)
    original = original[: original.size - 3 * SAMPLE_RATE].copy()
    original[-6 * SAMPLE_RATE :] *= np.linspace(1.0, 0.0, 6 * SAMPLE_RATE, dtype=np.float32)
    result = pair_features(original, instrumental)
    assert result.reason == "", result.detail
    assert result.segment_coherence > 0.9
    # matched with one gain for the whole track, the faded segment is judged on the bins the voice holds
    X, Y = stft(original[: instrumental.size]), stft(_aligned(instrumental, result.offset, original.size))
    assert phase_coherence(X, Y, gain=result.gain, gain_quantile=None).lowest_segment < 0.8


def _aligned(instrumental: np.ndarray, offset: int, n: int) -> np.ndarray:
    """``instrumental[k + offset]`` for k in [0, n), zero outside."""
    out = np.zeros(n, np.float32)
    src = np.arange(n) + offset
    ok = (src >= 0) & (src < instrumental.size)
    out[ok] = instrumental[src[ok]]
    return out
