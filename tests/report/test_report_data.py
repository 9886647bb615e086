"""Pure parts of the report: funnel arithmetic, excerpt alignment, the command, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vocalmine.commands.context import Context
from vocalmine.commands.report import report_command
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.core.errors import CatalogError
from vocalmine.report.report import build_report
from vocalmine.report.audio import align, pair_excerpts, segment_excerpts
from vocalmine.report.data import (
    Gate,
    compute_funnel,
    gate_rules,
    load_artifacts,
    pairs_table,
    pick_examples,
    worst_segments,
)
from vocalmine.report.html import table_json


def test_align_follows_the_offset_sign():
    inst = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(align(inst, offset_samples=3, length=5), [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(align(inst, offset_samples=-2, length=5), [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(align(inst, offset_samples=8, length=4), [8, 9, 0, 0])


def test_derived_vocal_matches_the_true_vocal():
    rng = np.random.default_rng(1)
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    acc = (0.3 * np.sin(2 * np.pi * 110 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    vocal = (0.2 * np.sin(2 * np.pi * 660 * t) * (t > 1.0)).astype(np.float32)
    gain, offset = 0.7, 300
    instrumental = np.concatenate([np.zeros(offset, np.float32), acc / gain])  # instrumental(t + offset) = acc(t) / g
    ex = pair_excerpts(acc + vocal, instrumental, offset_samples=offset, gain=gain, seconds=1.5)
    assert ex.start_sample >= SAMPLE_RATE - 768  # the loudest-vocal window lies where the voice sings
    true = vocal[ex.start_sample : ex.start_sample + len(ex.vocal)]
    assert np.corrcoef(true, ex.vocal)[0, 1] > 0.9
    np.testing.assert_allclose(ex.instrumental, acc[ex.start_sample : ex.start_sample + len(ex.vocal)], atol=1e-4)


def test_content_rejected_pairs_are_not_counted_twice(shared_fabricated):
    artifacts = load_artifacts(shared_fabricated.catalog)
    content = artifacts.rejects[artifacts.rejects["stage"] == "content"]
    # the same run, had mining kept content-rejected pairs in pairs.parquet
    extra = artifacts.pairs.head(len(content)).assign(pair_id=content["pair_id"].to_numpy())
    widened = dataclasses.replace(artifacts, pairs=pd.concat([artifacts.pairs, extra], ignore_index=True))
    before, after = compute_funnel(artifacts), compute_funnel(widened)
    assert [s.count for s in before.steps] == [s.count for s in after.steps]
    statuses = pairs_table(widened).set_index("pair_id").loc[content["pair_id"], "status"]
    assert set(statuses) == {"rejected"}


def test_not_built_pairs_are_a_drop(shared_fabricated):
    artifacts = load_artifacts(shared_fabricated.catalog)
    missing = artifacts.quality["pair_id"].iloc[:2]
    quality = artifacts.quality[~artifacts.quality["pair_id"].isin(missing)]
    features_rejects = artifacts.features_rejects[~artifacts.features_rejects["pair_id"].isin(missing)]
    funnel = compute_funnel(dataclasses.replace(artifacts, quality=quality, features_rejects=features_rejects))
    drops = {d.reason: d.count for d in funnel.step("kept").drops}
    assert drops["not_built"] == 2
    assert funnel.step("kept").count + sum(drops.values()) == funnel.step("content").count


def test_examples_are_best_median_worst_of_kept_pairs(shared_fabricated):
    artifacts = load_artifacts(shared_fabricated.catalog)
    table = pairs_table(artifacts)
    picks = dict(pick_examples(table, artifacts.index))
    kept = table[table["status"] == "kept"].set_index("pair_id")["quality"]
    assert list(picks) == ["best", "median", "worst"]
    assert kept[picks["best"]] == kept.max() and kept[picks["worst"]] == kept.min()
    assert pick_examples(table, None) == []


def test_table_json_escapes_markup_and_drops_nan():
    df = pd.DataFrame({"title": ["</script><b>x</b>", "a&b"], "score": [np.nan, 1.23456]})
    text = table_json(df, max_rows=1)
    assert "<" not in text and ">" not in text and "&" not in text and "NaN" not in text
    assert '"total":2' in text and '"rows":[["\\u003c/script\\u003e\\u003cb\\u003ex\\u003c/b\\u003e",null]]' in text


def test_missing_pairs_table_names_the_stage(fabricated):
    fabricated.catalog.pairs.unlink()
    with pytest.raises(CatalogError, match=r"pairs\.parquet: not found \(run the stage"):
        build_report(catalog=fabricated.catalog)


def test_command_prints_the_funnel(shared_report, monkeypatch):
    fab, summary, _ = shared_report
    calls = []

    def fake_build_report(*, catalog, config):  # the library is tested above; this checks the command's wiring
        calls.append((catalog, config))
        return summary

    monkeypatch.setattr("vocalmine.report.report.build_report", fake_build_report)
    result = CliRunner().invoke(report_command, ["--no-audio"], obj=Context(fab.catalog.source, 0), terminal_width=100)
    assert result.exit_code == 0, result.output
    assert calls[0][0] == fab.catalog and calls[0][1].with_audio is False
    assert "Funnel" in result.output and "Top reject reasons" in result.output
    assert f"{fab.catalog_rows:,}" in result.output and "bad_duration" in result.output
    flat = "".join(result.output.split())  # a long temp path may wrap anywhere in the line
    assert "index.html" in flat and f"{summary.n_pairs:,}pairs" in flat


def test_quality_score_ranks_by_coherence_not_by_vocal_level():
    from vocalmine.report.data import quality_score

    quality = pd.DataFrame({
        "coherence": [0.99, 0.95, 0.97, np.nan],
        "segment_coherence": [0.98, 0.60, np.nan, np.nan],
        "vocal_ratio": [0.9, 0.01, 0.5, 0.2],  # loud, quiet, medium: must not matter
        "align_confidence": [0.1, 0.9, 0.5, 0.5],
        "residual_ratio": [0.9, 0.0, 0.5, 0.5],
    })
    np.testing.assert_allclose(quality_score(quality), [0.98, 0.60, 0.97, 0.0])


def test_segment_excerpts_are_centred_on_the_segment_and_stay_inside_the_original():
    original = np.arange(10 * SAMPLE_RATE, dtype=np.float32)
    instrumental = np.concatenate([np.zeros(100, np.float32), original / 2])  # lags by 100 samples, gain 2 undoes it
    ex = segment_excerpts(original, instrumental, offset_samples=100, gain=2.0, centre_s=5.0, seconds=4.0)
    assert ex.start_sample == 3 * SAMPLE_RATE and len(ex.original) == len(ex.instrumental) == 4 * SAMPLE_RATE
    np.testing.assert_allclose(ex.instrumental, ex.original)  # aligned and gained: the same samples
    late = segment_excerpts(original, instrumental, offset_samples=100, gain=2.0, centre_s=9.5, seconds=4.0)
    assert late.start_sample == 6 * SAMPLE_RATE and len(late.original) == 4 * SAMPLE_RATE  # moved back inside
    short = segment_excerpts(original[:SAMPLE_RATE], instrumental, offset_samples=100, gain=2.0, centre_s=0.5,
                             seconds=4.0)
    assert short.start_sample == 0 and len(short.original) == SAMPLE_RATE


def test_gate_rules_are_what_build_recorded(shared_fabricated):
    quality = load_artifacts(shared_fabricated.catalog).quality
    assert gate_rules(quality, {}) == (Gate("coherence", 0.9, "too_different", "min_coherence"),
                                       Gate("segment_coherence", 0.8, "too_different", "min_segment_coherence"))
    # a build resumed with another threshold: both are shown
    mixed = quality.assign(min_coherence=[0.9, 0.85] * (len(quality) // 2) + [0.9] * (len(quality) % 2))
    assert [g.threshold for g in gate_rules(mixed, {}) if g.column == "coherence"] == [0.85, 0.9]
    # the opt-in rules count only when switched on in the build's settings
    settings = {"min_align_confidence": 0.0, "min_vocal_ratio": 0.01}
    assert [g.column for g in gate_rules(None, settings)] == ["vocal_ratio"]
    on = gate_rules(None, {"min_align_confidence": 0.5, "min_vocal_ratio": 0.0})
    assert on == (Gate("align_confidence", 0.5, "too_different", "min_align_confidence", opt_in=True),)


def test_worst_segments_are_the_lowest_that_know_where_they_are():
    table = pd.DataFrame({
        "pair_id": ["a", "b", "c", "d", "e"],
        "segment_coherence": [0.9, 0.2, np.nan, 0.5, 0.1],
        "segment_start_s": [3.0, 6.0, 1.0, 9.0, np.nan],  # e: built before its position was recorded
    })
    assert worst_segments(table, 2) == ["b", "d"]
    assert worst_segments(table, 10) == ["b", "d", "a"]
    assert worst_segments(table, 0) == []
