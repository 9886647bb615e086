"""Training data: random crops of whole pairs, remixed, read from memory-mapped waveform shards.

A shard holds each kept pair's aligned waveforms (original, g·instrumental),
see :mod:`vocalmine.core.contract.shards`. An example is a *recipe*, drawn by
the sampler in the training process as a pure function of (seed, epoch):

- the voice pair ``i`` and the first sample ``start`` of a 128-frame crop of it
  (pairs drawn with probability proportional to their length, the offset uniform
  over the pair, anew each epoch);
- the accompaniment: the same pair at the same place (the mined mixture as it
  is), or, for a remix, the instrumental of the same pair circularly shifted or
  of another pair of the split, at a random place, read circularly;
- the gains of the voice and the accompaniment (1 unless remixed);
- how the crop is read: 0 as it lies (zero outside the voice pair), 1 with the
  accompaniment read circularly, 2 with the voice pair read circularly too, so
  that a remix of a pair shorter than a crop (MIR-1K clips are 4–12 s, a crop
  11.9 s) holds no padding: the voice pair wraps from a random start;
- the voice's rate ratio r (1 unless remixed): the voice pair's crop is read
  r times as long and resampled back (soxr), so the voice sounds r times higher
  and faster, formants too, as another singer would. Both rows of the pair are
  resampled alike, so the derived voice is the resampled voice exactly; the
  accompaniment is not touched.

The dataset (in the loader workers) only reads the samples a recipe names;
spectrograms, mixtures and targets are made for the whole batch at once on the
training device (:func:`vocalmine.model.objective.batch_spectrograms`).
Validation uses the fixed patch grid of its pairs, unremixed: deterministic.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import soxr
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, SignalSpec
from vocalmine.core.stft import n_frames
from vocalmine.core.tables import read_table
from vocalmine.core.contract.shards import INDEX_FILE, INDEX_SCHEMA, INSTRUMENTAL, ORIGINAL, SPLITS, open_shard, rows
from vocalmine.core.contract.shards import shard_path

logger = logging.getLogger(__name__)

# At the paper's spec (other specs: the same properties of their SignalSpec):
FRONT = PAPER.front  # samples before a crop's first frame centre that its first frame covers
SEGMENT = PAPER.segment  # samples behind one 128-frame crop (98,560)
PATCH_SPAN = PAPER.patch_span  # samples between the first frames of two consecutive grid patches
PATCH_FRAMES = PAPER.patch_frames

# A recipe: (voice pair, crop start sample, accompaniment pair, its start sample, voice gain,
# accompaniment gain, read mode 0/1/2: see WRAP_*, voice rate ratio). Plain numbers: cheap to send to workers.
Recipe = tuple
WRAP_NONE, WRAP_ACCOMPANIMENT, WRAP_BOTH = 0, 1, 2
STRETCH_MARGIN = 64  # samples read beyond each end of a resampled voice crop, so the resampler's edges fall outside


def read_index(folder: str | os.PathLike) -> pd.DataFrame:
    """The shards folder's index (INDEX_SCHEMA), checked against the shard files.

    Raises:
        CatalogError: when index.parquet is missing or lacks a column.
        ConfigError: when a split is unknown or a shard file is missing.
    """
    folder = Path(folder)
    index = read_table(folder / INDEX_FILE, INDEX_SCHEMA)
    unknown = sorted(set(index["split"]) - set(SPLITS))
    if unknown:
        raise ConfigError(f"{folder / INDEX_FILE}: unknown split value(s) {unknown}; expected {SPLITS}")
    for shard in sorted(index["shard"].unique()):
        if not shard_path(folder, int(shard)).is_file():
            raise ConfigError(f"{shard_path(folder, int(shard))}: listed in {INDEX_FILE} but missing (re-run "
                              f"`vocalmine build`)")
    return index


def split_rows(index: pd.DataFrame, split: str, *, limit: int = 0, seed: int = 0) -> pd.DataFrame:
    """Grid patch rows of ``split``, optionally a fixed random subset of ``limit`` rows (same for a seed)."""
    rows = index[index["split"] == split].reset_index(drop=True)
    if 0 < limit < len(rows):
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))
        rows = rows.iloc[pick].reset_index(drop=True)
    return rows


def valid_frames(samples: int, start: int, spec: SignalSpec = PAPER) -> int:
    """Frames of a crop starting at sample ``start`` that lie inside a pair of ``samples`` samples."""
    return int(min(spec.patch_frames, max(1, n_frames(max(samples - start, 0), hop=spec.hop))))


@dataclass(frozen=True)
class RemixConfig:
    """How the sampler draws training examples (see TrainConfig for the meaning of each)."""

    remix: bool = True
    probability: float = 0.75
    other_pair: float = 0.5
    gain_db: float = 3.0
    wrap: bool = True
    pitch_semitones: float = 0.0


class WaveDataset(Dataset):
    """Waveform crops of the pairs in ``pairs`` (rows of :func:`pairs_of`), served by recipe.

    Shards are opened lazily, on first use in each process, so DataLoader
    workers each map the files themselves instead of pickling arrays.

    A batch from :meth:`__getitems__` holds numpy arrays:
    ``wave`` (b, 3 · channels, segment) float16: original and g·instrumental of the
    voice pair's crop, and the accompaniment's crop (zero where the voice pair has no
    samples), each as ``channels`` rows; ``gain`` (b, 2) float32: voice and accompaniment gains; ``scale``
    (b,) float32: the voice pair's max |X|; ``valid`` (b,) int64: frames inside
    the voice pair.
    """

    def __init__(self, folder: str | os.PathLike, pairs: pd.DataFrame, spec: SignalSpec = PAPER):
        self.folder = Path(folder)
        self.spec = spec
        self.shard = pairs["shard"].to_numpy(np.int64)
        self.offset = pairs["offset"].to_numpy(np.int64)
        self.samples = pairs["samples"].to_numpy(np.int64)
        self.scale = pairs["scale"].to_numpy(np.float32)
        self._shards: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.shard)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_shards"] = {}  # each worker opens its own memmaps
        return state

    def _array(self, shard: int) -> np.ndarray:
        array = self._shards.get(shard)
        if array is None:
            array = self._shards[shard] = open_shard(self.folder, shard, self.spec.channels)
        return array

    def _window(self, pair: int, part: int, start: int, *, circular: bool) -> np.ndarray:
        """(channels, segment) samples of one part of a pair from ``start − front``: zero outside, or wrapped."""
        return self._read(pair, part, start - self.spec.front, self.spec.segment, circular=circular)

    def _read(self, pair: int, part: int, lo: int, length: int, *, circular: bool) -> np.ndarray:
        """(channels, length) samples of one part (ORIGINAL, INSTRUMENTAL) of a pair from sample ``lo``:
        zero outside, or wrapped when circular."""
        array, offset, samples = self._array(int(self.shard[pair])), int(self.offset[pair]), int(self.samples[pair])
        rows_ = rows(part, self.spec.channels)
        if circular:
            return array[rows_, offset + (lo + np.arange(length)) % samples]
        out = np.zeros((self.spec.channels, length), dtype=array.dtype)
        a, b = max(lo, 0), min(lo + length, samples)
        if b > a:
            out[:, a - lo : b - lo] = array[rows_, offset + a : offset + b]
        return out

    def _stretched(self, pair: int, start: int, ratio: float, *, circular: bool) -> np.ndarray:
        """(2 · channels, segment) rows (original, instrumental) of a pair read ``ratio`` times as fast from ``start``.

        Output column c holds the pair at sample start + (c − front)·ratio (to half a sample), so the
        crop's first frame is still centred on ``start``.
        """
        front, segment, rate = self.spec.front, self.spec.segment, self.spec.sample_rate
        lo = int(np.floor(start - front * ratio)) - STRETCH_MARGIN
        length = int(np.ceil(segment * ratio)) + 2 * STRETCH_MARGIN
        both = np.concatenate([self._read(pair, part, lo, length, circular=circular)
                               for part in (ORIGINAL, INSTRUMENTAL)])
        # soxr (HQ) rather than interpolation: linear interpolation would dull the voice's top octave
        out = soxr.resample(both.T.astype(np.float32), rate * ratio, rate, quality="HQ").T
        first = int(round((start - front * ratio - lo) / ratio))
        seg = out[:, first : first + segment]
        if seg.shape[1] < segment:
            seg = np.pad(seg, ((0, 0), (0, segment - seg.shape[1])))
        return seg

    def example(self, recipe: Recipe) -> tuple[np.ndarray, int]:
        """(3 · channels, segment) float16 waveforms of one recipe and its valid frames."""
        i, start, j, j_start, _, _, mode, ratio = recipe
        spec = self.spec
        c, segment = spec.channels, spec.segment
        samples = int(self.samples[i])
        wave = np.empty((3 * c, segment), dtype=np.float16)
        wrap_voice = mode == WRAP_BOTH and samples < segment
        if ratio != 1.0:
            wave[: 2 * c] = self._stretched(i, start, ratio, circular=wrap_voice)
        else:
            wave[:c] = self._window(i, ORIGINAL, start, circular=wrap_voice)
            wave[c : 2 * c] = self._window(i, INSTRUMENTAL, start, circular=wrap_voice)
        wave[2 * c :] = self._window(j, INSTRUMENTAL, j_start, circular=mode != WRAP_NONE)
        if wrap_voice or ratio != 1.0:  # a stretched crop lies inside its pair or wraps (see epoch_recipes)
            return wave, spec.patch_frames
        # the accompaniment is silent where the voice pair is (its padding stays padding)
        # columns of the voice pair's samples 0 and samples
        first, last = spec.front - start, spec.front - start + samples
        wave[2 * c :, : max(first, 0)] = 0
        wave[2 * c :, max(min(last, segment), 0) :] = 0
        return wave, valid_frames(samples, start, spec)

    def __getitem__(self, recipe: Recipe) -> dict:
        return self.__getitems__([recipe])

    def __getitems__(self, recipes: Sequence[Recipe]) -> dict:
        waves, valid = zip(*(self.example(r) for r in recipes))
        return {
            "wave": np.stack(waves),
            "gain": np.array([[r[4], r[5]] for r in recipes], dtype=np.float32),
            "scale": self.scale[[int(r[0]) for r in recipes]],
            "valid": np.array(valid, dtype=np.int64),
        }


def collate(batch: dict | list[dict]) -> dict[str, torch.Tensor]:
    """Tensors from a :meth:`WaveDataset.__getitems__` batch."""
    if isinstance(batch, list):
        batch = {k: np.concatenate([b[k] for b in batch]) for k in batch[0]}
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in batch.items()}


def grid_recipes(pairs: pd.DataFrame, spec: SignalSpec = PAPER) -> list[Recipe]:
    """The fixed patch grid over each pair, unremixed: validation's deterministic examples."""
    out = []
    for i, frames in enumerate(pairs["frames"].to_numpy(np.int64)):
        for k in range(max(1, -(-int(frames) // spec.patch_frames))):
            start = k * spec.patch_span
            out.append((i, start, i, start, 1.0, 1.0, WRAP_NONE, 1.0))
    return out


def epoch_recipes(samples: np.ndarray, *, size: int, seed: int, epoch: int, remix: RemixConfig,
                  spec: SignalSpec = PAPER) -> list[Recipe]:
    """The training examples of one epoch, a pure function of (seed, epoch).

    Args:
        samples: (n_pairs,) length of each pair in samples.
        size: examples in the epoch.
        remix: remix settings.
    """
    rng = np.random.default_rng([seed, epoch, 13])
    samples = np.asarray(samples, dtype=np.int64)
    weights = samples / samples.sum()
    voice = rng.choice(len(samples), size=size, p=weights)
    # uniform over the starts whose whole crop lies in the pair (start 0 for a pair shorter than a crop)
    room = np.maximum(samples[voice] - (spec.patch_frames - 1) * spec.hop, 0)
    start = (rng.random(size) * (room + 1)).astype(np.int64)
    remixed = (rng.random(size) < remix.probability) if remix.remix else np.zeros(size, bool)
    # a remixed crop of a pair shorter than a crop wraps the pair from anywhere in it
    wrapped = remixed & remix.wrap & (samples[voice] < spec.segment)
    start = np.where(wrapped, (rng.random(size) * samples[voice]).astype(np.int64), start)
    mode = np.where(wrapped, WRAP_BOTH, np.where(remixed, WRAP_ACCOMPANIMENT, WRAP_NONE))
    other = rng.random(size) < remix.other_pair
    # another pair: drawn by length among the pairs other than the voice's (inverse CDF with its share cut out)
    cum = np.cumsum(weights)
    before = cum[voice] - weights[voice]
    u = rng.random(size) * (1 - weights[voice])
    u = np.where(u < before, u, u + weights[voice])
    others = np.minimum(np.searchsorted(cum, u, side="right"), len(samples) - 1)
    others = np.where(others == voice, (voice + 1) % len(samples), others)  # float round-off at an edge
    partner = np.where(remixed & other & (len(samples) > 1), others, voice)
    partner_start = np.where(remixed, (rng.random(size) * samples[partner]).astype(np.int64), start)
    gains = 10 ** (rng.uniform(-remix.gain_db, remix.gain_db, size=(size, 2)) / 20)
    gains[~remixed] = 1.0
    # the voice's rate ratio: only where the stretched read stays inside the pair (or wraps), so there is no padding
    ratio = 2.0 ** (rng.uniform(-remix.pitch_semitones, remix.pitch_semitones, size) / 12)
    inside = start + (spec.segment - spec.front) * ratio <= samples[voice]
    ratio = np.where(remixed & (wrapped | inside) & (remix.pitch_semitones > 0), ratio, 1.0)
    return [(int(voice[k]), int(start[k]), int(partner[k]), int(partner_start[k]), float(gains[k, 0]),
             float(gains[k, 1]),
             int(mode[k]), float(ratio[k])) for k in range(size)]


class CropSampler(Sampler[Recipe]):
    """Random crops (and remixes) drawn anew each epoch, this rank's share, startable mid-epoch.

    The epoch's recipes are a pure function of (seed, epoch); rank r of w takes
    every w-th. ``start`` skips that many of this rank's recipes, which is how a
    resumed run continues with the exact next batch.
    """

    def __init__(self, samples: np.ndarray, *, size: int, seed: int, remix: RemixConfig, rank: int = 0,
                 world_size: int = 1,
                 spec: SignalSpec = PAPER):
        self.samples, self.size, self.seed, self.remix, self.spec = np.asarray(samples), size, seed, remix, spec
        self.rank, self.world_size = rank, world_size
        self.epoch, self.start = 0, 0

    def set_position(self, epoch: int, start: int = 0) -> None:
        """Serve epoch ``epoch`` from its ``start``-th recipe."""
        self.epoch, self.start = epoch, start

    def per_rank(self) -> int:
        """Recipes per epoch on each rank."""
        return -(-self.size // self.world_size)

    def __iter__(self) -> Iterator[Recipe]:
        recipes = epoch_recipes(self.samples, size=self.per_rank() * self.world_size, seed=self.seed, epoch=self.epoch,
                                remix=self.remix, spec=self.spec)
        return iter(recipes[self.rank :: self.world_size][self.start :])

    def __len__(self) -> int:
        return self.per_rank() - self.start


def make_loader(dataset: WaveDataset, *, batch_size: int, sampler, workers: int,
                pin_memory: bool = False) -> DataLoader:
    """A DataLoader over ``dataset`` that leaves torch's global RNG alone.

    ``sampler`` yields recipes (a :class:`CropSampler`, or a list for validation).
    The loader draws its worker seeds from its own generator, so iterating it
    does not shift the dropout randomness of the model (needed for exact resume).
    """
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=workers,
        collate_fn=collate,
        pin_memory=pin_memory,
        persistent_workers=workers > 0,  # no worker restart at each epoch; the sampler runs in this process
        prefetch_factor=4 if workers > 0 else None,
        generator=torch.Generator().manual_seed(0),
    )
