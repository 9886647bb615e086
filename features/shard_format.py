"""The on-disk format of training shards: the contract between `build` and `train`.

A shards folder holds:

- ``shard-00000.npy`` ...: float16 arrays of shape (n_patches, 2, N_BINS, PATCH_FRAMES),
  memory-mappable. Channel 0 is the mixture magnitude X, channel 1 the
  gain-matched instrumental magnitude g·Y_i, both divided by the pair's scale
  (the maximum of X over the whole track), so X lies in [0, 1]. The vocal
  target is derived where it is read: Y_v = max(X − g·Y_i, 0).
  Frames at and after ``valid_frames`` of a patch are zero padding.
- ``index.parquet``: one row per patch (INDEX_SCHEMA).
- ``quality.parquet``: one row per pair considered (QUALITY_SCHEMA).
- ``rejects.parquet``: pairs set aside by the features stage (core REJECTS_SCHEMA).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa

from vocalmine.core.constants import N_BINS, PATCH_FRAMES, SHARD_DTYPE
from vocalmine.core.target import vocal_target as core_vocal_target

MIXTURE_CHANNEL = 0  # X / scale
INSTRUMENTAL_CHANNEL = 1  # g·Y_i / scale
PATCH_SHAPE = (2, N_BINS, PATCH_FRAMES)
SPLITS = ("train", "validation", "test")

INDEX_SCHEMA = pa.schema(
    [
        ("patch_id", pa.string()),  # f"{pair_id}-{patch_number:05d}"
        ("pair_id", pa.string()),
        ("shard", pa.int32()),  # shard number: file shard_path(folder, shard)
        ("row", pa.int32()),  # row inside the shard array
        ("start_frame", pa.int32()),  # first STFT frame of the patch in the track
        ("valid_frames", pa.int32()),  # frames that are not padding (1..PATCH_FRAMES)
        ("split", pa.string()),  # train | validation | test
        ("scale", pa.float32()),  # the pair's normalisation: stored X = X / scale
    ]
)

QUALITY_SCHEMA = pa.schema(
    [
        ("pair_id", pa.string()),
        ("artist_norm", pa.string()),
        ("split", pa.string()),  # split of the pair, also for excluded pairs
        ("status", pa.string()),  # kept | excluded
        ("reason", pa.string()),  # reject reason when excluded, else ""
        ("duration_s", pa.float64()),  # aligned length used, seconds
        ("offset_samples", pa.int64()),  # instrumental lag relative to the original, samples at 8192 Hz
        ("offset_s", pa.float64()),
        ("gain", pa.float64()),  # g: original ≈ g · instrumental in the instrumental-dominated bins
        ("gain_db", pa.float64()),
        ("align_confidence", pa.float64()),  # normalised cross-correlation peak, 0..1
        ("vocal_ratio", pa.float64()),  # energy of Y_v over energy of X
        ("residual_ratio", pa.float64()),  # residual energy in frames the instrumental explains
        ("coherence", pa.float64()),  # whole-track phase coherence of original and instrumental in the bins it carries, 0..1
        ("segment_coherence", pa.float64()),  # the lowest per-segment phase coherence, -1..1 (null: no segment judged)
        ("carried_fraction", pa.float64()),  # share of energetic bins the coherence is measured on
        ("min_coherence", pa.float64()),  # threshold of the gate on coherence (config min_coherence)
        ("min_segment_coherence", pa.float64()),  # threshold of the gate on segment_coherence (config)
        ("clip_fraction", pa.float64()),  # fraction of original samples at full scale
        ("silence_fraction", pa.float64()),  # fraction of frames below the silence threshold
        ("n_patches", pa.int32()),
        ("scale", pa.float32()),
    ]
)


def shard_path(folder: str | os.PathLike, shard: int) -> Path:
    """Path of shard number ``shard`` in ``folder``."""
    return Path(folder) / f"shard-{shard:05d}.npy"


def open_shard(folder: str | os.PathLike, shard: int) -> np.ndarray:
    """Memory-map shard ``shard`` read-only: (n_patches, 2, N_BINS, PATCH_FRAMES) float16."""
    # a plain ndarray view of the read-only mapping: indexing it skips np.memmap's
    # per-item subclass overhead (about 1.3x more random patches/s)
    array = np.asarray(np.load(shard_path(folder, shard), mmap_mode="r", allow_pickle=False))
    if array.ndim != 4 or array.shape[1:] != PATCH_SHAPE or array.dtype != np.dtype(SHARD_DTYPE):
        raise ValueError(f"{shard_path(folder, shard)}: expected (n, {PATCH_SHAPE}) {SHARD_DTYPE}, got {array.shape} {array.dtype}")
    return array


def vocal_target(patch: np.ndarray) -> np.ndarray:
    """Y_v = max(X − g·Y_i, 0) from a stored patch (..., 2, N_BINS, PATCH_FRAMES)."""
    return core_vocal_target(patch[..., MIXTURE_CHANNEL, :, :], patch[..., INSTRUMENTAL_CHANNEL, :, :])
