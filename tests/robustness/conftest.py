"""Fixtures of the robustness tests: the scenario library (bench/robustness.py) and a mined workspace."""

from __future__ import annotations

import importlib.util
import signal
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "robustness.py"
HANG_LIMIT_S = 300  # any single robustness test running longer than this is a hang


@pytest.fixture(scope="session")
def rb():
    """bench/robustness.py as a module: the fault scenarios shared by these tests and the bench."""
    name = "vocalmine_bench_robustness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up by name
        spec.loader.exec_module(module)
    return sys.modules[name]


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
