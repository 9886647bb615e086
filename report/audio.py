"""Audio excerpts for the report: original, aligned instrumental and derived vocal of an example pair;
original and aligned instrumental around a pair's worst segment.

The instrumental is aligned with the quality record's offset (the
instrumental lags the original by ``offset_samples``) and scaled by its gain;
the vocal is Y_v = max(|X| − g·|Y_i|, 0) resynthesised with the mixture
phase, the same target the shards hold. Excerpts are encoded as Ogg Vorbis at
8192 Hz, which every current browser plays and which costs about 3 kB/s
(measured on the demo report: 21 clips of 5-6 s, 0.48 MB as base64).
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import HOP_LENGTH, SAMPLE_RATE
from vocalmine.core.stft import istft, stft
from vocalmine.core.target import vocal_target

EXCERPT_PEAK = 0.9  # every excerpt is peak-normalised to this, so the quiet vocal is audible


@dataclass(frozen=True)
class Excerpts:
    """Time-aligned excerpts of one pair, each (n,) float32 at SAMPLE_RATE."""

    start_sample: int  # first sample of the excerpt in the original
    original: np.ndarray
    instrumental: np.ndarray  # g · aligned instrumental
    vocal: np.ndarray  # derived vocal, mixture phase


def align(instrumental: np.ndarray, *, offset_samples: int, length: int) -> np.ndarray:
    """The instrumental on the original's time axis: out[t] = instrumental[t + offset_samples].

    Args:
        instrumental: (m,) samples.
        offset_samples: lag of the instrumental relative to the original (may be negative).
        length: samples of the original.

    Returns:
        (length,) float32, zero where the instrumental does not reach.
    """
    out = np.zeros(length, dtype=np.float32)
    src, dst = max(offset_samples, 0), max(-offset_samples, 0)
    n = min(length - dst, len(instrumental) - src)
    if n > 0:
        out[dst : dst + n] = instrumental[src : src + n]
    return out


def derive_vocal(original: np.ndarray, instrumental: np.ndarray) -> np.ndarray:
    """Y_v = max(|X| − |I|, 0) with the phase of X, back to samples; inputs (n,), already aligned and gained."""
    x, i = stft(original), stft(instrumental)
    mag = np.abs(x)
    vocal_mag = vocal_target(mag, np.abs(i))
    phase = np.divide(x, mag, out=np.zeros_like(x), where=mag > 0)
    return istft(vocal_mag * phase, len(original))


def loudest_window(y: np.ndarray, *, samples: int) -> int:
    """Start (a multiple of HOP_LENGTH) of the ``samples``-long window of ``y`` with the most energy."""
    if len(y) <= samples:
        return 0
    frames = len(y) // HOP_LENGTH
    energy = np.add.reduceat(y[: frames * HOP_LENGTH].astype(np.float64) ** 2,
                             np.arange(0, frames * HOP_LENGTH, HOP_LENGTH))
    width = max(1, samples // HOP_LENGTH)
    sums = np.convolve(energy, np.ones(width), mode="valid")
    start = int(np.argmax(sums)) * HOP_LENGTH
    return min(start, len(y) - samples)


def pair_excerpts(original: np.ndarray, instrumental: np.ndarray, *, offset_samples: int, gain: float,
                  seconds: float = 6.0) -> Excerpts:
    """Excerpts of ``seconds`` where the derived vocal is loudest.

    Args:
        original: (n,) float32 at SAMPLE_RATE.
        instrumental: (m,) float32 at SAMPLE_RATE, not aligned.
        offset_samples: quality.parquet offset_samples.
        gain: quality.parquet gain (linear).
    """
    inst = gain * align(instrumental, offset_samples=offset_samples, length=len(original))
    vocal = derive_vocal(original, inst)
    samples = int(seconds * SAMPLE_RATE)
    start = loudest_window(vocal, samples=samples)
    cut = slice(start, start + samples)
    return Excerpts(start, original[cut].copy(), inst[cut].astype(np.float32), vocal[cut].copy())


@dataclass(frozen=True)
class SegmentExcerpts:
    """The original and the aligned g·instrumental around one segment, each (n,) float32 at SAMPLE_RATE."""

    start_sample: int  # first sample of the excerpt in the original
    original: np.ndarray
    instrumental: np.ndarray


def segment_excerpts(original: np.ndarray, instrumental: np.ndarray, *, offset_samples: int, gain: float,
                     centre_s: float, seconds: float = 6.0) -> SegmentExcerpts:
    """Excerpts of ``seconds`` centred on ``centre_s`` (seconds into the original), moved inside the original.

    Args:
        original: (n,) float32 at SAMPLE_RATE.
        instrumental: (m,) float32 at SAMPLE_RATE, not aligned.
        offset_samples: quality.parquet offset_samples.
        gain: quality.parquet gain (linear).
        centre_s: the middle of the segment to hear.
        seconds: excerpt length.
    """
    samples = min(int(seconds * SAMPLE_RATE), len(original))
    start = int(round(centre_s * SAMPLE_RATE)) - samples // 2
    start = max(0, min(start, len(original) - samples))
    inst = gain * align(instrumental, offset_samples=offset_samples, length=len(original))
    cut = slice(start, start + samples)
    return SegmentExcerpts(start, original[cut].copy(), inst[cut].astype(np.float32))


def load_excerpts(original_path: str | os.PathLike, instrumental_path: str | os.PathLike, *, offset_samples: int,
                  gain: float, seconds: float = 6.0) -> Excerpts:
    """Decode both files of a pair (raises AudioError) and cut aligned excerpts."""
    return pair_excerpts(load_audio(original_path), load_audio(instrumental_path), offset_samples=offset_samples,
                         gain=gain, seconds=seconds)


def load_segment_excerpts(original_path: str | os.PathLike, instrumental_path: str | os.PathLike, *,
                          offset_samples: int, gain: float, centre_s: float, seconds: float = 6.0) -> SegmentExcerpts:
    """Decode both files of a pair (raises AudioError) and cut aligned excerpts around ``centre_s``."""
    return segment_excerpts(load_audio(original_path), load_audio(instrumental_path), offset_samples=offset_samples,
                            gain=gain, centre_s=centre_s, seconds=seconds)


def ogg_data_uri(y: np.ndarray, *, sr: int = SAMPLE_RATE, quality: float = 0.3) -> str:
    """Peak-normalise ``y`` (n,) and encode it as an Ogg Vorbis data: URI.

    ``quality`` is libsndfile's VBR quality in [0, 1] (higher is larger and better).
    """
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    y = (y * (EXCERPT_PEAK / peak) if peak > 0 else y).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="OGG", subtype="VORBIS", compression_level=1.0 - quality)
    return "data:audio/ogg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
