"""Features of one (original, instrumental) pair: a pure function of two signals.

align -> trim to the overlap -> STFT -> gain fit -> X, g·Y_i, Y_v = max(X − g·Y_i, 0)
-> quality metrics and exclusion rules -> the aligned waveforms a shard stores
(original, g·instrumental at a sub-sample delay), from which training derives
spectrograms, targets and remixes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from vocalmine.core.audio import mono_at, read_audio, read_mono, to_float16
from vocalmine.core.spec import ANALYSIS_RATE
from vocalmine.core.constants import HOP_LENGTH, PATCH_FRAMES, SAMPLE_RATE, SHARD_DTYPE
from vocalmine.core.errors import AudioError
from vocalmine.core.contract import features_reasons as reasons
from vocalmine.features.align import (FineAlignment, apply_offset, estimate_offset, refine_alignment, refine_and_shift)
from vocalmine.features.coherence import phase_coherence
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.gain import estimate_gain
from vocalmine.core.stft import istft, magnitude, stft
from vocalmine.core.target import vocal_target

CLIP_LEVEL = 0.99  # |sample| at or above this counts as clipped (after resampling to 8192 Hz)


@dataclass(frozen=True)
class Decoded:
    """A decoded file at its own rate, and the mono signal the analysis runs on."""

    data: np.ndarray | None  # float32 (channels, n) at ``rate``; None when decoded for the analysis only
    rate: int  # Hz
    analysis: np.ndarray  # float32 (m,): the mono downmix at the analysis rate (8192 Hz)
    seconds: float  # the file's duration

    @property
    def channels(self) -> int:
        return int(self.data.shape[0])


@dataclass
class PairFeatures:
    """Everything :func:`pair_features` computes for one pair.

    ``waveforms`` is None when the pair is excluded (``reason`` is then a code of
    :mod:`vocalmine.core.contract.features_reasons`).
    """

    reason: str = ""  # "" when kept, else a features reason code
    detail: str = ""  # human-readable explanation of the reason
    offset: int = 0  # instrumental lag, samples at 8192 Hz
    confidence: float = math.nan  # normalised cross-correlation at the lag, 0..1
    gain: float = math.nan  # g: original ≈ g · instrumental
    start: int = 0  # first original sample of the aligned overlap
    length: int = 0  # samples in the aligned overlap
    scale: float = math.nan  # max of X over the track; stored X = X / scale
    vocal_ratio: float = math.nan  # sum Y_v² / sum X²
    residual_ratio: float = math.nan  # sum (X − g·Y_i)² / sum X² in the frames the instrumental explains
    # whole-track phase coherence of X and Y_i in the bins the instrumental carries, about -1..1
    coherence: float = math.nan
    segment_coherence: float = math.nan  # the lowest per-segment phase coherence, -1..1 (NaN: no segment judged)
    segment_start_s: float = math.nan  # seconds into the original where that segment starts (NaN: none judged)
    carried_fraction: float = math.nan  # share of energetic bins where |X| and g·|Y_i| agree (the coherence's bins)
    clip_fraction: float = math.nan  # share of original samples at full scale
    silence_fraction: float = math.nan  # share of original frames below the frame silence threshold
    waveforms: np.ndarray | None = None  # (2, length) float16: original, wave_gain · instrumental(n + delay)
    delay: float = 0.0  # sub-sample lag of the instrumental after the integer offset, samples
    wave_gain: float = math.nan  # least-squares gain of the delayed instrumental in the original (time domain)
    valid_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # (n,) frames of each grid patch
    # (n,) first frame of each grid patch
    start_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    @property
    def n_patches(self) -> int:
        """128-frame patches of the fixed grid over the pair (the unit that reports count)."""
        return 0 if self.waveforms is None else len(self.start_frames)


def rms_db(y: np.ndarray) -> float:
    """RMS level of ``y`` in dBFS (-inf for silence)."""
    if y.size == 0:
        return -math.inf
    power = float(np.dot(y, y)) / y.size  # float32 BLAS dot: ample precision for a level in dB
    return 10 * math.log10(power) if power > 0 else -math.inf


def frame_silence_fraction(y: np.ndarray, *, threshold_db: float) -> float:
    """Share of hop-long blocks of ``y`` whose RMS is below ``threshold_db``."""
    n = len(y) // HOP_LENGTH
    if n == 0:
        return 1.0 if rms_db(y) < threshold_db else 0.0
    blocks = y[: n * HOP_LENGTH].reshape(n, HOP_LENGTH)
    power = np.einsum("ij,ij->i", blocks, blocks) / HOP_LENGTH
    return float(np.mean(power < 10 ** (threshold_db / 10)))


def patch_grid(frames: int, patch_frames: int = PATCH_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """The fixed grid of ``patch_frames``-frame patches over ``frames`` STFT frames (the last one partly padding).

    Returns:
        valid_frames (n,) int32, start_frames (n,) int32, n >= 1.
    """
    n = max(1, -(-frames // patch_frames))
    starts = np.arange(n, dtype=np.int32) * patch_frames
    return np.minimum(patch_frames, frames - starts).astype(np.int32), starts


def aligned_waveforms(orig: np.ndarray, inst: np.ndarray) -> tuple[np.ndarray, FineAlignment]:
    """What a shard stores of a pair: (original, g·instrumental) aligned to a fraction of a sample.

    Args:
        orig, inst: (L,) float32, already aligned to the sample (:func:`apply_offset`).

    Returns:
        (2, L) SHARD_DTYPE waveforms, and the fractional delay and least-squares gain applied.
    """
    fine, shifted = refine_and_shift(orig, inst)  # the shift the gain was fitted on, not computed twice
    out = np.empty((2, len(orig)), dtype=SHARD_DTYPE)
    to_float16(orig, out[0])
    shifted *= np.float32(fine.gain)
    to_float16(shifted, out[1])
    return out, fine


def _residual_ratio(mix: np.ndarray, inst_scaled: np.ndarray, vocal: np.ndarray, *, fraction: float) -> float:
    frame_mix = np.einsum("kt,kt->t", mix, mix)
    frame_voc = np.einsum("kt,kt->t", vocal, vocal)
    diff = mix - inst_scaled
    frame_res = np.einsum("kt,kt->t", diff, diff)
    audible = frame_mix > frame_mix.max() * 1e-6
    if not audible.any():
        return math.nan
    ratio = frame_voc[audible] / frame_mix[audible]
    k = max(1, int(round(fraction * ratio.size)))
    best = np.argsort(ratio, kind="stable")[:k]
    return float(frame_res[audible][best].sum() / frame_mix[audible][best].sum())


def gate(result: PairFeatures, config: FeaturesConfig) -> tuple[str, str]:
    """The exclusion rules of an aligned, gain-matched pair: (reason code or "", detail naming value and threshold).

    too_different: another recording — the phase coherence, over the whole track or in
    one segment, is below its threshold (then the opt-in alignment-confidence and
    residual-ratio rules); too_similar: no vocal content.
    """
    if not result.coherence >= config.min_coherence:
        return reasons.TOO_DIFFERENT, (
            f"phase coherence {result.coherence:.3f} < {config.min_coherence} in the bins the instrumental carries "
            f"({result.carried_fraction:.0%} of bins; lowest segment {result.segment_coherence:.3f}): "
            "another recording")
    if not np.isnan(result.segment_coherence) and result.segment_coherence < config.min_segment_coherence:
        seconds = config.coherence_segment_s
        return reasons.TOO_DIFFERENT, (
            f"segment phase coherence {result.segment_coherence:.3f} < {config.min_segment_coherence} "
            f"in the {seconds:g}-s "
            f"segment at {result.segment_start_s:.1f} s (whole track {result.coherence:.3f}): "
            "another edit, a section differs")
    if not result.confidence >= config.min_align_confidence:
        return reasons.TOO_DIFFERENT, f"alignment confidence {result.confidence:.3f} < {config.min_align_confidence}"
    if math.isfinite(config.max_residual_ratio) and not result.residual_ratio <= config.max_residual_ratio:
        return reasons.TOO_DIFFERENT, (f"residual ratio {result.residual_ratio:.3f} > {config.max_residual_ratio} "
                                       "where the instrumental should explain the original")
    if not result.vocal_ratio >= config.min_vocal_ratio:
        return reasons.TOO_SIMILAR, f"vocal ratio {result.vocal_ratio:.4f} < {config.min_vocal_ratio}: no vocal content"
    return "", ""


def pair_features(original: np.ndarray, instrumental: np.ndarray, *,
                  config: FeaturesConfig = FeaturesConfig(), waveforms: bool = True) -> PairFeatures:
    """Align, gain-match and patch one pair of mono 8192 Hz signals.

    Args:
        original: (n,) float32, the original mix.
        instrumental: (m,) float32, the instrumental version.
        config: thresholds and search range.
        waveforms: build the aligned 8192 Hz waveforms a paper-spec shard stores; False when the kept pair
            is stored at another spec (only its delay and gain are needed, and ``waveforms`` stays None).

    Returns:
        A :class:`PairFeatures`; excluded pairs carry a reason and no patches.
    """
    out = PairFeatures()
    out.clip_fraction = float(np.mean(np.abs(original) >= CLIP_LEVEL)) if original.size else math.nan
    min_len = int(round(config.min_duration_s * SAMPLE_RATE))
    for name, y in (("original", original), ("instrumental", instrumental)):
        level = rms_db(y)
        if level < config.silence_db:
            out.reason, out.detail = reasons.SILENT, f"{name} RMS {level:.1f} dBFS < {config.silence_db} dBFS"
            return out
    if min(len(original), len(instrumental)) < min_len:
        out.reason = reasons.TOO_SHORT
        shortest = min(len(original), len(instrumental)) / SAMPLE_RATE
        out.detail = f"shortest file {shortest:.2f} s < {config.min_duration_s} s"
        return out

    alignment = estimate_offset(original, instrumental, max_lag=int(round(config.max_offset_s * SAMPLE_RATE)))
    out.offset, out.confidence = alignment.offset, alignment.confidence
    orig, inst, out.start = apply_offset(original, instrumental, alignment.offset)
    out.length = len(orig)
    out.silence_fraction = frame_silence_fraction(orig, threshold_db=config.frame_silence_db)
    if out.length < min_len:
        out.reason = reasons.TOO_SHORT
        out.detail = f"aligned overlap {out.length / SAMPLE_RATE:.2f} s < {config.min_duration_s} s"
        return out

    mix_spec, inst_spec = stft(orig), stft(inst)
    fit = estimate_gain(mix_spec, inst_spec, dominance=config.dominance, iterations=config.gain_iterations)
    out.gain = fit.gain
    mix, inst_scaled = magnitude(mix_spec), magnitude(inst_spec)
    inst_scaled *= np.float32(fit.gain)
    vocal = vocal_target(mix, inst_scaled)
    mix_energy = float(np.einsum("kt,kt->", mix, mix, dtype=np.float64))
    out.vocal_ratio = float(np.einsum("kt,kt->", vocal, vocal,
                                      dtype=np.float64)) / mix_energy if mix_energy > 0 else math.nan
    out.residual_ratio = _residual_ratio(mix, inst_scaled, vocal, fraction=config.explained_fraction)
    coherence = phase_coherence(mix_spec, inst_spec, gain=fit.gain, ratio=config.coherence_ratio,
                                segment_frames=max(1, round(config.coherence_segment_s * SAMPLE_RATE / HOP_LENGTH)),
                                min_bins=config.coherence_min_bins, gain_quantile=config.coherence_gain_quantile)
    out.coherence, out.segment_coherence = coherence.whole, coherence.lowest_segment
    if coherence.lowest_segment_start >= 0:  # seconds into the original, so a report can play that segment
        out.segment_start_s = (out.start + coherence.lowest_segment_start * HOP_LENGTH) / SAMPLE_RATE
    out.carried_fraction = coherence.selected_fraction
    out.scale = float(mix.max())

    out.reason, out.detail = gate(out, config)
    if out.reason:
        return out
    if waveforms:
        out.waveforms, fine = aligned_waveforms(orig, inst)
    else:  # the caller stores the pair at another rate (features/render.py): the delay and gain are enough
        fine = refine_alignment(orig, inst)
    out.delay, out.wave_gain = fine.delay, fine.gain
    out.valid_frames, out.start_frames = patch_grid(mix.shape[1])
    return out


def decode_pair(original_path, instrumental_path, *, channels: bool = True) -> tuple[Decoded, Decoded]:
    """Decode both files of a pair at their own rate, with their analysis signals; ``channels`` keeps
    every channel's samples too (a shard at a spec other than the paper's is rendered from them).

    Raises:
        AudioError: naming the file that cannot be decoded (its ``side`` attribute is
            "original" or "instrumental").
    """
    decoded = []
    for side, path in (("original", original_path), ("instrumental", instrumental_path)):
        try:
            if channels:
                data, rate = read_audio(path, contiguous=False)
                signal = data
            else:
                mono, rate = read_mono(path)
                data, signal = None, mono[None]
            analysis = mono_at(signal, rate, ANALYSIS_RATE, source=path)
            decoded.append(Decoded(data, rate, analysis, signal.shape[1] / rate))
        except AudioError as exc:
            exc.side = side
            raise
    return decoded[0], decoded[1]


def load_pair(original_path, instrumental_path) -> tuple[np.ndarray, np.ndarray]:
    """Decode both files of a pair to mono float32 at the analysis rate, 8192 Hz (see :func:`decode_pair`)."""
    original, instrumental = decode_pair(original_path, instrumental_path, channels=False)
    return original.analysis, instrumental.analysis


def vocal_estimate(original: np.ndarray, instrumental: np.ndarray, *, offset: int, gain: float) -> tuple[np.ndarray,
                                                                                                         int]:
    """Resynthesise the derived vocal Y_v = max(X − g·Y_i, 0) with the mixture phase.

    Returns:
        (vocal (L,) float32 over the aligned overlap, start sample in the original).
    """
    orig, inst, start = apply_offset(original, instrumental, offset)
    mix_spec = stft(orig)
    vocal = vocal_target(np.abs(mix_spec), np.abs(stft(inst)), gain)
    return istft(vocal * np.exp(1j * np.angle(mix_spec)), len(orig)), start
