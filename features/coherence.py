"""Phase coherence of an original and its aligned instrumental: "the same recording plus a voice" or not.

Model: in the complex STFT, X = g_t·e^{jφ_k}·Y_i + V for the same recording, with
V the voice, g_t the instrumental's gain (it may drift with a fade or dynamics
that one release has) and φ_k a constant phase per frequency (a residual
sub-sample delay after integer alignment, a linear-phase resampler). In the
time-frequency bins where the gain-matched instrumental carries most of the
original — where |X| and g_t·|Y_i| agree within a factor ``ratio`` — the voice
is weak, so X and Y_i have the same phase up to φ_k, however loud the voice is
elsewhere. Another recording (another performance, a live take, another song)
has unrelated phases even where its magnitudes happen to look alike, and
another edit has them only in the parts that line up. Magnitudes alone cannot
tell these apart: |V + A| falls below |A| in about half of the bins where the
voice is faint.

The track is cut into segments of a few seconds. For each segment, the sums
Σ_t X·conj(g_t·Y_i) per frequency over its selected bins are projected on the
phase e^{jφ_k} estimated from the *other* segments:

    c_j = Re Σ_k S_jk · e^{−jφ_k} / sqrt(Σ|X|² · Σ|g_t·Y_i|²)      (bins of segment j)

about 1 for the same recording, about 0 (either sign) where the phases are
unrelated, however few bins a segment has: its own bins never set its
reference. The whole-track coherence sums the projections of all segments over
all the power. The gate takes both the whole-track value and the lowest segment.

Pure NumPy; see docs/architecture.md, "Measured pitfalls".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

# Bins of the gain-matched instrumental this far below its loudest bin are not used (codec cut-offs, silence).
ENERGY_FLOOR_DB = -50.0


@dataclass(frozen=True)
class Coherence:
    """Result of :func:`phase_coherence`."""

    whole: float  # coherence over the whole aligned overlap, about -1..1 (NaN when no bin is selected)
    segments: np.ndarray  # (n_segments,) float64 per-segment coherence, -1..1, NaN where a segment has too few bins
    segment_starts: np.ndarray  # (n_segments,) int64 first STFT frame of each segment
    selected_fraction: float  # share of the energetic bins selected (|X| and g_t·|Y_i| within the ratio)

    @property
    def lowest_segment(self) -> float:
        """The lowest per-segment coherence (NaN when no segment has enough bins)."""
        valid = self.segments[~np.isnan(self.segments)]
        return float(valid.min()) if valid.size else math.nan

    @property
    def lowest_segment_start(self) -> int:
        """First frame of the segment with the lowest coherence (-1 when no segment has enough bins)."""
        return int(self.segment_starts[np.nanargmin(self.segments)]) if (~np.isnan(self.segments)).any() else -1


def frame_gain(mix_mag: np.ndarray, inst_mag: np.ndarray, energetic: np.ndarray, *, gain: float, quantile: float = 0.25,
               smooth: int = 5) -> np.ndarray:
    """Gain of the instrumental in each frame: a low quantile of |X| / |Y_i| over the frame's energetic bins.

    A fade or a dynamics processor that only one release has makes the gain vary
    in time. A voice raises |X| above g·|Y_i| in the bins it holds, so a low
    quantile, not the mean, follows the instrumental's own level even when the
    voice holds most bins. Taken over every other frequency bin, median-filtered
    over ``smooth`` frames; frames with fewer than 16 such bins keep ``gain``.

    Args:
        mix_mag: |X|, (K, T).
        inst_mag: |Y_i|, (K, T), not gain-scaled.
        energetic: (K, T) bool, the bins to use.
        gain: the whole-track gain g.
        quantile: which quantile of the per-bin ratios, 0..1.
        smooth: median filter length, frames.

    Returns:
        (T,) float64 gain per frame.
    """
    # sorted per frame with the unused bins last (+inf): the quantile is an index into each column
    # (the "lower" quantile; np.nanquantile costs about 8x more)
    # every other bin is plenty, at half the cost
    mix_mag, inst_mag, energetic = mix_mag[::2], inst_mag[::2], energetic[::2]
    ratio = np.full(mix_mag.shape, np.inf, dtype=np.float32)
    np.divide(mix_mag, inst_mag, out=ratio, where=energetic)
    ratio.sort(axis=0)
    count = np.count_nonzero(energetic, axis=0)
    enough = count >= 16
    out = np.full(mix_mag.shape[1], float(gain))
    if enough.any():
        rows = np.floor(quantile * (count[enough] - 1)).astype(np.int64)
        out[enough] = ratio[rows, np.flatnonzero(enough)]
    if smooth > 1 and out.size >= smooth:
        out = scipy.ndimage.median_filter(out, size=smooth, mode="nearest")
    return out


def carried_bins(mix_mag: np.ndarray, inst_mag: np.ndarray, *, ratio: float) -> np.ndarray:
    """Bins where the gain-matched instrumental carries the original: 1/ratio <= |X| / (g·|Y_i|) <= ratio.

    Args:
        mix_mag: |X|, (K, T) float.
        inst_mag: g·|Y_i|, (K, T) float, the instrumental already gain-matched.
        ratio: largest magnitude ratio either way (> 1).

    Returns:
        (K, T) bool; bins of the instrumental below :data:`ENERGY_FLOOR_DB` of its peak are never selected.
    """
    peak = float(inst_mag.max()) if inst_mag.size else 0.0
    if peak <= 0:
        return np.zeros(inst_mag.shape, dtype=bool)
    energetic = inst_mag > peak * 10 ** (ENERGY_FLOOR_DB / 20)
    return energetic & (mix_mag <= ratio * inst_mag) & (inst_mag <= ratio * mix_mag)


def segment_bounds(n_frames: int, segment_frames: int) -> list[tuple[int, int]]:
    """Frame ranges [a, b) of round(n_frames / segment_frames) consecutive segments of (nearly) equal length."""
    if n_frames <= segment_frames:
        return [(0, n_frames)]
    count = max(1, int(round(n_frames / segment_frames)))
    edges = np.linspace(0, n_frames, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def _folds(n_frames: int, bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The segments, or two halves when there is one segment: each is left out in turn to estimate the phase."""
    if len(bounds) >= 2 or n_frames < 2:
        return bounds
    return [(0, n_frames // 2), (n_frames // 2, n_frames)]


def phase_coherence(mix_spec: np.ndarray, inst_spec: np.ndarray, *, gain: float, ratio: float = 1.5,
                    segment_frames: int = 32, min_bins: int = 200, gain_quantile: float | None = 0.25) -> Coherence:
    """Whole-track and per-segment phase coherence of X and Y_i in the bins the instrumental carries.

    The phase e^{jφ_k} a segment is projected on is estimated from the other
    segments only, so a segment of unrelated phases scores about 0 however few
    bins it has, and the whole-track value (the projections summed) does too.

    Args:
        mix_spec: complex STFT of the original, (K, T).
        inst_spec: complex STFT of the aligned instrumental, (K, T) (not gain-scaled).
        gain: g, original ≈ g · instrumental over the whole track.
        ratio: a bin is used when |X| and the gain-matched |Y_i| agree within this factor (> 1).
        segment_frames: frames per segment (32 frames are 3 s at hop 768 and 8192 Hz).
        min_bins: a segment with fewer selected bins gets NaN.
        gain_quantile: match the instrumental's level frame by frame (:func:`frame_gain` with this
            quantile) before selecting bins; None: with ``gain`` alone.

    Returns:
        A :class:`Coherence`.
    """
    n_frames = mix_spec.shape[1]
    mix_mag, inst_abs = np.abs(mix_spec), np.abs(inst_spec)
    energetic_bins = inst_abs > (inst_abs.max() if inst_abs.size else 0) * 10 ** (ENERGY_FLOOR_DB / 20)
    energetic = int(np.count_nonzero(energetic_bins))
    bounds = segment_bounds(n_frames, segment_frames)
    starts = np.array([a for a, _ in bounds], dtype=np.int64)
    nothing = Coherence(whole=math.nan, segments=np.full(len(bounds), math.nan), segment_starts=starts,
                        selected_fraction=0.0)
    if not energetic or not gain > 0:
        return nothing
    # the instrumental gain-matched frame by frame (fades, dynamics) or as a whole: real and positive, phases untouched
    if gain_quantile is None:
        scale = np.full(n_frames, float(gain), dtype=np.float32)
    else:
        scale = frame_gain(mix_mag, inst_abs, energetic_bins, gain=gain, quantile=gain_quantile).astype(np.float32)
    inst_mag = inst_abs * scale[None, :]  # (K, T)
    selected = carried_bins(mix_mag, inst_mag, ratio=ratio) & energetic_bins
    if not selected.any():
        return nothing
    cross = mix_spec * np.conj(inst_spec)  # (K, T) complex64
    cross *= scale[None, :]
    cross[~selected] = 0  # only the selected bins count
    mix_sel, inst_sel = mix_mag * selected, inst_mag * selected  # (K, T), 0 outside the selection
    mix_power = np.einsum("kt,kt->t", mix_sel, mix_sel, dtype=np.float64)  # (T,)
    inst_power = np.einsum("kt,kt->t", inst_sel, inst_sel, dtype=np.float64)  # (T,)

    folds = _folds(n_frames, bounds)
    edges = np.array([a for a, _ in folds])
    sums = np.add.reduceat(cross, edges, axis=1, dtype=np.complex128)  # (K, n_folds)
    others = sums.sum(axis=1, keepdims=True) - sums  # the phase reference of each fold, from the other folds
    projected = np.real(np.sum(sums * np.conj(others) / np.maximum(np.abs(others), 1e-300), axis=0))  # (n_folds,)
    px, py = np.add.reduceat(mix_power, edges), np.add.reduceat(inst_power, edges)  # (n_folds,)
    whole = float(projected.sum() / math.sqrt(px.sum() * py.sum()))
    segments = np.full(len(bounds), math.nan)
    if len(bounds) >= 2:
        counts = np.add.reduceat(np.count_nonzero(selected, axis=0), edges)
        ok = (counts >= min_bins) & (px * py > 0)
        segments[ok] = projected[ok] / np.sqrt(px[ok] * py[ok])
    elif np.count_nonzero(selected) >= min_bins:
        segments[0] = whole
    return Coherence(whole=whole, segments=segments, segment_starts=starts,
                     selected_fraction=float(np.count_nonzero(selected)) / energetic)
