"""Signal synthesis and release processing of the demo corpus: a sung vocal, not a sine; exact offsets; gentle limiting."""

from __future__ import annotations

import numpy as np
import pytest

from vocalmine.demo.release import LIMIT_THRESHOLD, MAX_LIMITING_DB, delayed, master
from vocalmine.demo.score import compose
from vocalmine.demo.synth import SYNTH_RATE, render_accompaniment, render_vocal

SR = SYNTH_RATE


@pytest.fixture(scope="module")
def song():
    score = compose(np.random.default_rng(11), 8.0)
    vocal = render_vocal(score, np.random.default_rng(12))
    accompaniment = render_accompaniment(score, np.random.default_rng(13))
    return score, vocal, accompaniment


def _frames(y: np.ndarray, size: int = 2048, hop: int = 1024) -> np.ndarray:
    frames = np.lib.stride_tricks.sliding_window_view(y, size)[::hop]
    return np.abs(np.fft.rfft(frames * np.hanning(size), axis=1))


def test_vocal_is_harmonic_with_rests_and_changing_vowels(song):
    score, vocal, _ = song
    spec = _frames(vocal)
    energy = (spec**2).sum(axis=1)
    voiced = energy > 1e-2 * energy.max()
    assert 0.05 < 1 - voiced.mean() < 0.7  # phrase rests (and the intro) are silent
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    # many partials: at least 6 harmonic peaks within 40 dB of the strongest, in the loudest frames
    for frame in np.argsort(energy)[-3:]:
        loud = spec[frame]
        peaks = np.flatnonzero((loud[1:-1] > loud[:-2]) & (loud[1:-1] > loud[2:]) & (loud[1:-1] > 0.01 * loud.max())) + 1
        f0 = freqs[peaks[loud[peaks] > 0.1 * loud.max()][0]]  # lowest strong peak
        harmonic = np.abs(freqs[peaks] / f0 - np.round(freqs[peaks] / f0)) < 0.1
        assert harmonic.sum() >= 6, freqs[peaks]
    # vowels change: the spectral centroid of voiced frames spreads widely
    centroid = (spec[voiced] * freqs).sum(axis=1) / spec[voiced].sum(axis=1)
    assert np.std(centroid) > 100.0
    # the pitch moves: dominant low peak differs across voiced frames (melody, glides, vibrato)
    low = freqs < 1000
    assert len(np.unique(np.argmax(spec[voiced][:, low], axis=1))) >= 5


def test_accompaniment_overlaps_the_vocal_range_and_mean_of_channels_is_mono(song):
    _, vocal, accompaniment = song
    assert accompaniment.ndim == 2 and accompaniment.shape[1] == 2
    assert not np.allclose(accompaniment[:, 0], accompaniment[:, 1])  # really stereo
    spec = _frames(accompaniment.mean(axis=1)) ** 2
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    in_voice_range = spec[:, (freqs > 150) & (freqs < 1200)].sum() / spec.sum()
    assert in_voice_range > 0.2


def test_fractional_delay_matches_the_analytic_signal():
    t = np.arange(3 * SR) / SR

    def signal(tt):
        return (np.sin(2 * np.pi * 440 * tt) + 0.5 * np.sin(2 * np.pi * 1733 * tt)) * np.sin(np.pi * np.clip(tt / t[-1], 0, 1)) ** 2

    x = np.stack([signal(t), -signal(t)], axis=1)
    for offset in (-1234 / 8192, 0.0, 77 / 8192):
        y = delayed(x, offset_s=offset, length=x.shape[0], sr=SR)
        expected = signal(t - offset) * ((t - offset) >= 0)
        assert np.abs(y[:, 0] - expected).max() < 3e-3  # -54 dB of the 1.5 peak
        np.testing.assert_allclose(y[:, 1], -y[:, 0])


def test_master_limits_gently_and_its_stems_sum_to_the_release(song):
    _, vocal, accompaniment = song
    n = vocal.size
    loud = master(vocal * 0.8, accompaniment[:n], length=n, loudness_db=-6.0, sr=SR)  # asks for too much
    assert np.abs(loud.mix).max() <= LIMIT_THRESHOLD + 1e-9
    reduction = loud.gain * np.abs(vocal * 0.8 + accompaniment[:n].mean(axis=1)).max() / np.abs(loud.mix).max()
    assert 20 * np.log10(reduction) <= MAX_LIMITING_DB + 0.2
    np.testing.assert_allclose(loud.mix.mean(axis=1), loud.vocals + loud.accompaniment, atol=1e-12)
    quiet = master(vocal * 0.8, accompaniment[:n], length=n, loudness_db=-20.0, sr=SR)
    assert quiet.limited_fraction == 0.0
    assert quiet.limited_fraction <= loud.limited_fraction
