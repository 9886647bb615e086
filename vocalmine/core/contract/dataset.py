"""The exported dataset: the kept pairs as per-track stem folders, the contract of `export-dataset`.

The layout is MUSDB18-HQ's, which the field's trainers read (Open-Unmix's
track-folder datasets, Demucs, the MSST trainer)::

    OUT/
      train/<folder>/mixture.wav  vocals.wav  accompaniment.wav  track.json
      valid/<folder>/...
      test/<folder>/...
      manifest.parquet

Every WAV is 32-bit float at the original release's own rate and channels.
``accompaniment`` is the instrumental release aligned to the original to a
fraction of a sample and gain-matched; ``vocals`` is ``mixture − accompaniment``
in the time domain, so the stems sum to the mixture (to float32 rounding).
``track.json`` is written after the WAVs: a folder with it is complete.
"""

from __future__ import annotations

import pyarrow as pa

from vocalmine.core.tables import versioned

MIXTURE_FILE = "mixture.wav"
VOCALS_FILE = "vocals.wav"
ACCOMPANIMENT_FILE = "accompaniment.wav"
STEM_FILES = (MIXTURE_FILE, VOCALS_FILE, ACCOMPANIMENT_FILE)
TRACK_FILE = "track.json"  # written last in a track folder: its presence means the folder is complete
MANIFEST_FILE = "manifest.parquet"  # MANIFEST_SCHEMA; written last in the dataset folder
SPLIT_FOLDERS = {"train": "train", "validation": "valid", "test": "test"}  # shards split -> folder (MUSDB names)

MANIFEST_SCHEMA = versioned(
    pa.schema(
        [
            ("pair_id", pa.string()),
            ("original_id", pa.string()),
            ("instrumental_id", pa.string()),
            ("artist", pa.string()),  # the original's artist as catalogued
            ("original_title", pa.string()),
            ("instrumental_title", pa.string()),
            ("split", pa.string()),  # train | validation | test (folder: train | valid | test)
            ("folder", pa.string()),  # the track folder, relative to the dataset folder
            ("sample_rate", pa.int32()),  # Hz of the three WAVs: the original release's own
            ("channels", pa.int32()),  # channels of the three WAVs: the original release's own
            ("duration_s", pa.float64()),  # length of the exported overlap, seconds
            ("start_s", pa.float64()),  # where the overlap starts in the original release, seconds
            ("offset_s", pa.float64()),  # the instrumental's lag relative to the original, seconds (integer + fraction)
            ("gain", pa.float64()),  # least-squares gain applied to the instrumental
            ("coherence", pa.float64()),  # the quality gate's whole-track phase coherence
            ("segment_coherence", pa.float64()),  # the gate's lowest per-segment coherence
            ("vocal_ratio", pa.float64()),  # derived vocal energy over the mixture's (magnitude domain)
            ("original_path", pa.string()),  # provenance: the release files, relative to the catalog's audio root
            ("instrumental_path", pa.string()),
        ]
    ),
    1,
)
