"""Gain of the instrumental inside the original, fitted where the instrumental dominates.

Model: X = g·e^{jφ_k}·Y_i + V in the complex STFT, with V the vocals and φ_k a
per-frequency phase (it absorbs a sub-sample residual delay, which magnitudes
do not see but complex products do). The fit is a least-squares estimate
restricted to the bins where the residual is small compared with the
instrumental, re-selected for a few rounds: bins holding vocals drop out, so
vocals do not pull g up, and the selection is symmetric in the vocal's phase,
so it does not pull g down either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Bins of the instrumental this far below its loudest bin carry no usable gain information.
ENERGY_FLOOR_DB = -60.0
# Fewer selected bins than this and the fit falls back to all energetic bins.
MIN_BINS = 64
# The fit uses at most this many evenly spaced frames: a 3-minute track still gives
# over a hundred thousand bins, at an eighth of the cost.
MAX_FRAMES = 256


@dataclass(frozen=True)
class GainFit:
    """Result of :func:`estimate_gain`."""

    gain: float  # g >= 0: original ≈ g · instrumental in instrumental-dominated bins
    dominated_fraction: float  # share of energetic bins that the final fit used


def _fit(x: np.ndarray, y: np.ndarray, k: np.ndarray, n_freq: int) -> tuple[float, np.ndarray]:
    """Gain and per-frequency phase from flat bins x, y (complex) with frequency index k."""
    prod = np.conj(y) * x
    cross = np.bincount(k, weights=prod.real, minlength=n_freq) + 1j * np.bincount(k, weights=prod.imag,
                                                                                   minlength=n_freq)
    power = float(np.dot(y.real, y.real) + np.dot(y.imag, y.imag))
    # the modulus of the per-frequency cross-power discards the per-bin phase φ_k
    g = float(np.abs(cross).sum() / power) if power > 0 else 0.0
    return g, np.angle(cross).astype(np.float32)


def estimate_gain(mix_spec: np.ndarray, inst_spec: np.ndarray, *, dominance: float = 0.5,
                  iterations: int = 4) -> GainFit:
    """Fit g in X ≈ g·Y_i on the instrumental-dominated bins.

    Args:
        mix_spec: complex STFT of the original, (K, T).
        inst_spec: complex STFT of the aligned instrumental, (K, T).
        dominance: a bin is instrumental-dominated when
            |X − g·e^{jφ}·Y_i| <= dominance · g·|Y_i|.
        iterations: re-selection rounds after the initial all-bins fit.

    Returns:
        The gain and the fraction of energetic bins it was fitted on.
    """
    stride = max(1, -(-mix_spec.shape[1] // MAX_FRAMES))
    mix_spec, inst_spec = mix_spec[:, ::stride], inst_spec[:, ::stride]
    inst_mag = np.abs(inst_spec)
    peak = float(inst_mag.max()) if inst_mag.size else 0.0
    if peak <= 0:
        return GainFit(gain=0.0, dominated_fraction=0.0)
    # work on the flat list of energetic bins only
    freq, frame = np.nonzero(inst_mag > peak * 10 ** (ENERGY_FLOOR_DB / 20))
    x_all, y_all, mag_all = mix_spec[freq, frame], inst_spec[freq, frame], inst_mag[freq, frame]
    n_freq, n_energetic = mix_spec.shape[0], len(freq)
    g, phase = _fit(x_all, y_all, freq, n_freq)
    used = n_energetic
    for _ in range(iterations):
        if g <= 0:
            break
        rotor = (g * np.exp(1j * phase)).astype(np.complex64)
        keep = np.abs(x_all - rotor[freq] * y_all) <= dominance * g * mag_all
        if int(keep.sum()) < MIN_BINS:
            break
        used = int(keep.sum())
        g, phase = _fit(x_all[keep], y_all[keep], freq[keep], n_freq)
    return GainFit(gain=max(g, 0.0), dominated_fraction=used / max(n_energetic, 1))
