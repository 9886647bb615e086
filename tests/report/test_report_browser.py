"""The report in headless Chromium: loads cleanly, tables sort and filter, images render."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium; `make browser`)"),
]


def _index(page, key: str, name: str) -> int:
    return page.locator(f'.tablebox[data-key="{key}"] thead th').all_inner_texts().index(name)


def _click_header(page, key: str, name: str) -> None:
    page.click(f'.tablebox[data-key="{key}"] th[data-col="{_index(page, key, name)}"]')


def _column(page, key: str, name: str) -> list[str]:
    """Text of column ``name`` of the rows the ``key`` table shows now."""
    i = _index(page, key, name) + 1
    return page.locator(f'.tablebox[data-key="{key}"] tbody tr td:nth-child({i})').all_inner_texts()


def test_page_in_headless_chromium(shared_report, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    shared_fabricated, summary, text = shared_report
    html_file = tmp_path / "index.html"  # a private copy: other tests may rewrite the shared report
    html_file.write_text(text, encoding="utf-8")
    errors, requests = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.fspath(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(5000)
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(html_file.as_uri(), wait_until="load")

            assert errors == [] and requests == []
            widths = page.eval_on_selector_all("img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
            assert len(widths) == 3 + summary.n_examples and all(w > 0 and h > 0 for w, h in widths)

            # sorting: one click ascending, a second descending
            _click_header(page, "pairs", "title_score")
            scores = [float(v) for v in _column(page, "pairs", "title_score")]
            assert len(scores) == shared_fabricated.n_pairs and scores == sorted(scores)
            _click_header(page, "pairs", "title_score")
            scores = [float(v) for v in _column(page, "pairs", "title_score")]
            assert scores == sorted(scores, reverse=True)

            # the gate's worst-segment measure sorts, and a listen cell takes you to that segment's excerpt
            _click_header(page, "pairs", "segment_coherence")
            worst = [float(v) for v in _column(page, "pairs", "segment_coherence")]
            assert worst == sorted(worst)
            listen = page.locator('.tablebox[data-key="pairs"] tbody a.listen')
            assert listen.count() == summary.n_segments > 0
            pair_id = _column(page, "pairs", "pair_id")[0]  # the lowest segment is one the page plays
            assert _column(page, "pairs", "listen")[0] == "▶ play"
            listen.first.click()
            article = page.locator(f'article.segment[data-pair="{pair_id}"]')
            box = article.bounding_box()
            assert box is not None and 0 <= box["y"] < 900  # scrolled into view
            assert article.locator("audio").count() == 2
            page.evaluate("window.scrollTo(0, 0)")

            # searching: only matching rows stay
            page.fill('.tablebox[data-key="pairs"] input.search', "song 1")
            titles = _column(page, "pairs", "original_title")
            assert sorted(titles) == ["Song 1 <b>", "Song 10", "Song 11"]  # shown as text, never as markup
            assert page.locator('.tablebox[data-key="pairs"] tbody b').count() == 0

            # a funnel reason filters the rejects table to its rows
            page.click('a.reason[data-filter-reason="bad_duration"]')
            reasons = _column(page, "rejects", "reason")
            assert reasons == ["bad_duration"] * shared_fabricated.reasons[("ingest", "bad_duration")]
            assert page.locator('.tablebox[data-key="rejects"] .chip').count() == 2
            page.click('.tablebox[data-key="rejects"] .chip >> nth=0')
            page.click('.tablebox[data-key="rejects"] .chip >> nth=0')
            assert len(_column(page, "rejects", "reason")) == summary.n_rejects

            page.screenshot(path=tmp_path / "report.png", full_page=True)
            assert errors == [] and requests == []
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", [1024, 1280])
def test_status_column_is_in_view_without_scrolling_sideways(shared_report, tmp_path, width):
    sync_api = pytest.importorskip("playwright.sync_api")
    _, _, text = shared_report
    html_file = tmp_path / "index.html"
    html_file.write_text(text, encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.fspath(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(html_file.as_uri(), wait_until="load")
            page.locator("#pairs-section").scroll_into_view_if_needed()
            for name in ("status", "reason"):
                th = page.locator(f'.tablebox[data-key="pairs"] th[data-col="{_index(page, "pairs", name)}"]')
                box = th.bounding_box()
                assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= width, (name, box)
            statuses = set(_column(page, "pairs", "status"))
            assert statuses and statuses <= {"kept", "excluded", "rejected", "not_built"}
            assert page.evaluate("window.scrollX") == 0
        finally:
            browser.close()
