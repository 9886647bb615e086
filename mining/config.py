"""MiningConfig: every knob of `vocalmine mine`, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocalmine.core.errors import ConfigError
from vocalmine.core.overrides import apply_overrides
from vocalmine.mining.markers import MarkerGroup

MISSING_DURATION_POLICIES = ("reject", "keep")


@dataclass(frozen=True)
class MiningConfig:
    """Pairing and content-dedupe settings (defaults suit commercial catalogs)."""

    title_threshold: float = 90.0  # rapidfuzz ratio (0..100) the base titles must reach to pair
    candidate_floor: float = 60.0  # below this score a same-artist track is no candidate at all
    duration_tolerance_s: float = 4.0  # |instrumental - original| duration allowed, seconds
    missing_duration: str = "reject"  # reject: empty duration -> bad_duration; keep: skip the duration check
    fingerprint_seconds: float = 90.0  # fingerprint covers the first N seconds of decoded audio
    same_content_db: float = 1.0  # mean |dB| difference of fingerprints below which two files are one content
    n_workers: int = 2  # LocalCluster processes for decoding (when no --scheduler)
    dask_partitions: int = 0  # artist-hash partitions of the dask.dataframe engine; 0: twice the CSV blocks, >= 8
    dask_blocksize: int = 16 * 2**20  # bytes of CSV per input partition of the dask engine
    markers: tuple[MarkerGroup, ...] = ()  # a catalog's own marker groups, beside markers.yaml (mine --markers FILE)

    def __post_init__(self) -> None:
        if not 0.0 <= self.title_threshold <= 100.0:
            raise ConfigError(f"title_threshold must be in [0, 100], got {self.title_threshold}")
        if not 0.0 <= self.candidate_floor <= self.title_threshold:
            raise ConfigError(f"candidate_floor must be in [0, title_threshold={self.title_threshold}], got "
                              f"{self.candidate_floor}")
        if not self.duration_tolerance_s >= 0.0:
            raise ConfigError(f"duration_tolerance_s must be >= 0 seconds, got {self.duration_tolerance_s}")
        if self.missing_duration not in MISSING_DURATION_POLICIES:
            raise ConfigError(f"missing_duration must be one of {MISSING_DURATION_POLICIES}, got "
                              f"{self.missing_duration!r}")
        if not self.fingerprint_seconds > 0:
            raise ConfigError(f"fingerprint_seconds must be > 0, got {self.fingerprint_seconds}")
        if not self.same_content_db > 0:
            raise ConfigError(f"same_content_db must be > 0, got {self.same_content_db}")
        if self.n_workers < 1 or self.dask_partitions < 0 or self.dask_blocksize < 1:
            raise ConfigError(f"n_workers and dask_blocksize must be >= 1 and dask_partitions >= 0, got "
                              f"{self.n_workers}, {self.dask_blocksize}, {self.dask_partitions}")
        if not isinstance(self.markers, tuple) or not all(isinstance(g, MarkerGroup) for g in self.markers):
            raise ConfigError(f"markers must be a tuple of MarkerGroup (see mining/markers.py), got {self.markers!r}")

    def replace(self, **overrides: Any) -> "MiningConfig":
        """A copy with ``overrides`` coerced to each field's type (None values ignored), range-checked again.

        Raises:
            ConfigError: on unknown keys, values of the wrong type, or values out of range.
        """
        return apply_overrides(self, overrides, section="mining config")
