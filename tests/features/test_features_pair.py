"""Per-pair features: alignment, gain, derived vocals, exclusion rules, patches (no Dask)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soxr

from vocalmine.core.audio import write_audio
from vocalmine.core.constants import PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.errors import AudioError
from vocalmine.core.contract import features_reasons as reasons
from vocalmine.features.align import apply_offset, estimate_offset
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.pair import load_pair, pair_features, patch_grid, vocal_estimate
from vocalmine.core.stft import magnitude, n_frames, stft


def song(seconds: float, *, seed: int = 0, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """(accompaniment, vocal) float32 at ``sr``: chords, noisy beats, bass; a gated vibrato voice."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    acc = np.zeros(n)
    for f in rng.choice([110.0, 146.8, 220.0, 277.2, 329.6, 440.0, 587.3], size=4, replace=False):
        acc += 0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t))
    beat = np.zeros(n)
    for k in range(0, n, int(0.5 * sr)):
        length = min(int(0.05 * sr), n - k)
        beat[k : k + length] = np.exp(-np.arange(length) / (0.005 * sr))
    acc += 0.3 * beat * rng.standard_normal(n) + 0.02 * rng.standard_normal(n)
    f0 = rng.uniform(200, 350) + 15 * np.sin(2 * np.pi * 5 * t) + 40 * np.sin(2 * np.pi * 0.2 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voc = sum(0.15 / h * np.sin(h * phase) for h in range(1, 8)) * ((t % 4) < 2.5)
    return acc.astype(np.float32), voc.astype(np.float32)


def shifted(acc: np.ndarray, *, offset: int, gain: float, seed: int = 1) -> np.ndarray:
    """Instrumental whose content lags the original's by ``offset`` samples, at 1/gain level."""
    inst = acc / gain
    if offset >= 0:
        lead = 0.01 * np.random.default_rng(seed).standard_normal(offset)
        return np.concatenate([lead, inst]).astype(np.float32)
    return inst[-offset:].astype(np.float32)


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum((reference - estimate).astype(np.float64) ** 2)))


def derived_vocal_sdr(original, instrumental, accompaniment, vocal, *, offset: int, gain: float) -> tuple[float, float]:
    """SDR of the derived vocal of the pair, and of the unperturbed pair over the same samples."""
    estimate, start = vocal_estimate(original, instrumental, offset=offset, gain=gain)
    span = slice(start, start + len(estimate))
    reference, _ = vocal_estimate(original[span], accompaniment[span], offset=0, gain=1.0)
    return sdr(vocal[span], estimate), sdr(vocal[span], reference)


@pytest.fixture(scope="module")
def stems():
    return song(9.0, seed=3)


@pytest.mark.parametrize("offset,gain", [(0, 1.0), (1234, 0.7), (-5000, 1.6), (16000, 0.5), (-16384, 1.25)])
def test_offset_gain_and_vocal_sdr_recovered(stems, offset, gain):
    acc, voc = stems
    original = acc + voc
    inst = shifted(acc, offset=offset, gain=gain)
    result = pair_features(original, inst)
    assert result.reason == ""
    assert abs(result.offset - offset) <= 1
    assert abs(20 * math.log10(result.gain / gain)) < 0.2
    assert result.confidence > 0.6
    got, reference = derived_vocal_sdr(original, inst, acc, voc, offset=result.offset, gain=result.gain)
    assert got > reference - 1.0
    assert reference > 5  # the unperturbed pair itself separates the vocal


def test_files_at_other_rates_align_within_one_sample(tmp_path):
    # 44.1 kHz original (WAV), 48 kHz instrumental (FLAC) lagging by 0.3173 s, -4 dB
    acc, voc = song(8.0, seed=5, sr=44100)
    lag_s, gain = 0.3173, 10 ** (-4 / 20)
    lead = 0.005 * np.random.default_rng(0).standard_normal(int(lag_s * 44100))
    write_audio(tmp_path / "orig.wav", np.stack([acc + voc, acc + voc], axis=1), 44100)
    inst = soxr.resample(np.concatenate([lead, acc / gain]).astype(np.float32), 44100, 48000)
    write_audio(tmp_path / "inst.flac", inst, 48000)
    original, instrumental = load_pair(tmp_path / "orig.wav", tmp_path / "inst.flac")
    result = pair_features(original, instrumental)
    assert abs(result.offset - lag_s * SAMPLE_RATE) <= 1
    assert abs(20 * math.log10(result.gain / gain)) < 0.2


def test_undecodable_file_names_its_side(tmp_path):
    (tmp_path / "bad.wav").write_bytes(b"RIFF garbage, not audio")
    write_audio(tmp_path / "ok.wav", np.zeros(8192, np.float32), SAMPLE_RATE)
    with pytest.raises(AudioError, match="bad.wav") as info:
        load_pair(tmp_path / "ok.wav", tmp_path / "bad.wav")
    assert info.value.side == "instrumental"


def test_estimate_offset_respects_search_range(stems):
    acc, voc = stems
    inst = shifted(acc, offset=3000, gain=1.0)
    assert estimate_offset(acc + voc, inst, max_lag=4000).offset == 3000
    assert estimate_offset(acc + voc, inst, max_lag=1000).offset != 3000
    # a long track is aligned on a few spread segments
    long_acc, long_voc = song(75.0, seed=9)
    assert estimate_offset(long_acc + long_voc, shifted(long_acc, offset=-12345, gain=2.0), max_lag=16384).offset == -12345
    orig_part, inst_part, start = apply_offset(acc + voc, inst, -700)
    assert start == 700 and len(orig_part) == len(inst_part)


def test_exclusion_reasons(stems):
    acc, voc = stems
    original = acc + voc
    assert pair_features(original, 0.8 * original).reason == reasons.TOO_SIMILAR
    other_acc, _ = song(9.0, seed=11)
    different = pair_features(original, other_acc)
    assert different.reason == reasons.TOO_DIFFERENT and different.waveforms is None
    silent = pair_features(original, np.zeros_like(acc))
    assert silent.reason == reasons.SILENT and "instrumental" in silent.detail
    assert pair_features(original[:8192], acc[:8192]).reason == reasons.TOO_SHORT
    # both files are 9 s long, but aligned they overlap for 8 s only
    late = np.concatenate([acc[SAMPLE_RATE:], 0.01 * np.ones(SAMPLE_RATE, np.float32)])
    short = pair_features(original, late, config=FeaturesConfig(min_duration_s=8.5))
    assert short.reason == reasons.TOO_SHORT and short.offset == -SAMPLE_RATE and "overlap" in short.detail
    assert "phase coherence" in different.detail and str(FeaturesConfig().min_coherence) in different.detail
    # thresholds are configurable: the unrelated pair passes with no coherence requirement
    lenient = FeaturesConfig(min_coherence=-1.0, min_segment_coherence=-1.0)
    assert pair_features(original, other_acc, config=lenient).reason == ""
    # the old rules are still there, opt-in
    strict = FeaturesConfig(min_coherence=-1.0, min_segment_coherence=-1.0, min_align_confidence=0.99)
    assert pair_features(original, other_acc, config=strict).reason == reasons.TOO_DIFFERENT


def test_kept_pairs_store_aligned_gain_matched_waveforms_and_their_patch_grid(stems):
    acc, voc = stems
    original = acc + voc
    result = pair_features(original, 0.5 * acc)
    frames = n_frames(len(original))
    assert result.waveforms.shape == (2, len(original)) and result.waveforms.dtype == np.float16
    assert result.n_patches == math.ceil(frames / PATCH_FRAMES) == len(result.valid_frames)
    assert result.valid_frames[-1] == frames - PATCH_FRAMES * (result.n_patches - 1)
    assert list(result.start_frames) == [PATCH_FRAMES * k for k in range(result.n_patches)]
    assert result.wave_gain == pytest.approx(2.0, rel=1e-2) and abs(result.delay) < 0.05  # least squares: the voice leaks in a little
    np.testing.assert_allclose(result.waveforms[0].astype(np.float32), original, atol=1e-3)
    derived = result.waveforms[0].astype(np.float64) - result.waveforms[1].astype(np.float64)
    sdr = 10 * np.log10(np.sum(voc.astype(np.float64) ** 2) / np.sum((derived - voc) ** 2))
    assert sdr > 40  # float16 storage costs ~60 dB; nothing else is lost
    assert float(magnitude(stft(original)).max()) == pytest.approx(result.scale, rel=1e-6)


def test_patch_grid_exact_multiple_has_no_padding():
    valid, starts = patch_grid(2 * PATCH_FRAMES)
    assert list(valid) == [PATCH_FRAMES, PATCH_FRAMES] and list(starts) == [0, PATCH_FRAMES]
    valid, starts = patch_grid(PATCH_FRAMES + 5)
    assert list(valid) == [PATCH_FRAMES, 5]


@pytest.mark.parametrize("delay", [0.0, 0.3, -0.5, 0.93])
def test_sub_sample_delay_is_recovered_and_the_derived_voice_is_exact(delay, stems):
    from vocalmine.features.align import fractional_shift, refine_alignment

    acc, voc = stems
    original = (acc + voc).astype(np.float32)
    instrumental = fractional_shift(acc, -delay) / 0.8  # instrumental(n + delay) = acc(n) / 0.8
    fine = refine_alignment(original, instrumental)
    assert fine.delay == pytest.approx(delay, abs=0.02) and fine.gain == pytest.approx(0.8, rel=1e-2)
    derived = original - fine.gain * fractional_shift(instrumental, fine.delay)
    edge = slice(256, -256)
    sdr = 10 * np.log10(np.sum(voc[edge].astype(np.float64) ** 2) / np.sum((derived[edge] - voc[edge]) ** 2))
    assert sdr > 30
