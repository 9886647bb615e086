"""Done-when checks on the demo corpus: offsets, gains and derived vocals against the known stems."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.features.pair import load_pair, pair_features, vocal_estimate


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference.astype(np.float64) ** 2) / np.sum((reference - estimate).astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def truth(demo_corpus):
    catalog = pd.read_csv(demo_corpus / "catalog.csv", dtype=str, keep_default_na=False).drop_duplicates("track_id")
    path_of = dict(zip(catalog["track_id"], catalog["audio_path"]))
    pairs = pd.read_csv(demo_corpus / "truth_pairs.csv", dtype={"features_reason": str}, keep_default_na=False)
    rows = []
    for pair in pairs.itertuples():
        original, instrumental = load_pair(demo_corpus / path_of[pair.original_id], demo_corpus / path_of[pair.instrumental_id])
        rows.append((pair, original, instrumental, pair_features(original, instrumental)))
    return rows


@pytest.mark.slow
def test_truth_pairs_are_kept_or_excluded_as_expected(truth):
    assert any(pair.features_reason == "too_different" for pair, *_ in truth)
    for pair, _, _, result in truth:
        assert result.reason == pair.features_reason, (pair.song_id, result.detail)


def test_offset_gain_and_vocal_sdr_on_demo_pairs(truth, demo_corpus):
    checked = 0
    for pair, original, instrumental, result in truth:
        if pair.features_reason:
            continue
        assert abs(result.offset - float(pair.offset_s) * SAMPLE_RATE) <= 1, pair.song_id
        assert abs(20 * math.log10(result.gain / float(pair.gain))) < 0.2, pair.song_id
        vocals = load_audio(demo_corpus / "stems" / f"{pair.song_id}.vocals.wav")
        accompaniment = load_audio(demo_corpus / "stems" / f"{pair.song_id}.accompaniment.wav")
        estimate, start = vocal_estimate(original, instrumental, offset=result.offset, gain=result.gain)
        span = slice(start, start + len(estimate))
        unperturbed, _ = vocal_estimate(original[span], accompaniment[span], offset=0, gain=1.0)
        assert sdr(vocals[span], estimate) > sdr(vocals[span], unperturbed) - 1.0, pair.song_id
        checked += 1
    assert checked >= 5


def test_stored_waveforms_give_the_true_vocal_in_the_time_domain(truth, demo_corpus):
    # what a shard stores: original and g·instrumental aligned to a fraction of a sample; their difference is
    # the voice a remix adds to another accompaniment, so it must match the stem sample by sample
    sdrs = []
    for pair, original, instrumental, result in truth:
        if pair.features_reason:
            continue
        vocals = load_audio(demo_corpus / "stems" / f"{pair.song_id}.vocals.wav")[result.start : result.start + result.length]
        derived = result.waveforms[0].astype(np.float64) - result.waveforms[1].astype(np.float64)
        n = min(len(vocals), len(derived))
        sdrs.append(sdr(vocals[512 : n - 512], derived[512 : n - 512]))
    assert len(sdrs) >= 5
    assert np.median(sdrs) > 25 and min(sdrs) > 10, sdrs  # MP3 coding noise bounds some near 12-16 dB
