"""The STFT: identical to librosa's at the paper's parameters, exact round trip on odd lengths."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from vocalmine.core.constants import HOP_LENGTH, N_BINS, N_FFT
from vocalmine.core.stft import istft, magnitude, n_frames, stft

GOLDEN_STFT = [128.00001526, 60.069561]  # |X| at 440 Hz (bin 55) and 1234.5 Hz (bin 154), frame 2


@pytest.mark.filterwarnings("ignore:n_fft=1024 is too large")
@pytest.mark.parametrize("length", [1, 767, 1024, 8192 * 3 + 1, 8192 * 5 + 767])
def test_stft_matches_librosa_and_round_trips(length):
    y = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    spec = stft(y)
    reference = librosa.stft(np.pad(y, (0, HOP_LENGTH)), n_fft=N_FFT, hop_length=HOP_LENGTH, window="hann", center=True)
    assert spec.shape == reference.shape == (N_FFT // 2 + 1, n_frames(length))
    assert spec.dtype == np.complex64 and spec.flags.c_contiguous
    np.testing.assert_allclose(spec, reference, atol=1e-4 * max(1.0, float(np.abs(reference).max())))
    np.testing.assert_allclose(istft(spec, length), y, atol=1e-5)
    assert magnitude(spec).shape == (N_BINS, spec.shape[1])


def test_stft_golden_frames():
    # pinned values: a change of window, padding or framing moves them
    t = np.arange(3000, dtype=np.float64) / 8192
    y = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 1234.5 * t)).astype(np.float32)
    spec = stft(y)
    assert spec.shape == (513, 5)
    golden = np.abs(spec[[55, 154], 2])
    np.testing.assert_allclose(golden, GOLDEN_STFT, rtol=1e-4)


def test_stft_of_a_batch_equals_each_row():
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, 3, 5000)).astype(np.float32)
    spec = stft(y)
    assert spec.shape == (2, 3, 513, n_frames(5000))
    np.testing.assert_allclose(spec[1, 2], stft(y[1, 2]), atol=1e-5)
    np.testing.assert_allclose(istft(spec, 5000), y, atol=1e-5)


def test_scaled_stft_round_trips_at_a_native_rate():
    rng = np.random.default_rng(4)
    y = rng.standard_normal(44100 * 2 + 17).astype(np.float32)
    n_fft, hop = 5512, 4134  # 1024 and 768 scaled by 44100 / 8192
    spec = stft(y, n_fft=n_fft, hop=hop)
    assert spec.shape == (n_fft // 2 + 1, n_frames(len(y), hop=hop))
    np.testing.assert_allclose(istft(spec, len(y), n_fft=n_fft, hop=hop), y, atol=1e-4)


def test_vocal_target_is_the_half_wave_rectified_difference():
    import torch

    from vocalmine.core.target import vocal_target

    x = np.array([1.0, 0.5, 0.2], dtype=np.float32)
    i = np.array([0.4, 0.5, 0.3], dtype=np.float32)
    np.testing.assert_allclose(vocal_target(x, i), [0.6, 0.0, 0.0])
    np.testing.assert_allclose(vocal_target(x, i, 0.5), [0.8, 0.25, 0.05])
    assert torch.equal(vocal_target(torch.tensor(x), torch.tensor(i)), torch.tensor(vocal_target(x, i)))


@pytest.mark.parametrize("n_fft, hop", [(N_FFT, HOP_LENGTH), (5512, 4134)])
def test_a_range_of_frames_equals_the_same_frames_of_the_whole_stft(n_fft, hop):
    from vocalmine.core.stft import stft_frames

    y = np.random.default_rng(5).standard_normal((2, 40_001)).astype(np.float32)
    full = stft(y, n_fft=n_fft, hop=hop)
    total = full.shape[-1]
    for start, stop in ((0, 3), (2, total), (total - 1, total + 2)):
        part = stft_frames(y, start, stop, n_fft=n_fft, hop=hop)
        assert part.shape == (2, n_fft // 2 + 1, stop - start)
        upto = min(stop, total)
        np.testing.assert_allclose(part[..., : upto - start], full[..., start:upto], atol=2e-4)
        assert not np.any(part[..., upto - start :])  # past the end: zeros
