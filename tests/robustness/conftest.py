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
