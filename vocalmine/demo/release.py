"""From stems to released files: mastering, instrumental offsets, formats and truth stems.

Mastering of an original = one gain ``G_o`` plus a gentle look-ahead peak
limiter (threshold -1 dBFS). ``G_o`` is capped so that the limiter never
reduces more than ``MAX_LIMITING_DB``; it engages on a few peaks at most, and
its gain curve is applied to the stems too, so the stems sum to the release.
An instrumental release = the accompaniment times ``G_i`` (no limiter, peak
below 0.95), delayed by ``offset_s`` (either sign) and often with a longer
ring-out. Hence, at 8192 Hz, original accompaniment(t) = g · instrumental(t +
offset_s) with g = G_o / G_i, exactly except where the limiter or the final
fade-out acts (and for MP3 coding noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from vocalmine.core.audio import resample, write_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.demo.synth import SYNTH_RATE

LIMIT_THRESHOLD = 10 ** (-1.0 / 20)  # limiter threshold, linear (-1 dBFS)
MAX_LIMITING_DB = 0.8  # G_o is capped so the limiter reduces the loudest peak by at most this, dB
LIMITER_WINDOW_S = 0.005  # look-ahead / hold window of the limiter, seconds
FADE_S = 0.03  # fade-out at the cut of every release, seconds
INSTRUMENTAL_PEAK = 0.95  # instrumental releases are scaled down to at most this peak
FRACTIONAL_TAPS = 64  # length of the fractional-delay filter
SUBTYPES = {".wav": "PCM_16", ".flac": "PCM_16", ".mp3": None}  # soundfile subtype per container


@dataclass(frozen=True)
class AudioFormat:
    """How one release is stored."""

    suffix: str  # ".wav", ".flac" or ".mp3"
    sr: int  # sample rate of the file, Hz
    channels: int  # 1 (mono) or 2 (stereo)


@dataclass(frozen=True)
class Master:
    """An original release at the synthesis rate, with its stems as they sit in it."""

    mix: np.ndarray  # (n, 2) float64 stereo release signal
    vocals: np.ndarray  # (n,) float64 mono vocal stem (gain, limiter and fade applied)
    accompaniment: np.ndarray  # (n,) float64 mono accompaniment stem
    gain: float  # G_o, the mastering gain applied to the accompaniment as synthesised
    limited_fraction: float  # share of samples where the limiter reduced the gain


def limiter_gain(stereo: np.ndarray, sr: int) -> np.ndarray:
    """Gain curve (n,) of a look-ahead peak limiter with threshold :data:`LIMIT_THRESHOLD`.

    A minimum filter then a moving average of the same width keep the curve
    at or below the needed reduction everywhere and free of steps.
    """
    peak = np.abs(stereo).max(axis=1)
    needed = np.minimum(1.0, LIMIT_THRESHOLD / np.maximum(peak, 1e-12))
    if needed.min() >= 1.0:
        return np.ones_like(needed)
    width = max(3, int(LIMITER_WINDOW_S * sr) | 1)
    held = scipy.ndimage.minimum_filter1d(needed, width, mode="nearest")
    return np.minimum(scipy.ndimage.uniform_filter1d(held, width, mode="nearest"), needed)


def fade_out(n: int, sr: int) -> np.ndarray:
    """(n,) ones ending in a raised-cosine fade of :data:`FADE_S`."""
    env = np.ones(n)
    k = min(n, int(FADE_S * sr))
    env[n - k :] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, k))
    return env


def master(vocal: np.ndarray, accompaniment: np.ndarray, *, length: int, loudness_db: float,
           sr: int = SYNTH_RATE) -> Master:
    """Mix ``vocal`` (n,) and ``accompaniment`` (n, 2), cut to ``length`` samples, master to ``loudness_db`` RMS.

    Args:
        vocal: (>= length,) mono vocal at the level it has in the mix.
        accompaniment: (>= length, 2) stereo accompaniment; its channel mean is the mono stem.
        length: samples of the release.
        loudness_db: target RMS of the mix, dBFS, before the limiter.
    """
    voc = vocal[:length]
    acc = accompaniment[:length]
    mix = acc + voc[:, None]
    rms = np.sqrt(np.mean(mix**2)) + 1e-12
    gain = 10 ** (loudness_db / 20) / rms
    gain = min(gain, LIMIT_THRESHOLD * 10 ** (MAX_LIMITING_DB / 20) / np.abs(mix).max())
    limiter = limiter_gain(gain * mix, sr)
    env = limiter * fade_out(length, sr) * gain
    return Master(
        mix=mix * env[:, None],
        vocals=voc * env,
        accompaniment=acc.mean(axis=1) * env,
        gain=float(gain),
        limited_fraction=float(np.mean(limiter < 1.0 - 1e-9)),
    )


def delayed(stereo: np.ndarray, *, offset_s: float, length: int, sr: int = SYNTH_RATE) -> np.ndarray:
    """``out[n] = stereo(n / sr - offset_s)``: a fractional delay, zero outside the input.

    The whole-sample part is a shift; the fraction is a 64-tap Kaiser-windowed
    sinc, flat to better than 0.01 dB below 8 kHz at 22.05 kHz.

    Args:
        stereo: (m, 2) signal.
        offset_s: delay in seconds; negative values advance the signal (its start is cut).
        length: samples of the output.

    Returns:
        (length, 2) float64.
    """
    delay = offset_s * sr
    whole = int(np.floor(delay))
    frac = delay - whole
    taps = np.arange(-FRACTIONAL_TAPS // 2 + 1, FRACTIONAL_TAPS // 2 + 1)  # j in the sum x[m - j] h[j]
    h = np.sinc(taps - frac) * np.kaiser(FRACTIONAL_TAPS, 8.0)
    full = np.stack([np.convolve(stereo[:, c], h) for c in range(stereo.shape[1])], axis=1)
    out = np.zeros((length, stereo.shape[1]))
    src = np.arange(length) - whole - taps[0]  # out[n] = full[n - whole - j0]
    ok = (src >= 0) & (src < full.shape[0])
    out[ok] = full[src[ok]]
    return out


def for_format(stereo: np.ndarray, fmt: AudioFormat, sr: int = SYNTH_RATE) -> np.ndarray:
    """The samples to store: (n', 2) or (n',) float32 at ``fmt.sr``."""
    y = stereo if fmt.channels == 2 else stereo.mean(axis=1)
    return resample(np.ascontiguousarray(y, dtype=np.float32), sr, fmt.sr)


def stem_as_loaded(mono: np.ndarray, fmt: AudioFormat, sr: int = SYNTH_RATE) -> np.ndarray:
    """A stem resampled the way its release reaches the pipeline: to ``fmt.sr``, then to 8192 Hz."""
    at_file_rate = resample(np.ascontiguousarray(mono, dtype=np.float32), sr, fmt.sr)
    return resample(at_file_rate, fmt.sr, SAMPLE_RATE)


def write_release(path, stereo: np.ndarray, fmt: AudioFormat, sr: int = SYNTH_RATE) -> float:
    """Write ``stereo`` (n, 2) at the synthesis rate as ``fmt``; return the file's duration in seconds."""
    y = for_format(stereo, fmt, sr)
    write_audio(path, y, fmt.sr, subtype=SUBTYPES[fmt.suffix])
    return y.shape[0] / fmt.sr
