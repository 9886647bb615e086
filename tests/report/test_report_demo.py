"""The report over the real pipeline: demo corpus -> mine -> build -> report."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest
from PIL import Image

from vocalmine.core.contract.shards import INDEX_SCHEMA, QUALITY_SCHEMA
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.features import build as features
from vocalmine.mining import mine as mining
from vocalmine.report.report import PAGE_BUDGET_BYTES, build_report


@pytest.mark.slow
def test_report_for_the_demo_corpus(demo_catalog, demo_corpus, in_process_scheduler):
    mined = mining.mine(catalog=demo_catalog, scheduler="sync")
    built = features.build(catalog=demo_catalog, scheduler=in_process_scheduler)
    summary = build_report(catalog=demo_catalog)
    page = summary.path.read_text(encoding="utf-8")

    counts = dict(re.findall(r'<td class="count" data-step="(\w+)">([\d,]+)</td>', page))
    counts = {k: int(v.replace(",", "")) for k, v in counts.items()}
    quality = read_table(demo_catalog.shards / "quality.parquet", QUALITY_SCHEMA)
    index = read_table(demo_catalog.shards / "index.parquet", INDEX_SCHEMA)
    assert counts["rows"] == mined.rows_read and counts["valid"] == mined.tracks_valid
    assert counts["pairs"] == mined.pairs_matched and counts["candidates"] == mined.candidates
    assert counts["content"] == built.pairs == len(quality)
    assert counts["kept"] == built.kept == int((quality["status"] == "kept").sum())
    assert counts["patches"] == built.patches == len(index)

    rejects = pd.concat([read_table(demo_catalog.rejects, REJECTS_SCHEMA),
                         read_table(demo_catalog.shards / "rejects.parquet", REJECTS_SCHEMA)])
    truth = pd.read_csv(demo_corpus / "truth_tracks.csv", dtype=str, keep_default_na=False)
    expected = set(truth["expected_reason"]) - {""}
    assert expected <= set(rejects["reason"])  # the pipeline found every trap
    for (stage, reason), n in rejects.groupby(["stage", "reason"]).size().items():
        assert f'data-stage="{stage}" data-reason="{reason}">{n:,}</span>' in page, (stage, reason)

    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3 + summary.n_examples and summary.n_examples == min(3, built.kept)
    for data in images:
        assert min(Image.open(io.BytesIO(base64.b64decode(data))).size) > 100
    assert page.count("data:audio/ogg;base64,") == 3 * summary.n_examples + 2 * summary.n_segments
    # build recorded where each worst segment lies, so the page plays the lowest ones
    assert quality["segment_start_s"].notna().sum() == quality["segment_coherence"].notna().sum() > 0
    assert summary.n_segments == min(6, int(quality["segment_coherence"].notna().sum()))
    assert summary.size_bytes < PAGE_BUDGET_BYTES
    print(f"demo report: {summary.size_bytes:,} bytes, {summary.seconds:.1f} s")
