"""Fixtures of the model tests: small synthetic shards in the format of vocalmine/core/contract/shards.py."""

from __future__ import annotations

import pytest

from vocalmine.testing.shards import SyntheticShards, write_synthetic_shards

# 20 s songs give two patches per pair, the second one zero-padded after 87 frames;
# two pairs per shard make batches span shards.
SONG_SECONDS = 20.0


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> SyntheticShards:
    """6 train pairs (12 grid patches), 2 validation pairs (4), 1 test pair (2), two pairs per shard: 5 shards."""
    folder = tmp_path_factory.mktemp("shards")
    return write_synthetic_shards(folder, splits={"train": 6, "validation": 2, "test": 1},
                                  seconds=SONG_SECONDS, pairs_per_shard=2, seed=3)

