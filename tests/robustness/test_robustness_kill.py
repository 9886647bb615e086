"""kill -9 during `vocalmine build` and `vocalmine train`, then restart.

Each restart completes, the final index (tables compared with pandas, shard
files by bytes) and the final checkpoint weights (last.pt and best.pt) are
identical to an uninterrupted run, and no temp file is left. The kill points
are deterministic where that matters (right after the first shard group, in
the middle of a checkpoint write) plus one seeded random time;
bench/robustness.py repeats this with more kills.
"""

from __future__ import annotations

import random
import time

import pytest

from vocalmine.core.catalog import load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def build_reference(rb, mined, tmp_path_factory):
    yaml_file = rb.clone_workspace(mined, tmp_path_factory.mktemp("build_ref"))
    started = time.perf_counter()
    res = rb.run_cli(yaml_file, rb.BUILD_ARGS, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    return yaml_file, time.perf_counter() - started, rb.index_digest(load_catalog(yaml_file).shards)


def test_kill_build_then_restart(rb, mined, build_reference, tmp_path):
    _, duration, expected = build_reference
    assert len([k for k in expected if k.startswith("shard-")]) >= 3, "the test corpus should give several shard groups"
    yaml_file = rb.clone_workspace(mined, tmp_path / "ws")
    shards = load_catalog(yaml_file).shards
    rng = random.Random(8)
    triggers = [rb.when_exists(shards / "parts", lambda p: p.name.startswith("group-")),  # after the first group
                rb.after(rng.uniform(0.2, 0.9) * duration)]  # the restart, at a random time
    runs, final = rb.kill_and_resume(yaml_file, rb.BUILD_ARGS, triggers=triggers, timeout=300)
    assert runs[0].killed, "the build finished before the first group's part record appeared"
    assert final.returncode == 0, final.stderr[-2000:]
    assert rb.index_digest(shards) == expected
    assert rb.temp_files(shards.parent) == []
    assert rb.index_consistency(shards) == ""


def test_kill_train_mid_checkpoint_then_resume(rb, build_reference, tmp_path_factory):
    ref_yaml, _, _ = build_reference
    ref = rb.clone_workspace(ref_yaml, tmp_path_factory.mktemp("train_ref"), with_shards=True)
    res = rb.run_cli(ref, rb.TRAIN_ARGS, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    expected = rb.run_digests(load_catalog(ref).models / "vocals")

    yaml_file = rb.clone_workspace(ref_yaml, tmp_path_factory.mktemp("train_kill"), with_shards=True)
    run_dir = load_catalog(yaml_file).models / "vocals"
    # The second checkpoint write: last.pt of an earlier step already exists, a new one is half written.
    seen = []

    def second_temp(path):
        # checkpoint temps are ".last.<hex>.tmp.pt" (metrics.csv has temps of its own)
        if path.name.startswith(".last.") and ".tmp" in path.name and path.name not in seen:
            seen.append(path.name)
        return len(seen) >= 2

    args = [*rb.TRAIN_ARGS, "--resume"]  # --resume on a fresh run starts afresh
    killed = rb.run_and_kill(yaml_file, args, trigger=rb.when_exists(run_dir, second_temp), timeout=300)
    assert killed.killed, "training finished before its second checkpoint write"
    assert (run_dir / "last.pt").is_file(), "the first checkpoint should have been written before the kill"
    final = rb.run_cli(yaml_file, args, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert rb.run_digests(run_dir) == expected
    assert rb.temp_files(run_dir.parent) == []
