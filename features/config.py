"""Configuration of the features stage: a frozen dataclass, validated from overrides."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

from vocalmine.core.errors import ConfigError
from vocalmine.core.overrides import apply_overrides
from vocalmine.core.spec import PAPER, SignalSpec, preset


@dataclass(frozen=True)
class FeaturesConfig:
    """Thresholds and sizes of `vocalmine build`. Every field can be overridden (``--set key=value``)."""

    max_offset_s: float = 2.0  # search range of the alignment, ± seconds
    min_duration_s: float = 3.0  # aligned overlap shorter than this -> too_short
    silence_db: float = -60.0  # a file whose RMS is below this (dBFS) -> silent
    frame_silence_db: float = -60.0  # a frame whose RMS is below this (dBFS) counts as silent
    # The gate "another recording" vs "the same recording plus a voice" is phase coherence (features/coherence.py);
    # thresholds set on bench/bench_quality_gate.py --seed 101, checked on --seed 202 (vocals at -12..+12 dB).
    # whole-track phase coherence of X and Y_i in the bins the instrumental carries below this -> too_different
    min_coherence: float = 0.85
    # the lowest per-segment coherence below this -> too_different (another edit, a cut section)
    min_segment_coherence: float = 0.8
    # a bin counts as carried by the instrumental when |X| and g·|Y_i| agree within this factor
    coherence_ratio: float = 1.5
    # the instrumental's level per frame is this quantile of |X| / |Y_i| (a voice only raises it)
    coherence_gain_quantile: float = 0.25
    coherence_segment_s: float = 3.0  # length of the segments of the per-segment coherence, seconds
    coherence_min_bins: int = 200  # a segment with fewer carried bins has no coherence (NaN) and is not judged
    # Off by default: both fall with the vocal's level (the correlation is about 1/sqrt(1 + vocal-to-accompaniment
    # energy ratio)), so they exclude true pairs whose vocals are loud; kept as opt-in rules.
    min_align_confidence: float = 0.0  # normalised cross-correlation peak below this -> too_different
    # residual energy where the instrumental explains the original above this -> too_different
    max_residual_ratio: float = math.inf
    min_vocal_ratio: float = 0.01  # vocal-to-mixture energy below this -> too_similar (no vocal content)
    dominance: float = 0.5  # a bin is instrumental-dominated when |X - g·Y_i| <= dominance · g·|Y_i|
    gain_iterations: int = 4  # reweighting rounds of the gain fit
    explained_fraction: float = 0.1  # fraction of frames (lowest vocal ratio) used for residual_ratio
    pairs_per_shard: int = 4  # pairs per shard group: one Dask task and one shard file each (~16 MB for 3-minute songs)
    workers: int = 2  # LocalCluster worker processes (1 thread each) when no scheduler is given
    seed: int = 0  # seed of the artist split
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, validation, test share of pairs
    # The signal spec the shards are stored at (vocalmine/core/spec.py; `build --preset` sets all six):
    sample_rate: int = PAPER.sample_rate  # Hz of the stored waveforms (resampled once from each file's own rate)
    channels: int = PAPER.channels  # 1: mono downmix; 2: stereo kept
    n_fft: int = PAPER.n_fft  # window of the STFT that training computes from the waveforms
    hop: int = PAPER.hop  # its hop
    bins: int = PAPER.bins  # bins the model sees
    patch_frames: int = PAPER.patch_frames  # frames per patch

    def __post_init__(self) -> None:
        checks = [
            (self.max_offset_s >= 0, "max_offset_s", ">= 0"),
            (self.min_duration_s > 0, "min_duration_s", "> 0"),
            (0 <= self.min_align_confidence <= 1, "min_align_confidence", "in [0, 1]"),
            (self.max_residual_ratio > 0, "max_residual_ratio", "> 0"),
            (-1 <= self.min_coherence <= 1, "min_coherence", "in [-1, 1]"),
            (-1 <= self.min_segment_coherence <= 1, "min_segment_coherence", "in [-1, 1]"),
            (self.coherence_ratio > 1, "coherence_ratio", "> 1"),
            (0 < self.coherence_gain_quantile < 1, "coherence_gain_quantile", "in (0, 1)"),
            (self.coherence_segment_s > 0, "coherence_segment_s", "> 0"),
            (self.coherence_min_bins >= 1, "coherence_min_bins", ">= 1"),
            (0 <= self.min_vocal_ratio < 1, "min_vocal_ratio", "in [0, 1)"),
            (self.dominance > 0, "dominance", "> 0"),
            (self.gain_iterations >= 1, "gain_iterations", ">= 1"),
            (0 < self.explained_fraction <= 1, "explained_fraction", "in (0, 1]"),
            (self.pairs_per_shard >= 1, "pairs_per_shard", ">= 1"),
            (self.workers >= 1, "workers", ">= 1"),
            (len(self.split_fractions) == 3 and min(self.split_fractions) >= 0 and sum(self.split_fractions) > 0,
             "split_fractions", "three non-negative numbers, not all zero"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise ConfigError(f"features config: {name}={getattr(self, name)!r}, expected {expected}")
        self.spec  # validates the spec's fields together

    @property
    def spec(self) -> SignalSpec:
        """The signal spec of the shards."""
        return SignalSpec(sample_rate=self.sample_rate, channels=self.channels, n_fft=self.n_fft, hop=self.hop,
                          bins=self.bins, patch_frames=self.patch_frames)

    def fingerprint(self) -> str:
        """Hash of the fields that change shard contents (not workers, seed or splits)."""
        skip = {"workers", "seed", "split_fractions"}
        if self.spec == PAPER:  # shards of the paper's spec keep the fingerprint they had before specs existed
            skip |= set(PAPER.to_dict())
        data = {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def config_from_overrides(overrides: Mapping[str, Any], base: FeaturesConfig | None = None, *,
                          preset_name: str | None = None) -> FeaturesConfig:
    """A :class:`FeaturesConfig` with ``overrides`` applied; values may be strings (from the CLI).

    ``preset_name`` (a key of :data:`vocalmine.core.spec.PRESETS`) sets the spec fields first;
    ``overrides`` may still change single ones.

    Raises:
        ConfigError: on an unknown key or preset, or a value of the wrong type or range.
    """
    base = base or FeaturesConfig()
    if preset_name is not None:
        base = dataclasses.replace(base, **preset(preset_name).to_dict())
    return apply_overrides(base, overrides, section="features config")
