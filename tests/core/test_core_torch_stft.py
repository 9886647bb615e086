"""The torch STFT of the training loader gives the frames of the NumPy one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocalmine.core.constants import HOP_LENGTH, N_FFT
from vocalmine.core.stft import n_frames, stft, torch_stft


@pytest.mark.parametrize("length", [1024, 8192 * 3 + 1, 8192 * 5 + 767])
def test_torch_stft_equals_numpy_stft(length):
    y = np.random.default_rng(length).standard_normal((2, length)).astype(np.float32)
    got = torch_stft(torch.from_numpy(y)).numpy()
    want = stft(y)
    assert got.shape == want.shape == (2, N_FFT // 2 + 1, n_frames(length))
    np.testing.assert_allclose(got, want, atol=2e-3 * float(np.abs(want).max()) / 100)


def test_uncentred_segment_gives_the_tracks_frames():
    # the loader's cut: samples [t0·hop − n_fft/2, ...) framed without centring = frames t0.. of the track
    y = np.random.default_rng(1).standard_normal(8192 * 20).astype(np.float32)
    t0, frames = 7, 50
    lo = t0 * HOP_LENGTH - N_FFT // 2
    segment = y[lo : lo + (frames - 1) * HOP_LENGTH + N_FFT]
    got = torch_stft(torch.from_numpy(segment), center=False).numpy()
    np.testing.assert_allclose(got, stft(y)[:, t0 : t0 + frames], atol=1e-3)
