"""The report as a person reads it: status in view, one meaning of "matched", readable rejects,
histograms of constant columns, and provenance read from the artifacts (issue 14, item 8)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from vocalmine.core.catalog import ColumnMap
from vocalmine.core.errors import CatalogError
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.report.report import build_report
from vocalmine.report.data import REJECT_COLUMNS, gate_rules, load_artifacts, pairs_table, reject_fields
from vocalmine.report.plots import distributions_figure, gate_figure, hist_range
from vocalmine.core.contract.pairs import PAIRS_SCHEMA


def _json_block(page: str, key: str) -> pd.DataFrame:
    text = re.search(rf'<script type="application/json" id="{key}-data">(.*?)</script>', page, re.S).group(1)
    doc = json.loads(text)
    return pd.DataFrame(doc["rows"], columns=doc["columns"])


def test_status_is_the_first_column_of_the_pairs_table(shared_report):
    _, _, page = shared_report
    pairs = _json_block(page, "pairs")
    assert list(pairs.columns[:2]) == ["status", "reason"]
    assert set(pairs["status"]) <= {"kept", "excluded", "rejected", "not_built"}


def test_matched_means_what_pairing_matched(shared_report):
    fab, summary, page = shared_report
    matched = summary.funnel.step("pairs").count
    assert matched == fab.n_pairs + 3 != fab.n_pairs  # the 3 content rejects were matched, then set aside
    headline = re.search(r"<header><h1>.*?</h1><p>(.*?)</p>", page).group(1)
    assert headline.startswith(f"{matched:,} matched pairs, {fab.n_pairs:,} after content checks, {fab.n_kept:,} kept")
    # "matched" names one funnel step; the table of pairs.parquet is named for what it holds
    assert '<h2>Pairs after content checks <span class="unit">' in page
    assert "Matched pairs (" not in re.sub(r"<td>Matched pairs \(one-to-one\)", "", page)


def test_rejects_are_readable_columns_not_json(shared_report):
    fab, _, page = shared_report
    rejects = _json_block(page, "rejects")
    assert tuple(rejects.columns) == REJECT_COLUMNS and "row" not in rejects.columns
    assert not rejects.apply(lambda col: col.astype(str).str.startswith("{")).any().any()
    ingest = rejects[rejects["stage"] == "ingest"]
    assert set(ingest["title"]) == {"x"}  # the fabricated rows are {"title": "x"}
    stored = read_table(fab.catalog.rejects, REJECTS_SCHEMA)
    assert len(rejects) >= len(stored)


def test_reject_fields_follow_the_catalogs_own_column_names(tmp_path):
    spotify = ColumnMap(track_id="id", artist="artists", title="track_name", duration="duration_ms", audio_path="file")
    row = json.dumps({"id": "7", "artists": "Ana", "track_name": "Rain", "duration_ms": "x", "file": "a/rain.wav"})
    assert reject_fields(row, stage="ingest", track_id="7", columns=spotify, audio_root=tmp_path) == {
        "artist": "Ana", "title": "Rain", "instrumental_title": "", "tracks": "7", "files": "a/rain.wav"}
    pair = json.dumps({"original_id": "T1", "instrumental_id": "T2", "original_path": str(tmp_path / "a" / "1.wav"),
                       "instrumental_path": "/elsewhere/2.flac"})
    assert reject_fields(pair, stage="content", track_id="T2", audio_root=tmp_path,
                         titles={"T1": ("Ana", "Rain"), "T2": ("Ana", "Rain (Instrumental)")}) == {
        "artist": "Ana", "title": "Rain", "instrumental_title": "Rain (Instrumental)", "tracks": "T1 + T2",
        "files": "a/1.wav + /elsewhere/2.flac"}
    track = json.dumps({"track_id": "T9", "artist": "Ana", "title": "Rain", "duration_s": 3.0,
                        "audio_path": str(tmp_path / "a" / "9.flac")})
    assert reject_fields(track, stage="content", track_id="T9", audio_root=tmp_path) == {
        "artist": "Ana", "title": "Rain", "instrumental_title": "", "tracks": "T9", "files": "a/9.flac"}
    raw = reject_fields(json.dumps({"raw": "a,b,c,d,e,f"}), stage="ingest", track_id="")
    assert raw["title"] == "a,b,c,d,e,f" and raw["artist"] == ""


@pytest.mark.parametrize("values, note", [
    ([100.0] * 6, "all 6: 100"),
    ([0.0] * 4, "all 4: 0"),
    ([99.99995, 100.0, 100.0], "all 3 within 99.9999…100"),
    ([0.2, 0.5, 0.9], ""),
])
def test_histogram_range_of_constant_and_near_constant_values(values, note):
    lo, hi, bins, text = hist_range(np.array(values))
    assert text == note
    assert lo < min(values) <= max(values) < hi or (not note and (lo, hi) == (min(values), max(values)))
    assert bins % 2 == 1  # an odd count: a constant value sits in the middle bin


def test_constant_columns_plot_without_offset_tick_labels():
    n = 5
    table = pd.DataFrame({
        "status": ["kept"] * n, "title_score": [100.0] * n, "duration_delta_s": np.linspace(-1, 1, n),
        "offset_s": [0.25, 0.25, 0.25000001, 0.25, 0.25], "gain_db": [0.0] * n, "vocal_ratio": np.linspace(0.1, 0.5, n),
        "align_confidence": [np.nan] * n,
    })
    fig = distributions_figure(table)
    fig.canvas.draw()
    try:
        axes = {ax.get_title().split(" · ")[0]: ax for ax in fig.axes}
        for title in ("Title score", "Offset", "Gain"):
            ax = axes[title]
            assert ax.xaxis.get_major_formatter().get_offset() == "", title  # no "1e-8 + 2.5e-1" corner label
            notes = [t.get_text() for t in ax.texts]
            assert notes and notes[0].startswith(f"all {n}"), (title, notes)
            labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            assert len(labels) >= 3 and len(set(labels)) == len(labels), (title, labels)
        assert [t.get_text() for t in axes["Alignment confidence"].texts] == ["no data"]
    finally:
        plt.close(fig)


def test_gate_figure_draws_the_thresholds_and_context_says_what_does_not_gate(shared_fabricated):
    artifacts = load_artifacts(shared_fabricated.catalog)
    table = pairs_table(artifacts)
    gates = gate_rules(artifacts.quality, {"min_align_confidence": 0.0, "min_vocal_ratio": 0.01})
    fig = gate_figure(table, gates)
    fig.canvas.draw()
    try:
        for ax, column, value in zip(fig.axes, ("coherence", "segment_coherence"), (0.9, 0.8)):
            assert ax.get_title().endswith(f"gates: < {value:g} → too_different")
            assert value in [line.get_xdata()[0] for line in ax.lines]  # the dashed threshold
            below = int((table[column] < value).sum())
            assert f" {below} below {value:g} " in [t.get_text() for t in ax.texts]
        assert fig.axes[0].get_title().startswith("Phase coherence, whole track")
        assert fig.axes[1].get_title().startswith("Phase coherence, worst segment")
    finally:
        plt.close(fig)
    fig = distributions_figure(table, gates)
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert "Alignment confidence · not gating" in titles and "Offset · not gating" in titles
        assert "Vocal-energy ratio · gates: < 0.01 → too_similar" in titles
    finally:
        plt.close(fig)


def test_provenance_shows_the_settings_the_run_used(shared_report):
    _, _, page = shared_report
    section = html.unescape(re.search(r'<section id="provenance-section">(.*?)</section>', page, re.S).group(1))
    assert "<dt>mine: title_threshold</dt><dd>87.5</dd>" in section  # the run's value; the default is 90
    assert "<dt>mine: duration_tolerance_s</dt><dd>3</dd>" in section
    assert "<dt>build: max_offset_s</dt><dd>1.5</dd>" in section and "<dt>build: seed</dt><dd>3</dd>" in section
    assert re.search(r"<dt>mine</dt><dd>pairs\.parquet, rejects\.parquet: written \d{4}-", section)
    assert "defaults" not in section


def test_report_on_an_artifact_of_an_older_schema_says_how_to_rebuild(fabricated):
    pairs = read_table(fabricated.catalog.pairs, PAIRS_SCHEMA)
    pairs.to_parquet(fabricated.catalog.pairs)  # as written before artifacts described themselves
    with pytest.raises(CatalogError, match=r"pairs\.parquet: written before artifacts carried a version; .*delete it and "
                                           r"re-run `vocalmine mine` to rebuild it"):
        build_report(catalog=fabricated.catalog)
    assert Path(fabricated.catalog.pairs).is_file()
