"""The rendered page against the Parquet tables it was built from (fabricated artifacts)."""

from __future__ import annotations

import base64
import html
import io
import json
import re

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from PIL import Image

from vocalmine.core.tables import REJECTS_SCHEMA, read_table, write_table
from vocalmine.report.report import PAGE_BUDGET_BYTES, ReportConfig, build_report
from vocalmine.core.contract.shards import INDEX_SCHEMA, QUALITY_SCHEMA
from vocalmine.core.contract.pairs import PAIRS_SCHEMA
from vocalmine.testing.artifacts import HOSTILE



def _json_block(page: str, key: str) -> dict:
    text = re.search(rf'<script type="application/json" id="{key}-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(text)


def _funnel_counts(page: str) -> dict[str, int | None]:
    found = re.findall(r'<td class="count" data-step="(\w+)">([\d,]+|—)</td>', page)
    return {key: None if value == "—" else int(value.replace(",", "")) for key, value in found}


@pytest.fixture
def rendered(shared_report):
    return shared_report


@pytest.mark.slow
def test_funnel_counts_equal_the_tables(rendered):
    fab, summary, page = rendered
    catalog = fab.catalog
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)
    quality = read_table(catalog.shards / "quality.parquet", QUALITY_SCHEMA)
    index = read_table(catalog.shards / "index.parquet", INDEX_SCHEMA)
    rows = len(pd.read_csv(catalog.tracks.path, dtype=str))
    by_stage = rejects["stage"].value_counts()
    pairing = rejects[rejects["stage"] == "pairing"]
    candidate_rejects = int((pairing["pair_id"] != "").sum())

    counts = _funnel_counts(page)
    assert counts == {
        "rows": rows,
        "valid": rows - by_stage["ingest"],
        "candidates": len(pairs) + by_stage["content"] + candidate_rejects,
        "pairs": len(pairs) + by_stage["content"],
        "content": len(pairs),
        "kept": int((quality["status"] == "kept").sum()),
        "patches": len(index),
    }
    assert counts["candidates"] == fab.n_candidates and counts["kept"] == fab.n_kept
    for split, part in index.groupby("split"):
        assert f'<td class="count" data-split="{split}">{len(part):,}</td>' in page
        assert f'<span data-split-pairs="{split}">{part["pair_id"].nunique():,}</span>' in page
    assert summary.funnel.step("patches").count == len(index)


def test_every_reject_reason_appears_with_its_count(rendered):
    fab, _, page = rendered
    rejects = pd.concat([read_table(fab.catalog.rejects, REJECTS_SCHEMA),
                         read_table(fab.catalog.shards / "rejects.parquet", REJECTS_SCHEMA)])
    counts = rejects.groupby(["stage", "reason"]).size()
    assert len(counts) == 14
    for (stage, reason), n in counts.items():
        assert f'<span class="n" data-stage="{stage}" data-reason="{reason}">{n:,}</span>' in page, (stage, reason)
        assert f'data-filter-stage="{stage}" data-filter-reason="{reason}"' in page
    table = _json_block(page, "rejects")
    assert table["total"] == len(rejects) == len(table["rows"])
    shown = pd.DataFrame(table["rows"], columns=table["columns"]).groupby(["stage", "reason"]).size()
    pd.testing.assert_series_equal(shown, counts)


def test_pairs_table_holds_every_pair_with_its_quality(rendered):
    fab, _, page = rendered
    pairs = read_table(fab.catalog.pairs, PAIRS_SCHEMA)
    quality = read_table(fab.catalog.shards / "quality.parquet", QUALITY_SCHEMA).set_index("pair_id")
    table = _json_block(page, "pairs")
    shown = pd.DataFrame(table["rows"], columns=table["columns"]).set_index("pair_id")
    assert sorted(shown.index) == sorted(pairs["pair_id"])
    for column in ("offset_s", "gain_db", "align_confidence", "vocal_ratio", "coherence", "segment_coherence",
                   "segment_start_s"):
        assert (shown[column] - quality.loc[shown.index, column]).abs().max() < 1e-3
    assert (shown["status"] == "kept").sum() == (quality["status"] == "kept").sum()
    # worst quality first
    assert shown["quality"].is_monotonic_increasing


def test_images_and_audio_decode(rendered):
    _, summary, page = rendered
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3 + 3 == 3 + summary.n_examples  # gate, context, counts; one spectrogram per example
    for data in images:
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        image.load()
        assert image.width > 100 and image.height > 100
    clips = re.findall(r'src="data:audio/ogg;base64,([A-Za-z0-9+/=]+)"', page)
    assert summary.n_segments == ReportConfig().segment_excerpts
    assert len(clips) == 3 * 3 + 2 * summary.n_segments  # 3 per example, original and instrumental per segment
    for data in clips:
        y, sr = sf.read(io.BytesIO(base64.b64decode(data)))
        assert sr == 8192 and len(y) > 2 * sr and abs(y).max() > 0.5


def test_catalog_strings_are_escaped_and_nothing_is_external(rendered):
    _, summary, page = rendered
    assert HOSTILE not in page
    assert "Song 1 <b>" not in page and "Song 1 \\u003cb\\u003e" in page  # a title inside the table JSON
    assert page.count("<script") == 3  # the two JSON tables and the page script
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page  # example caption, escaped
    assert not re.search(r'(?:src|href)="(?!data:|#)', page)
    assert "http://" not in page and "https://" not in page
    assert summary.size_bytes == len(page.encode("utf-8")) < PAGE_BUDGET_BYTES


@pytest.mark.slow
def test_report_without_audio_or_features(fabricated, caplog):
    for shard in fabricated.catalog.shards.glob("shard-*.npy"):
        shard.unlink()
    summary = build_report(catalog=fabricated.catalog, config=ReportConfig(with_audio=False))
    assert summary.n_examples == 0 and _funnel_counts(summary.path.read_text(encoding="utf-8"))["kept"] == fabricated.n_kept
    assert "no spectrogram for the best pair" in caplog.text

    for name in ("quality.parquet", "index.parquet", "rejects.parquet"):
        (fabricated.catalog.shards / name).unlink()
    summary = build_report(catalog=fabricated.catalog, config=ReportConfig(with_audio=False))
    page = summary.path.read_text(encoding="utf-8")
    counts = _funnel_counts(page)
    assert counts["kept"] is None and counts["patches"] is None and counts["content"] == fabricated.n_pairs
    assert "features stage has not run" in page and summary.n_examples == 0
    assert "data:audio" not in page


def test_the_gate_leads_the_distributions_and_the_caption_says_how_pairs_rank(rendered):
    _, _, page = rendered
    figures = re.findall(r'<figure><img alt="[^"]*" src="[^"]*"><figcaption>(.*?)</figcaption>', page)
    captions = [html.unescape(c) for c in figures]
    assert captions[0].startswith("What decided: the quality gate's two measures")
    assert "below either dashed threshold is excluded as too_different" in captions[0]
    assert captions[1].startswith("Context, not the gate")
    assert "alignment confidence × (1 − residual ratio)" not in page  # the ranking the code no longer uses
    assert "Ranked by quality = the lower of the whole-track and the worst segment's phase coherence" in page


def test_worst_segments_are_the_lowest_and_the_pairs_table_points_at_them(rendered):
    fab, summary, page = rendered
    quality = read_table(fab.catalog.shards / "quality.parquet", QUALITY_SCHEMA)
    lowest = quality.sort_values(["segment_coherence", "pair_id"])["pair_id"].head(summary.n_segments).tolist()
    section = re.search(r'<section id="segments-section">(.*?)</section>', page, re.S).group(1)
    assert re.findall(r'<article class="segment" data-pair="(\w+)">', section) == lowest
    table = _json_block(page, "pairs")
    shown = pd.DataFrame(table["rows"], columns=table["columns"]).set_index("pair_id")
    assert sorted(shown.index[shown["listen"] != ""]) == sorted(lowest)
    first = quality.set_index("pair_id").loc[lowest[0]]
    assert f"{first['segment_coherence']:.3f} at {first['segment_start_s']:.1f} s (gate 0.8)" in section
    clips = re.findall(r'src="data:audio/ogg;base64,([A-Za-z0-9+/=]+)"', section)
    assert len(clips) == 2 * len(lowest)
    for data in clips:
        y, sr = sf.read(io.BytesIO(base64.b64decode(data)))
        assert sr == 8192 and len(y) > 2 * sr and abs(y).max() > 0.5


@pytest.mark.slow
def test_a_quality_table_built_before_segment_start_s_still_renders(fabricated):
    path = fabricated.catalog.shards / "quality.parquet"
    older = pa.schema([f for f in QUALITY_SCHEMA if f.name != "segment_start_s"])
    write_table(read_table(path, QUALITY_SCHEMA), path, older, stage="build")
    assert "segment_start_s" not in pq.read_schema(path).names
    summary = build_report(catalog=fabricated.catalog)
    page = summary.path.read_text(encoding="utf-8")
    assert summary.n_segments == 0 and summary.n_examples == 3
    assert "does not record where each pair&#x27;s worst segment starts" in page
    assert f"delete {fabricated.catalog.shards} and re-run `vocalmine build`" in html.unescape(page)
    table = _json_block(page, "pairs")
    shown = pd.DataFrame(table["rows"], columns=table["columns"])
    assert set(shown["listen"]) == {""} and shown["segment_start_s"].isna().all()
    assert shown["segment_coherence"].notna().any()  # the gate's measures are still shown
    assert page.count("data:audio/ogg;base64,") == 3 * 3  # the examples' excerpts only
