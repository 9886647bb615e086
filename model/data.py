"""Training data: patches streamed from memory-mapped shards, shuffled across shards.

The dataset hands out the stored float16 patches as they are (X and g·Y_i);
the target (Y_v or Y_i) is derived on the training device, see
:mod:`vocalmine.model.objective`, so the loader moves half the bytes and does
no arithmetic.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from vocalmine.core.errors import ConfigError
from vocalmine.core.tables import read_table
from vocalmine.features.shard_format import INDEX_SCHEMA, SPLITS, open_shard, shard_path

logger = logging.getLogger(__name__)

INDEX_FILE = "index.parquet"


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
            raise ConfigError(f"{shard_path(folder, int(shard))}: listed in {INDEX_FILE} but missing (re-run `vocalmine build`)")
    return index


class ShardDataset(Dataset):
    """Patches of one split, read from memory-mapped shards.

    Shards are opened lazily, on first use in each process, so DataLoader
    workers each map the files themselves instead of pickling arrays.

    Args:
        folder: the shards folder.
        rows: index rows of the patches to serve (any order, any shards).

    Items: ``{"patch": (2, N_BINS, PATCH_FRAMES) float16, "valid": int}``;
    batches from :meth:`__getitems__`: ``patch`` (b, 2, N_BINS, PATCH_FRAMES)
    and ``valid`` (b,) int64, as numpy arrays.
    """

    def __init__(self, folder: str | os.PathLike, rows: pd.DataFrame):
        self.folder = Path(folder)
        self.shard = rows["shard"].to_numpy(np.int64)
        self.row = rows["row"].to_numpy(np.int64)
        self.valid = rows["valid_frames"].to_numpy(np.int64)
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
            array = self._shards[shard] = open_shard(self.folder, shard)
        return array

    def __getitem__(self, i: int) -> dict:
        return {"patch": np.asarray(self._array(int(self.shard[i]))[self.row[i]]), "valid": int(self.valid[i])}

    def __getitems__(self, indices: Sequence[int]) -> dict:
        """A whole batch: one fancy-indexed read per shard, rows sorted for locality."""
        indices = np.asarray(indices, dtype=np.int64)
        out = np.empty((len(indices), *self._array(int(self.shard[indices[0]])).shape[1:]), dtype=np.float16)
        shards = self.shard[indices]
        for shard in np.unique(shards):
            where = np.flatnonzero(shards == shard)
            rows = self.row[indices[where]]
            order = np.argsort(rows, kind="stable")
            out[where[order]] = self._array(int(shard))[rows[order]]
        return {"patch": out, "valid": self.valid[indices]}


def collate(batch: dict | list[dict]) -> dict[str, torch.Tensor]:
    """Tensors from a :meth:`ShardDataset.__getitems__` batch (or a list of items)."""
    if isinstance(batch, list):
        batch = {"patch": np.stack([b["patch"] for b in batch]), "valid": np.array([b["valid"] for b in batch])}
    return {"patch": torch.from_numpy(batch["patch"]), "valid": torch.from_numpy(np.asarray(batch["valid"], np.int64))}


class ResumableSampler(Sampler[int]):
    """A DistributedSampler (shuffled per epoch from the seed) that can start mid-epoch.

    With one process it is a seeded shuffle of the whole split, so patches of
    all shards interleave. ``start`` skips that many of this rank's indices,
    which is how a resumed run continues with the exact next batch.
    """

    def __init__(self, n: int, *, seed: int, shuffle: bool, rank: int = 0, world_size: int = 1):
        self.inner = DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
        )
        self.start = 0

    def set_position(self, epoch: int, start: int = 0) -> None:
        """Serve epoch ``epoch`` from its ``start``-th index."""
        self.inner.set_epoch(epoch)
        self.start = start

    def __iter__(self) -> Iterator[int]:
        return iter(list(self.inner)[self.start :])

    def __len__(self) -> int:
        return len(self.inner) - self.start


def make_loader(
    dataset: ShardDataset, *, batch_size: int, sampler: Sampler, workers: int, pin_memory: bool = False
) -> DataLoader:
    """A DataLoader over ``dataset`` that leaves torch's global RNG alone.

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


def split_rows(index: pd.DataFrame, split: str, *, limit: int = 0, seed: int = 0) -> pd.DataFrame:
    """Rows of ``split``, optionally a fixed random subset of ``limit`` rows (same for a seed)."""
    rows = index[index["split"] == split].reset_index(drop=True)
    if 0 < limit < len(rows):
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), size=limit, replace=False))
        rows = rows.iloc[pick].reset_index(drop=True)
    return rows
