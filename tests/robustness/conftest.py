"""Fixtures of the robustness tests: the fault scenarios of the test kit and a mined workspace."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from vocalmine.testing import faults

HANG_LIMIT_S = 300  # any single robustness test running longer than this is a hang


@pytest.fixture(scope="session")
def rb():
    """The fault scenarios of the test kit (vocalmine/testing/faults.py), shared with bench/robustness.py."""
    return faults


@pytest.fixture(autouse=True)
def no_hang():
    """Turn a hang into a failure (SIGALRM also interrupts a blocking open() of a FIFO)."""

    def alarm(signum, frame):
        raise TimeoutError(f"robustness test still running after {HANG_LIMIT_S} s: a hang")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def mined(tmp_path_factory, demo_corpus, rb) -> Path:
    """data_catalog.yaml of a workspace over the shared demo corpus, mined (pairs.parquet written)."""
    return rb.prepare_mined(tmp_path_factory.mktemp("rb_mined"), demo_corpus)


@pytest.fixture(scope="session")
def built(tmp_path_factory, mined, rb):
    """A workspace with `vocalmine build`'s shards, its index digest, and the tree of an uninterrupted
    `export-dataset` of it (the references of the kill, lock and disk-full tests)."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.testing import stage_faults

    yaml_file = rb.clone_workspace(mined, tmp_path_factory.mktemp("rb_built"))
    res = rb.run_cli(yaml_file, rb.BUILD_ARGS, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    ref = rb.clone_workspace(yaml_file, tmp_path_factory.mktemp("rb_export_ref"), with_shards=True)
    res = rb.run_cli(ref, stage_faults.EXPORT_ARGS, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return yaml_file, rb.index_digest(load_catalog(yaml_file).shards), stage_faults.tree_digest(load_catalog(ref).dataset)


@pytest.fixture(scope="session")
def mine_reference(tmp_path_factory, mined, rb) -> dict[str, str]:
    """The outputs of an uninterrupted `vocalmine mine` of a fresh workspace over the shared corpus."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.testing import stage_faults

    yaml_file = stage_faults.fresh_workspace(mined, tmp_path_factory.mktemp("rb_mine_ref"))
    res = rb.run_cli(yaml_file, stage_faults.MINE_ARGS, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return stage_faults.tree_digest(load_catalog(yaml_file).pairs.parent)
