"""Shared fixtures: a small generated demo corpus and a data catalog pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocalmine.core.catalog import DataCatalog, catalog_for_corpus, load_catalog

# Small enough to generate in a few seconds, large enough to hold every trap.
TEST_CORPUS_SONGS = 10
TEST_EVAL_SONGS = 3
TEST_SONG_SECONDS = (6.0, 9.0)


@pytest.fixture(scope="session")
def demo_corpus(tmp_path_factory) -> Path:
    """A generated demo corpus shared by the whole session (read-only by convention)."""
    from vocalmine.demo.corpus import generate_corpus

    out = tmp_path_factory.mktemp("demo_corpus")
    generate_corpus(out, songs=TEST_CORPUS_SONGS, eval_songs=TEST_EVAL_SONGS, seed=7, song_seconds=TEST_SONG_SECONDS)
    return out


def write_catalog_yaml(directory: Path, corpus: Path) -> Path:
    """A data_catalog.yaml in ``directory`` for ``corpus``, artifacts under directory/work."""
    yaml_file = directory / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus, directory / "work"), encoding="utf-8")
    return yaml_file


@pytest.fixture(scope="session")
def in_process_scheduler() -> str:
    """Address of an in-process Dask cluster (threads): starts in a fraction of the time of worker processes."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def demo_catalog(tmp_path, demo_corpus) -> DataCatalog:
    """A fresh data catalog over the shared demo corpus, with artifacts in this test's tmp dir."""
    return load_catalog(write_catalog_yaml(tmp_path, demo_corpus))


# Session fixtures that generate or mine a corpus (seconds each): every test that uses one
# is an end-to-end run, whichever test happens to pay for the fixture. Browser tests start Chromium.
SLOW_FIXTURES = {"demo_corpus", "mined"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
