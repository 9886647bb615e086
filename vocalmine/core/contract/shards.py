"""The on-disk format of training shards: the contract between `build` and `train`.

A shards folder holds:

- ``shard-00000.npy`` ...: float16 arrays of shape (2 · channels, n_samples),
  memory-mappable: the kept pairs of one group, one after another, as waveforms
  at the shards' signal spec (:mod:`vocalmine.core.spec`; 8192 Hz mono for the
  paper's preset, so (2, n)). Rows 0 .. channels − 1 (ORIGINAL) are the original
  mix's channels, the next ``channels`` rows (INSTRUMENTAL) the instrumental's,
  aligned to it to a fraction of a sample and multiplied by its least-squares
  gain, so that ``original − instrumental`` is the derived voice in the time
  domain. A pair occupies columns [offset, offset + samples) of its shard.
  Nothing is normalised here; spectrograms, targets and remixes are made when
  a batch is made (:mod:`vocalmine.model.data`), with :mod:`vocalmine.core.stft`.
- ``index.parquet``: one row per patch of the fixed grid over each kept pair
  (INDEX_SCHEMA); the pair's columns repeat on each of its rows. Training crops
  anywhere in a pair; the grid is what validation and reports use. Its settings
  (Parquet metadata) hold the features config, the signal spec among it:
  :func:`read_spec`. An index written before specs existed is the paper's.
- ``quality.parquet``: one row per pair considered (QUALITY_SCHEMA).
- ``rejects.parquet``: pairs set aside by the features stage (core REJECTS_SCHEMA).

Cost: 2 rows × channels × 2 bytes × rate: 32,768 bytes per audio second at the
paper's spec, 64,000 at 16 kHz mono, 352,800 at 44.1 kHz stereo.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from vocalmine.core.constants import SHARD_DTYPE
from vocalmine.core.spec import SignalSpec, spec_from_dict
from vocalmine.core.tables import optional, read_metadata

ORIGINAL = 0  # first half of the rows: the original mix's channels
INSTRUMENTAL = 1  # second half: g·instrumental's channels, aligned
SPLITS = ("train", "validation", "test")

# INDEX_SCHEMA; written last: its presence means the other tables and the shards are complete
INDEX_FILE = "index.parquet"
QUALITY_FILE = "quality.parquet"  # QUALITY_SCHEMA
REJECTS_FILE = "rejects.parquet"  # the core REJECTS_SCHEMA
TABLE_FILES = (INDEX_FILE, QUALITY_FILE, REJECTS_FILE)  # index first: it is what readers trust
PARTS_FOLDER = "parts"  # per-group part records (JSON) from which a resumed build assembles the tables

INDEX_SCHEMA = pa.schema(
    [
        ("patch_id", pa.string()),  # f"{pair_id}-{patch_number:05d}"
        ("pair_id", pa.string()),
        ("shard", pa.int32()),  # shard number: file shard_path(folder, shard)
        ("offset", pa.int64()),  # first column of the pair in the shard
        ("samples", pa.int64()),  # the pair's length in samples at the spec's rate
        ("start_frame", pa.int32()),  # first STFT frame of the patch in the pair
        ("valid_frames", pa.int32()),  # frames of the patch inside the pair (1..PATCH_FRAMES)
        ("split", pa.string()),  # train | validation | test
        ("scale", pa.float32()),  # max |X| of the pair's original over the whole pair: X / scale lies in [0, 1]
        ("gain", pa.float32()),  # least-squares gain applied to the stored instrumental
        ("delay", pa.float32()),  # sub-sample delay applied to the stored instrumental, samples
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
        # whole-track phase coherence of original and instrumental in the bins it carries, about -1..1
        ("coherence", pa.float64()),
        ("segment_coherence", pa.float64()),  # the lowest per-segment phase coherence, -1..1 (null: no segment judged)
        # seconds into the original where that segment starts (null: none judged, or built before this column existed)
        optional("segment_start_s", pa.float64()),
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


def open_shard(folder: str | os.PathLike, shard: int, channels: int = 1) -> np.ndarray:
    """Memory-map shard ``shard`` read-only: (2 · channels, n_samples) float16."""
    # a plain ndarray view of the read-only mapping: indexing it skips np.memmap's per-item overhead
    array = np.asarray(np.load(shard_path(folder, shard), mmap_mode="r", allow_pickle=False))
    if array.ndim != 2 or array.shape[0] != 2 * channels or array.dtype != np.dtype(SHARD_DTYPE):
        raise ValueError(f"{shard_path(folder, shard)}: expected ({2 * channels}, n) {SHARD_DTYPE}, "
                         f"got {array.shape} {array.dtype}")
    return array


def rows(part: int, channels: int) -> slice:
    """The shard rows of ``part`` (ORIGINAL or INSTRUMENTAL) for a spec of ``channels`` channels."""
    return slice(part * channels, (part + 1) * channels)


def read_spec(folder: str | os.PathLike) -> SignalSpec:
    """The signal spec of a shards folder, from its index's settings (the paper's for an index without one).

    Raises:
        CatalogError: when the index is missing or unreadable.
    """
    path = Path(folder) / INDEX_FILE
    return spec_from_dict(read_metadata(path).settings, source=str(path))


def pairs_of(index: pd.DataFrame) -> pd.DataFrame:
    """One row per pair of an index (its patch rows collapsed), in pair_id order, with ``frames``."""
    pairs = index.drop_duplicates("pair_id").sort_values("pair_id", kind="stable").reset_index(drop=True)
    ends = (index["start_frame"] + index["valid_frames"]).groupby(index["pair_id"]).max()
    pairs["frames"] = pairs["pair_id"].map(ends).astype(np.int64)
    return pairs[["pair_id", "shard", "offset", "samples", "frames", "split", "scale", "gain", "delay"]]


def read_window(array: np.ndarray, offset: int, samples: int, start: int, length: int) -> np.ndarray:
    """Samples [start, start + length) of a pair stored at [offset, offset + samples), zero outside the pair.

    Returns:
        float32 (2 · channels, length): the original's and g·instrumental's rows.
    """
    out = np.zeros((array.shape[0], length), dtype=np.float32)
    lo, hi = max(start, 0), min(start + length, samples)
    if hi > lo:
        out[:, lo - start : hi - start] = array[:, offset + lo : offset + hi]
    return out
