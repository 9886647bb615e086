"""Fixtures of the report tests: fabricated artifacts from the test kit (vocalmine/testing/artifacts.py)."""

from __future__ import annotations

import pytest

from vocalmine.testing.artifacts import Fabricated, fabricate


@pytest.fixture
def fabricated(tmp_path) -> Fabricated:
    """A small fabricated catalog with every stage's artifacts (12 pairs, 3 s songs)."""
    return fabricate(tmp_path)


@pytest.fixture(scope="session")
def shared_fabricated(tmp_path_factory) -> Fabricated:
    """One fabricated catalog for the whole session; tests must not modify it."""
    return fabricate(tmp_path_factory.mktemp("report_fabricated"))


@pytest.fixture(scope="session")
def shared_report(shared_fabricated):
    """(fabricated, ReportSummary, page text) of one report over ``shared_fabricated``."""
    from vocalmine.report.report import build_report

    summary = build_report(catalog=shared_fabricated.catalog)
    return shared_fabricated, summary, summary.path.read_text(encoding="utf-8")
