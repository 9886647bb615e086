"""Time alignment of an instrumental against its original, at sample resolution.

The lag is the peak of a whitened (PHAT-weighted) FFT cross-correlation within
a search range: whitening makes the peak one sample wide even for bass-heavy
music, where the plain correlation peak is broad and vocals can shift it. The
confidence is the plain normalised cross-correlation at that lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft

from vocalmine.core.constants import SAMPLE_RATE

# Regularises the PHAT weighting: bins far below the mean cross-power (empty
# bands above a codec's cut-off) are not amplified to full weight.
PHAT_FLOOR = 1e-2


@dataclass(frozen=True)
class Alignment:
    """Result of :func:`estimate_offset`."""

    offset: int  # instrumental lag in samples: instrumental[n + offset] ≈ original[n] / g
    confidence: float  # normalised cross-correlation of the overlap at that lag, 0..1


def _segment_starts(n: int, segment: int, count: int) -> list[int]:
    """Start samples of ``count`` evenly spread segments of ``segment`` samples in [0, n)."""
    if n <= segment * count:
        return list(range(0, n, segment))
    return [int(round(k * (n - segment) / (count - 1))) for k in range(count)] if count > 1 else [(n - segment) // 2]


def estimate_offset(
    original: np.ndarray, instrumental: np.ndarray, *, max_lag: int, segment: int = 15 * SAMPLE_RATE, segments: int = 4
) -> Alignment:
    """Find the lag of ``instrumental`` relative to ``original``.

    The whitened cross-correlation is summed over a few evenly spread segments
    of the original (each against the instrumental around it), which costs a
    fraction of one whole-track FFT and keeps a vocal-heavy passage from
    deciding alone.

    Args:
        original: (n,) float32 signal.
        instrumental: (m,) float32 signal.
        max_lag: search range in samples, the lag lies in [-max_lag, max_lag].
        segment: samples per segment of the original.
        segments: number of segments (all of the original when it is shorter).

    Returns:
        The lag ``d`` maximising the whitened correlation sum_n o[n]·i[n + d],
        and the normalised correlation of the overlapping parts at ``d``.
    """
    n, m = len(original), len(instrumental)
    max_lag = int(max(0, min(max_lag, n - 1, m - 1)))
    size = scipy.fft.next_fast_len(min(segment, n) + 2 * max_lag + 1, real=True)
    total = np.zeros(size // 2 + 1, dtype=np.complex128)  # the segments' whitened cross-spectra, summed
    for start in _segment_starts(n, segment, segments):
        o = original[start : start + segment]
        # instrumental samples start - max_lag .. start + len(o) + max_lag, zero outside the file
        lo, hi = start - max_lag, start + len(o) + max_lag
        i = np.zeros(hi - lo, dtype=np.float32)
        i[max(0, -lo) : max(0, -lo) + len(instrumental[max(lo, 0) : hi])] = instrumental[max(lo, 0) : hi]
        cross = scipy.fft.rfft(i, size) * np.conj(scipy.fft.rfft(o, size))
        mag = np.abs(cross)
        cross /= mag + PHAT_FLOOR * (mag.mean() + 1e-30)
        total += cross
    # index j of the correlation is lag j - max_lag (i starts max_lag samples before o)
    window = scipy.fft.irfft(total, size)[: 2 * max_lag + 1]
    offset = int(np.argmax(window)) - max_lag
    return Alignment(offset=offset, confidence=overlap_correlation(original, instrumental, offset))


def overlap_bounds(n: int, m: int, offset: int) -> tuple[int, int]:
    """Range [start, stop) of original samples whose instrumental sample n + offset exists."""
    return max(0, -offset), min(n, m - offset)


def overlap_correlation(original: np.ndarray, instrumental: np.ndarray, offset: int) -> float:
    """Normalised correlation <o, i shifted> / (|o| |i|) over the overlap, clipped to [0, 1]."""
    start, stop = overlap_bounds(len(original), len(instrumental), offset)
    if stop <= start:
        return 0.0
    o = original[start:stop]
    i = instrumental[start + offset : stop + offset]
    denom = np.sqrt(float(np.dot(o, o)) * float(np.dot(i, i)))
    return float(np.clip(float(np.dot(o, i)) / denom, 0.0, 1.0)) if denom > 0 else 0.0


def apply_offset(original: np.ndarray, instrumental: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Trim both signals to their overlap so that sample k of each is the same moment.

    Returns:
        (original part (L,), instrumental part (L,), start) where ``start`` is the
        first original sample kept; L may be 0 when nothing overlaps.
    """
    start, stop = overlap_bounds(len(original), len(instrumental), offset)
    stop = max(stop, start)
    return original[start:stop], instrumental[start + offset : stop + offset], start


# Sub-sample refinement: a derived voice original − g·instrumental in the time domain needs
# the lag to a small fraction of a sample (half a sample off costs ~15 dB of its SDR).
FINE_RANGE = 1.0  # samples searched either side of the integer lag
COARSE_STEP = 0.25  # first grid step in samples
FINE_STEP = 0.02  # second grid step around the coarse best; a parabola through the best three points refines it
FINE_SEGMENT_S = 15  # seconds of the overlap the search looks at (the middle part)
FINE_SEGMENT = FINE_SEGMENT_S * SAMPLE_RATE  # the same in samples at the analysis rate


@dataclass(frozen=True)
class FineAlignment:
    """Result of :func:`refine_alignment`."""

    delay: float  # fractional lag in samples: instrumental(n + delay) ≈ original(n) / gain
    gain: float  # least-squares gain of the delayed instrumental inside the original


def fractional_shift(y: np.ndarray, delay: float) -> np.ndarray:
    """y(n + delay) by an FFT phase ramp (band-limited), zero-padded so it does not wrap.

    Args:
        y: (n,) float signal.
        delay: samples, any real value (|delay| of a few samples at most in practice).

    Returns:
        float32 (n,).
    """
    n = len(y)
    if delay == 0 or n == 0:
        return np.asarray(y, dtype=np.float32).copy()
    size = scipy.fft.next_fast_len(n + 2 * int(np.ceil(abs(delay))) + 64, real=True)
    # single precision throughout: its error (about -130 dB of the signal) is far below the derived voice's
    # own (-40 dB at best), and it costs a third of the double-precision transform and ramp
    spec = scipy.fft.rfft(np.asarray(y, dtype=np.float32), size)
    angle = np.arange(len(spec), dtype=np.float32) * np.float32(2 * np.pi * delay / size)
    ramp = np.empty(len(spec), dtype=np.complex64)
    ramp.real, ramp.imag = np.cos(angle), np.sin(angle)
    spec *= ramp
    return scipy.fft.irfft(spec, size)[:n]


def refine_alignment(original: np.ndarray, instrumental: np.ndarray, *, segment: int = FINE_SEGMENT) -> FineAlignment:
    """The fractional delay and least-squares gain that best explain ``original`` by ``instrumental``
    (:func:`refine_and_shift` without the shifted instrumental)."""
    return refine_and_shift(original, instrumental, segment=segment)[0]


def refine_and_shift(original: np.ndarray, instrumental: np.ndarray, *,
                     segment: int = FINE_SEGMENT) -> tuple[FineAlignment, np.ndarray]:
    """The fractional delay and least-squares gain that best explain ``original`` by ``instrumental``,
    and the instrumental shifted by that delay (float32, the overlap's length; the gain is not applied).

    Both signals are already aligned to the sample (equal length). The delay
    maximises the band-limited cross-correlation <o, i(· + d)> over
    |d| <= FINE_RANGE (the shifted instrumental's energy does not depend on d),
    on the middle ``segment`` samples; the gain is then fitted on the whole overlap.
    """
    n = min(len(original), len(instrumental))
    if n == 0:
        return FineAlignment(0.0, 0.0), np.zeros(0, dtype=np.float32)
    lo = max(0, (n - segment) // 2)
    o = np.asarray(original[lo : lo + segment], dtype=np.float32)
    i = np.asarray(instrumental[lo : lo + segment], dtype=np.float32)
    size = scipy.fft.next_fast_len(len(o) + 64, real=True)
    # transforms in single precision, the cross-spectrum the grid walks in double
    cross = np.conj(scipy.fft.rfft(o, size)).astype(np.complex128) * scipy.fft.rfft(i, size)
    weights = np.full(len(cross), 2.0)
    weights[0] = 1.0
    if size % 2 == 0:
        weights[-1] = 1.0
    cross *= weights
    omega = 2 * np.pi * np.arange(len(cross)) / size

    def scores(grid: np.ndarray) -> np.ndarray:
        # c(d) = Re Σ_k w_k conj(O_k) I_k e^{jω_k d}, the grid walked by one phase rotation per step
        phase = np.exp(1j * omega * grid[0])
        rotor = np.exp(1j * omega * (grid[1] - grid[0])) if len(grid) > 1 else phase
        out = np.empty(len(grid))
        for m in range(len(grid)):
            out[m] = float(np.real(np.dot(cross, phase)))
            phase *= rotor
        return out

    coarse = np.linspace(-FINE_RANGE, FINE_RANGE, int(round(2 * FINE_RANGE / COARSE_STEP)) + 1)
    centre = float(coarse[int(np.argmax(scores(coarse)))])
    grid = centre + np.arange(-COARSE_STEP, COARSE_STEP + FINE_STEP / 2, FINE_STEP)
    score = scores(grid)
    k = int(np.argmax(score))
    delay = float(grid[k])
    if 0 < k < len(grid) - 1:  # vertex of the parabola through the best three points
        a, b, c = score[k - 1], score[k], score[k + 1]
        denom = a - 2 * b + c
        if denom < 0:
            delay += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) * FINE_STEP
    shifted = fractional_shift(instrumental[:n], delay)
    # single-precision dot products (BLAS, a tenth of the cost of converting to double): their relative
    # error, about 1e-6, moves the gain far less than the derived voice's own accuracy
    power = float(np.dot(shifted, shifted))
    gain = max(float(np.dot(np.asarray(original[:n], dtype=np.float32), shifted)) / power, 0.0) if power > 0 else 0.0
    return FineAlignment(delay=delay, gain=gain), shifted
