"""Model masks over a whole track: streamed STFT, overlapping windows of the model's width, cross-fade.

The track (at the model's rate and channels, :mod:`vocalmine.core.spec`) is processed in blocks of windows, so memory
stays
flat in the track's length. Per block: STFT of the frames the block's windows
span, model input |X| / max|X| (max over the whole track, as in training:
checkpoint NORMALISATION), masks from the models in batches, cross-faded with
a triangular weight normalised to sum 1 per frame (no seams at window joins).

:func:`mask_blocks` yields the finished frames of each block;
:func:`separate_with_masks` turns them into 8192 Hz signals with a streamed
overlap-add iSTFT, and :func:`track_masks` collects them for the full-band
path (``vocalmine.model.fullband``).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from vocalmine.core.constants import HOP_LENGTH, N_BINS, N_FFT, PATCH_FRAMES
from vocalmine.core.errors import AudioError, ConfigError
from vocalmine.core.progress import progress
from vocalmine.core.spec import PAPER, SignalSpec
from vocalmine.core.stft import hann, max_magnitude, n_frames, stft_frames

WINDOW_HOP = PATCH_FRAMES // 2  # frames between window starts: 50% overlap
BLOCK_WINDOWS = 32  # windows per streamed block (~3 min of audio); bounds memory
SCALE_BLOCK_FRAMES = 4096  # frames per block of the first pass (track max |X|)
_FRONT = N_FFT // 2  # samples the centred STFT pads in front of the signal
_WINDOW = np.asarray(hann(N_FFT))
# Window-square sum of the overlap-add, periodic in the hop (frames start at multiples of the hop).
_WSS = _WINDOW[:HOP_LENGTH] ** 2
_WSS[: N_FFT - HOP_LENGTH] += _WINDOW[HOP_LENGTH:] ** 2

MaskFn = Callable[[np.ndarray], np.ndarray]


def crossfade_weights(frames: int = PATCH_FRAMES, hop: int = WINDOW_HOP) -> np.ndarray:
    """Cross-fade weights (frames,), strictly positive: linear ramps over the frames that
    overlap the neighbouring windows (a triangle at 50% overlap), so overlapping
    ramps sum to 1; edge frames are renormalised anyway.
    """
    ramp = max(frames - hop, 1)
    k = np.arange(frames, dtype=np.float64)
    return np.minimum(1.0, np.minimum((k + 0.5) / ramp, (frames - k - 0.5) / ramp)).astype(np.float32)


def window_layout(total_frames: int, *, frames: int = PATCH_FRAMES, hop: int = WINDOW_HOP) -> tuple[int, int]:
    """(number of windows, padded frame count) covering ``total_frames`` frames."""
    n_windows = 1 if total_frames <= frames else math.ceil((total_frames - frames) / hop) + 1
    return n_windows, (n_windows - 1) * hop + frames


def track_scale(y: np.ndarray, spec: SignalSpec = PAPER) -> float:
    """max |X| over the whole track, its channels and the model's bins, computed block by block."""
    return max_magnitude(y, n_fft=spec.n_fft, hop=spec.hop, bins=spec.bins, block_frames=SCALE_BLOCK_FRAMES)


class OverlapAdd:
    """Streaming inverse STFT into preallocated outputs, exact as librosa's istft."""

    def __init__(self, n_sources: int, n_samples: int):
        self.out = np.zeros((n_sources, n_samples), dtype=np.float32)
        self.carry = np.zeros((n_sources, N_FFT - HOP_LENGTH), dtype=np.float32)
        self.next_frame = 0

    def add(self, spec: np.ndarray) -> None:
        """Add consecutive frames (n_sources, 512 or 513, n) following the previous ones."""
        n_src, bins, nf = spec.shape
        if bins == N_BINS:  # the models have no Nyquist bin: restore it as zeros
            spec = np.concatenate([spec, np.zeros((n_src, 1, nf), dtype=spec.dtype)], axis=1)
        frames = np.fft.irfft(spec, n=N_FFT, axis=1).astype(np.float32) * _WINDOW[None, :, None]
        frames = frames.transpose(0, 2, 1)  # (S, nf, N_FFT)
        buf = np.zeros((n_src, nf + 1, HOP_LENGTH), dtype=np.float32)
        buf[:, :nf] = frames[:, :, :HOP_LENGTH]
        buf[:, 1:, : N_FFT - HOP_LENGTH] += frames[:, :, HOP_LENGTH:]
        buf[:, 0, : N_FFT - HOP_LENGTH] += self.carry
        self.carry = buf[:, nf, : N_FFT - HOP_LENGTH].copy()
        ready = (buf[:, :nf] / _WSS).reshape(n_src, nf * HOP_LENGTH)
        z0 = self.next_frame * HOP_LENGTH - _FRONT  # sample index of ready[:, 0]
        a, b = max(z0, 0), min(z0 + ready.shape[1], self.out.shape[1])
        if b > a:
            self.out[:, a:b] = ready[:, a - z0 : b - z0]
        self.next_frame += nf


def mask_blocks(
    mixture: np.ndarray,
    mask_fn: MaskFn,
    *,
    n_sources: int,
    block_windows: int = BLOCK_WINDOWS,
    window_hop: int = WINDOW_HOP,
    show_progress: bool = False,
    spec: SignalSpec = PAPER,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Cross-faded model masks of ``mixture``, block by block, in frame order.

    Args:
        mixture: float (n_samples,) mono, or (channels, n_samples), at ``spec``'s rate.
        mask_fn: maps normalised magnitudes (batch, [channels,] bins, patch_frames) to masks
            (n_sources, batch, [channels,] bins, patch_frames) in [0, 1].
        n_sources: how many masks ``mask_fn`` returns per window.
        block_windows: windows per streamed block.
        window_hop: frames between window starts (64 = 50% overlap of 128-frame windows;
            96 = 25%; the window's width = none, with seams).
        spec: the model's signal spec (its STFT, bins and window width).

    Yields:
        (masks float32 (n_sources, [channels,] bins, k), mixture STFT complex64
        ([channels,] n_fft // 2 + 1, k)) for consecutive frames; together they cover the
        n_frames(n_samples) frames once. The channel axis is there when ``mixture`` has one.
    """
    y = np.asarray(mixture, dtype=np.float32)
    if y.ndim not in (1, 2):
        raise AudioError(f"mixture must be (n_samples,) or (channels, n_samples), got shape {y.shape}")
    width = spec.patch_frames
    if not 1 <= window_hop <= width:
        raise ConfigError(f"window_hop must be in [1, {width}] frames, got {window_hop}")
    hop = window_hop
    total = n_frames(y.shape[-1], hop=spec.hop)
    n_windows, _ = window_layout(total, frames=width, hop=hop)
    scale = track_scale(y, spec)
    inv = 1.0 / scale if scale > 0 else 0.0  # a silent track gives silent outputs
    weights = crossfade_weights(width, hop)
    lead = (n_sources,) + y.shape[:-1] + (spec.bins,)  # (S, [C,] bins)
    carry_acc = np.zeros(lead + (0,), dtype=np.float32)
    carry_w = np.zeros(0, dtype=np.float32)
    starts = range(0, n_windows, max(1, block_windows))
    for i0 in progress(starts, desc="separate", unit="block") if show_progress else starts:
        i1 = min(i0 + block_windows, n_windows)
        fa, fb = i0 * hop, (i1 - 1) * hop + width
        stft_block = stft_frames(y, fa, fb, n_fft=spec.n_fft, hop=spec.hop)
        mag = np.abs(stft_block[..., : spec.bins, :]) * inv
        offsets = [(i - i0) * hop for i in range(i0, i1)]
        windows = np.stack([mag[..., o : o + width] for o in offsets])
        masks = np.asarray(mask_fn(windows), dtype=np.float32)  # (S, nw, [C,] bins, F)
        acc = np.zeros(lead + (fb - fa,), dtype=np.float32)
        wsum = np.zeros(fb - fa, dtype=np.float32)
        acc[..., : carry_acc.shape[-1]] += carry_acc
        wsum[: carry_w.shape[0]] += carry_w
        for k, o in enumerate(offsets):
            acc[..., o : o + width] += masks[:, k] * weights
            wsum[o : o + width] += weights
        done = fb - fa if i1 == n_windows else (i1 - i0) * hop  # frames no later window touches
        carry_acc, carry_w = acc[..., done:], wsum[done:]
        keep = min(done, total - fa)  # frames past the track's end were padding
        if keep > 0:
            yield acc[..., :keep] / wsum[:keep], stft_block[..., :keep]


def separate_with_masks(mixture: np.ndarray, mask_fn: MaskFn, *, n_sources: int, **options) -> np.ndarray:
    """Separate ``mixture`` (mono, 8192 Hz: the paper's spec) with any window-wise mask estimator.

    Args and options: as :func:`mask_blocks`.

    Returns:
        float32 (n_sources, n_samples): masked mixture STFT, mixture phase, iSTFT.
    """
    y = np.asarray(mixture, dtype=np.float32)
    ola = OverlapAdd(n_sources, y.shape[0])
    for mask, spec in mask_blocks(y, mask_fn, n_sources=n_sources, **options):
        ola.add(mask * spec[None, :N_BINS])
    assert ola.next_frame == n_frames(y.shape[0])
    return ola.out


def track_masks(mixture: np.ndarray, mask_fn: MaskFn, *, n_sources: int, **options) -> np.ndarray:
    """The cross-faded masks of the whole track: float32 (n_sources, [channels,] bins, n_frames)."""
    blocks = [mask for mask, _ in mask_blocks(mixture, mask_fn, n_sources=n_sources, **options)]
    return np.concatenate(blocks, axis=-1) if len(blocks) > 1 else blocks[0]


def unet_mask_fn(models: Sequence[torch.nn.Module], *, device: str | torch.device = "cpu", batch_size: int = 8,
                 channels_last: bool = False) -> MaskFn:
    """A :data:`MaskFn` running each model on batches of windows, without gradients.

    ``channels_last`` moves the models and their input to that memory format: oneDNN's
    blocked bf16 convolutions run about 20% faster so (on CPU under bf16 autocast, and on CUDA).
    """
    device = torch.device(device)
    for model in models:
        model.eval().to(device)
        if channels_last:
            model.to(memory_format=torch.channels_last)

    def mask_fn(windows: np.ndarray) -> np.ndarray:
        """(batch, [channels,] bins, frames) -> (models, batch, [channels,] bins, frames)."""
        out = np.empty((len(models),) + windows.shape, dtype=np.float32)
        mono = windows.ndim == 3
        with torch.inference_mode():
            for b in range(0, windows.shape[0], batch_size):
                x = torch.from_numpy(np.ascontiguousarray(windows[b : b + batch_size])).to(device)
                if mono:
                    x = x.unsqueeze(1)  # (batch, 1, bins, frames)
                if channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                for s, model in enumerate(models):
                    masks = model(x).float().cpu().numpy()
                    out[s, b : b + batch_size] = masks[:, 0] if mono else masks
        return out

    return mask_fn
