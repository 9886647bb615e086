"""A kept pair rendered at any rate and channels: the shards' spec, or the releases' own rate for an export.

The analysis (:func:`vocalmine.features.pair.pair_features`) aligns and gates
the pair once, on mono downmixes at the analysis rate (8192 Hz). Here that lag
is carried to the target rate and refined there to a fraction of a sample on
the downmix, and then the one delay and the one least-squares gain are applied
to every channel of the instrumental. Each file is resampled once, from its own
rate to the target rate (soxr).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalmine.core.audio import resample_channels, to_channels, to_float16
from vocalmine.core.spec import ANALYSIS_RATE, SignalSpec
from vocalmine.core.stft import max_magnitude, n_frames
from vocalmine.features.align import FINE_SEGMENT_S, fractional_shift, overlap_bounds, refine_alignment
from vocalmine.features.pair import Decoded, PairFeatures, patch_grid


@dataclass(frozen=True)
class RenderedPair:
    """Original and gain-matched, aligned instrumental at one rate."""

    waveforms: np.ndarray  # float32 (2, channels, L): original, gain · instrumental(n + delay)
    start: int  # first original sample of the overlap, at ``sample_rate``
    delay: float  # the instrumental's lag after the integer one, samples at ``sample_rate``
    offset: int  # the instrumental's integer lag, samples at ``sample_rate``
    gain: float  # least-squares gain of the delayed instrumental in the original (one for every channel)
    sample_rate: int


def render_pair(original: Decoded, instrumental: Decoded, *, lag: float, sample_rate: int,
                channels: int) -> RenderedPair:
    """The pair at ``sample_rate`` with ``channels`` channels, aligned and gain-matched.

    Args:
        original, instrumental: the decoded files.
        lag: the instrumental's lag found by the analysis, in samples at the analysis rate
            (integer offset plus the fractional delay): instrumental(n + lag) ≈ original(n) / g.
        sample_rate: target rate in Hz.
        channels: target channels (see :func:`vocalmine.core.audio.to_channels`).
    """
    orig = resample_channels(to_channels(original.data, channels), original.rate, sample_rate)
    inst = resample_channels(to_channels(instrumental.data, channels), instrumental.rate, sample_rate)
    target_lag = lag * sample_rate / ANALYSIS_RATE
    offset = int(round(target_lag))
    start, stop = overlap_bounds(orig.shape[1], inst.shape[1], offset)
    stop = max(stop, start)
    orig, inst = orig[:, start:stop], inst[:, start + offset : stop + offset]
    # the analysis lag is known to ~0.05 of an analysis sample; refined here at the target rate, ±1 sample
    fine = refine_alignment(orig.mean(axis=0), inst.mean(axis=0), segment=int(FINE_SEGMENT_S * sample_rate))
    out = np.empty((2,) + orig.shape, dtype=np.float32)
    out[0] = orig
    for c in range(orig.shape[0]):
        out[1, c] = fine.gain * fractional_shift(inst[c], fine.delay)
    return RenderedPair(waveforms=out, start=start, delay=fine.delay, offset=offset, gain=fine.gain,
                        sample_rate=sample_rate)


def store_at_spec(result: PairFeatures, original: Decoded, instrumental: Decoded, spec: SignalSpec) -> None:
    """Replace a kept pair's stored waveforms (made at the analysis rate) by the pair at ``spec``.

    Sets ``waveforms`` to (2 · channels, L) SHARD_DTYPE rows, the original's channels and then
    the instrumental's (:mod:`vocalmine.core.contract.shards`), and the delay, gain, scale
    and patch grid that go with them.
    """
    rendered = render_pair(original, instrumental, lag=result.offset + result.delay, sample_rate=spec.sample_rate,
                           channels=spec.channels)
    waves = rendered.waveforms
    result.waveforms = to_float16(waves.reshape(2 * spec.channels, waves.shape[-1]))
    result.delay, result.wave_gain = rendered.delay, rendered.gain
    result.scale = max_magnitude(waves[0], n_fft=spec.n_fft, hop=spec.hop, bins=spec.bins)
    frames = n_frames(waves.shape[-1], hop=spec.hop)
    result.valid_frames, result.start_frames = patch_grid(frames, spec.patch_frames)
