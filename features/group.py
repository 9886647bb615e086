"""One shard group on a Dask worker: decode, featurise and write its shard and part record."""

from __future__ import annotations

import json
import logging
import math
import os
import time


from vocalmine.core.spec import ANALYSIS_RATE
from vocalmine.core.errors import AudioError, CatalogError, VocalmineError
from vocalmine.core.paths import resolve_under
from vocalmine.core.contract import features_reasons as reasons
from vocalmine.features.config import FeaturesConfig
from vocalmine.core.spec import PAPER
from vocalmine.features.pair import PairFeatures, decode_pair, pair_features
from vocalmine.features.render import store_at_spec
from vocalmine.features.store import write_group

log = logging.getLogger(__name__)


def _nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def quality_row(pair_id: str, result: PairFeatures, config: FeaturesConfig = FeaturesConfig()) -> dict:
    """A QUALITY_SCHEMA row (without artist_norm and split, which the driver adds); thresholds from ``config``."""
    gain = result.gain
    return {
        "pair_id": pair_id,
        "status": "excluded" if result.reason else "kept",
        "reason": result.reason,
        "duration_s": result.length / ANALYSIS_RATE,
        "offset_samples": int(result.offset),
        "offset_s": result.offset / ANALYSIS_RATE,
        "gain": _nan_to_none(gain),
        "gain_db": _nan_to_none(20 * math.log10(gain) if gain and gain > 0 else math.nan),
        "align_confidence": _nan_to_none(result.confidence),
        "vocal_ratio": _nan_to_none(result.vocal_ratio),
        "residual_ratio": _nan_to_none(result.residual_ratio),
        "coherence": _nan_to_none(result.coherence),
        "segment_coherence": _nan_to_none(result.segment_coherence),
        "segment_start_s": _nan_to_none(result.segment_start_s),
        "carried_fraction": _nan_to_none(result.carried_fraction),
        "min_coherence": config.min_coherence,
        "min_segment_coherence": config.min_segment_coherence,
        "clip_fraction": _nan_to_none(result.clip_fraction),
        "silence_fraction": _nan_to_none(result.silence_fraction),
        "n_patches": result.n_patches,
        "scale": _nan_to_none(result.scale),
    }


def _featurise(pair: dict, audio_root: str, config: FeaturesConfig) -> tuple[PairFeatures, str, float]:
    """Features of one pair record; returns (result, track id a reject names, decoded seconds)."""
    try:
        paths = [resolve_under(audio_root, pair[k]) for k in ("original_path", "instrumental_path")]
        original, instrumental = decode_pair(*paths, channels=config.spec != PAPER)
    except (AudioError, CatalogError) as exc:
        side = getattr(exc, "side", "original")
        return PairFeatures(reason=reasons.UNDECODABLE, detail=str(exc)), pair[f"{side}_id"], 0.0
    result = pair_features(original.analysis, instrumental.analysis, config=config, waveforms=config.spec == PAPER)
    if not result.reason and config.spec != PAPER:  # the paper's spec is the analysis signal itself: stored as it is
        store_at_spec(result, original, instrumental, config.spec)
    return result, pair["instrumental_id"], original.seconds + instrumental.seconds


def process_group(*, group: int, pairs: list[dict], folder: str | os.PathLike, audio_root: str | os.PathLike,
                  config: FeaturesConfig) -> dict:
    """Featurise the pairs of one group and write ``shard-<group>.npy`` (aligned waveforms) and its part record.

    Args:
        group: group (and shard) number.
        pairs: PAIRS_SCHEMA records of the group, in pair_id order.
        folder: the shards folder.
        audio_root: every audio path must resolve inside it.
        config: features config.

    Returns:
        Small counters: pairs, kept, patches, decoded audio seconds, seconds taken, and
        error: "" or the one-line message of a failed write (disk full, ...), returned
        rather than raised so that the Dask worker does not log a traceback.
    """
    started = time.perf_counter()
    waveforms, index, quality, rejects = [], [], [], []
    column = 0
    decoded = 0.0
    for pair in pairs:
        pair_id = pair["pair_id"]
        result, track_id, seconds = _featurise(pair, str(audio_root), config)
        decoded += seconds
        quality.append(quality_row(pair_id, result, config))
        if result.reason:
            rejects.append({
                "stage": "features", "reason": result.reason, "track_id": track_id, "pair_id": pair_id,
                "detail": result.detail, "row": json.dumps(pair, default=str, allow_nan=True),
            })
            continue
        waveforms.append(result.waveforms)
        samples = int(result.waveforms.shape[1])
        for k in range(result.n_patches):
            index.append({
                "patch_id": f"{pair_id}-{k:05d}", "pair_id": pair_id, "offset": column, "samples": samples,
                "start_frame": int(result.start_frames[k]), "valid_frames": int(result.valid_frames[k]),
                "scale": float(result.scale), "gain": float(result.wave_gain), "delay": float(result.delay),
            })
        column += samples
    record = {
        "fingerprint": config.fingerprint(),
        "pair_ids": [p["pair_id"] for p in pairs],
        "patches": index,
        "quality": quality,
        "rejects": rejects,
        "decoded_seconds": decoded,
    }
    error = ""
    try:
        write_group(folder, group, waveforms, record, channels=config.channels)
    except VocalmineError as exc:
        error = str(exc)
    took = time.perf_counter() - started
    log.debug("group %d: %d pairs, %d patches, %.2f s%s", group, len(pairs), len(index), took,
              f"; {error}" if error else "")
    return {"group": group, "pairs": len(pairs), "kept": len(waveforms), "patches": len(index),
            "decoded_seconds": decoded, "seconds": took, "error": error}
