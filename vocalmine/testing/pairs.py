"""A small, exactly known (original, instrumental) pair at 8192 Hz for tests and golden values.

The accompaniment is two partials plus noise, the voice a vibrato tone sung every
other second; the instrumental is the accompaniment delayed by ``lag`` samples and
divided by ``gain``. Everything is drawn from ``seed``, so the pair is the same on
every machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalmine.core.constants import SAMPLE_RATE


@dataclass(frozen=True)
class KnownPair:
    """A generated pair and the truth behind it (all (n,) float32 at SAMPLE_RATE)."""

    original: np.ndarray  # accompaniment + voice
    instrumental: np.ndarray  # accompaniment delayed by ``lag`` samples, divided by ``gain``
    vocal: np.ndarray  # the voice stem
    accompaniment: np.ndarray  # the accompaniment stem
    lag: int  # samples the instrumental lags the original
    gain: float  # original's accompaniment = gain · instrumental


def known_pair(*, seconds: float = 8.0, lag: int = 1234, gain: float = 1.5, seed: int = 20261202) -> KnownPair:
    """The pair described in the module docstring."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    acc = (0.2 * np.sin(2 * np.pi * 110 * t) + 0.1 * np.sin(2 * np.pi * 330.5 * t) + 0.05
           * rng.standard_normal(n)).astype(np.float32)
    voice = (0.15 * np.sin(2 * np.pi * 440 * t + 3 * np.sin(2 * np.pi * 5 * t))
             * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
    instrumental = np.concatenate([np.zeros(lag, np.float32), acc / np.float32(gain)])[:n]
    return KnownPair(original=acc + voice, instrumental=instrumental, vocal=voice, accompaniment=acc, lag=lag,
                     gain=gain)
