"""STFT and inverse STFT at the paper's parameters (Hann 1024, hop 768, 8192 Hz).

With hop 768 > window/2 and ``center=True``, the last samples of a clip are
not covered by any frame. Padding the end by one hop before the STFT and
trimming after the iSTFT makes the round trip exact (about 1e-15), see
../shared/DESIGN.md, "Pitfalls".
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.signal
from numpy.lib.stride_tricks import sliding_window_view

from vocalmine.core.constants import HOP_LENGTH, N_BINS, N_FFT

# Periodic Hann window, as librosa.stft(window="hann") uses.
WINDOW = scipy.signal.get_window("hann", N_FFT, fftbins=True).astype(np.float32)


def stft(y: np.ndarray) -> np.ndarray:
    """Complex STFT of a mono signal.

    Args:
        y: float array of shape (n_samples,).

    Returns:
        complex64 array of shape (N_FFT // 2 + 1, n_frames) = (513, n_frames).
    """
    y = np.asarray(y, dtype=np.float32)
    # the same frames as librosa.stft(center=True, pad_mode="constant") of y padded by one hop,
    # computed with scipy.fft: no librosa import (seconds in a fresh Dask worker) and ~1.5x faster
    padded = np.pad(y, (N_FFT // 2, HOP_LENGTH + N_FFT // 2))
    frames = sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    return np.ascontiguousarray(scipy.fft.rfft(frames * WINDOW, axis=1).T.astype(np.complex64, copy=False))


def istft(spec: np.ndarray, length: int) -> np.ndarray:
    """Inverse of :func:`stft`.

    Args:
        spec: complex array (513, n_frames), or (512, n_frames) without the
            Nyquist bin, which is then restored as zeros.
        length: number of samples of the original signal.

    Returns:
        float32 array of shape (length,).
    """
    import librosa  # imported here: loading it costs seconds, and only the inverse needs it

    if spec.shape[0] == N_BINS:
        spec = np.concatenate([spec, np.zeros((1, spec.shape[1]), dtype=spec.dtype)], axis=0)
    y = librosa.istft(spec, n_fft=N_FFT, hop_length=HOP_LENGTH, window="hann", center=True, length=length + HOP_LENGTH)
    return y[:length].astype(np.float32, copy=False)


def magnitude(spec: np.ndarray) -> np.ndarray:
    """Magnitude without the Nyquist bin: (513, T) complex -> (512, T) float32."""
    return np.abs(spec[:N_BINS]).astype(np.float32, copy=False)


def n_frames(n_samples: int) -> int:
    """Number of STFT frames :func:`stft` yields for ``n_samples`` samples."""
    return 1 + (n_samples + HOP_LENGTH) // HOP_LENGTH
