"""The STFT: identical to librosa's at the paper's parameters, exact round trip on odd lengths."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from vocalmine.core.constants import HOP_LENGTH, N_BINS, N_FFT
from vocalmine.features.spectrogram import istft, magnitude, n_frames, stft


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
