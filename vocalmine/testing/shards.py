"""Synthetic training shards for tests and benchmarks, in the format of vocalmine/core/contract/shards.py.

Each "pair" is a generated song: a harmonic, vibrato-laden "voice" singing
phrases of notes over a "band" of coloured noise, a bass line and clicks. The
shards store, like the features stage, the original (voice + band) and the
instrumental (band) as aligned waveforms. Separating the voice
needs the harmonic structure, so a model beats the identity mask only by learning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vocalmine.core.atomic import save_npy_atomic
from vocalmine.core.constants import PATCH_FRAMES, SAMPLE_RATE, SHARD_DTYPE
from vocalmine.core.tables import write_table
from vocalmine.core.contract.shards import INDEX_SCHEMA, shard_path
from vocalmine.core.stft import magnitude, n_frames, stft
from vocalmine.core.contract.shards import INDEX_FILE


@dataclass(frozen=True)
class SyntheticShards:
    """What :func:`write_synthetic_shards` wrote."""

    folder: Path  # the shards folder (shard-*.npy, index.parquet)
    index: pd.DataFrame  # the index rows (INDEX_SCHEMA)
    n_shards: int  # shard files written


def _voice(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sung phrases: notes of 0.3-0.8 s with vibrato and decaying harmonics, pauses between phrases."""
    t = np.arange(n) / SAMPLE_RATE
    f0 = np.zeros(n)
    gate = np.zeros(n)
    pos = 0
    while pos < n:
        phrase_end = min(n, pos + int(rng.uniform(1.5, 4.0) * SAMPLE_RATE))
        base = rng.uniform(140.0, 420.0)
        while pos < phrase_end:
            note = min(phrase_end, pos + int(rng.uniform(0.3, 0.8) * SAMPLE_RATE))
            f0[pos:note] = base * 2 ** (rng.integers(-5, 8) / 12)
            gate[pos:note] = 1.0
            pos = note
        pos = min(n, phrase_end + int(rng.uniform(0.3, 1.5) * SAMPLE_RATE))
    f0 = f0 * (1 + 0.02 * np.sin(2 * np.pi * 5.5 * t))  # vibrato
    f0[f0 == 0] = 200.0
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = np.zeros(n)
    for h in range(1, 16):
        alive = (h * f0) < SAMPLE_RATE / 2
        voice += alive * np.sin(h * phase) / h**1.2
    envelope = np.convolve(gate, np.hanning(401) / np.hanning(401).sum(), mode="same")
    return voice * envelope


def _band(n: int, rng: np.random.Generator) -> np.ndarray:
    """Accompaniment: low-passed noise, a bass line and percussive clicks."""
    noise = rng.standard_normal(n)
    smooth = np.convolve(noise, np.ones(4) / 4, mode="same")
    bass_f = 55.0 * 2 ** (rng.integers(0, 12, size=n // SAMPLE_RATE + 1) / 12)
    f = np.repeat(bass_f, SAMPLE_RATE)[:n]
    bass = np.sin(2 * np.pi * np.cumsum(f) / SAMPLE_RATE)
    clicks = np.zeros(n)
    beat = int(SAMPLE_RATE * rng.uniform(0.4, 0.6))
    for start in range(0, n - 400, beat):
        clicks[start : start + 400] += rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
    return 0.25 * smooth + 0.6 * bass + 0.8 * clicks


def pair_waveforms(*, seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic song: (original = voice + band, instrumental = band), each (n,) float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    voice = _voice(n, rng)
    band = _band(n, rng) * rng.uniform(0.5, 1.5)
    peak = float(np.abs(voice + band).max()) / 0.9  # keep the original within full scale
    return ((voice + band) / peak).astype(np.float32), (band / peak).astype(np.float32)


def pair_spectrograms(*, seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Magnitudes of one synthetic song: (X, g·Y_i), each (N_BINS, frames) float32."""
    original, band = pair_waveforms(seconds=seconds, seed=seed)
    return magnitude(stft(original)), magnitude(stft(band))


def write_synthetic_shards(
    folder: str | os.PathLike,
    *,
    splits: dict[str, int] | None = None,
    seconds: float = 20.0,
    pairs_per_shard: int = 2,
    seed: int = 0,
) -> SyntheticShards:
    """Write shard-*.npy and index.parquet for generated pairs, in the features stage's format.

    Args:
        folder: the shards folder to write (created).
        splits: pairs per split, default {"train": 4, "validation": 2}.
        seconds: song length (the index's grid patches cover it, the last one partly).
        pairs_per_shard: pairs per shard file, so pairs span shards.
        seed: generator seed; the same seed writes the same bytes.

    Returns:
        The folder, the index DataFrame and the number of shards.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    splits = splits or {"train": 4, "validation": 2}
    waves: list[list[np.ndarray]] = [[]]
    rows: list[dict] = []
    pair_number, column = 0, 0
    for split, count in splits.items():
        for _ in range(count):
            if len(waves[-1]) == pairs_per_shard:
                waves.append([])
                column = 0
            pair_id = f"synthetic-{seed}-{pair_number:04d}"
            original, band = pair_waveforms(seconds=seconds, seed=seed * 10_000 + pair_number)
            scale = float(magnitude(stft(original)).max())
            frames = n_frames(len(original))
            for number, start in enumerate(range(0, frames, PATCH_FRAMES)):
                rows.append({"patch_id": f"{pair_id}-{number:05d}", "pair_id": pair_id, "shard": len(waves) - 1,
                             "offset": column, "samples": len(original), "start_frame": start,
                             "valid_frames": min(PATCH_FRAMES, frames - start), "split": split, "scale": scale,
                             "gain": 1.0, "delay": 0.0})
            waves[-1].append(np.stack([original, band]).astype(SHARD_DTYPE))
            column += len(original)
            pair_number += 1
    for shard, chunk in enumerate(waves):
        save_npy_atomic(shard_path(folder, shard), np.concatenate(chunk, axis=1))
    index = pd.DataFrame(rows)
    write_table(index, folder / INDEX_FILE, INDEX_SCHEMA)
    return SyntheticShards(folder=folder, index=index[INDEX_SCHEMA.names], n_shards=len(waves))
