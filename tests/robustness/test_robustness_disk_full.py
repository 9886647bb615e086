"""Disk full while `build` writes its shards (np.save fails with ENOSPC on shard k).

No mount privileges are assumed, so the full disk is a failing writer: in this
process for the library (a threads-only Dask cluster shares the patch), and a
sitecustomize on PYTHONPATH for the CLI and its worker processes. Required: a
clear error (a VocalmineError from the library; one line and a non-zero exit
from the CLI), no temp file, and index.parquet either absent or consistent
with the shard files present.
"""

from __future__ import annotations

import pytest

from vocalmine.core.catalog import load_catalog
from vocalmine.core.errors import VocalmineError
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.build import build

CONFIG = FeaturesConfig(pairs_per_shard=2, workers=1)  # several groups, so shard 1 fails after shard 0 is written


@pytest.fixture(scope="module")
def threads_cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _build_with_full_disk(rb, catalog, scheduler, *, shard=1, config=CONFIG):
    with rb.failing_np_save(shard) as hits:
        try:
            build(catalog=catalog, scheduler=scheduler, config=config)
        except (OSError, VocalmineError) as exc:
            error = exc
        else:
            error = None
    assert hits, "the failing writer was never called"
    return error


@pytest.mark.slow
def test_disk_full_leaves_nothing_half_written(rb, mined, tmp_path, threads_cluster):
    cat = load_catalog(rb.clone_workspace(mined, tmp_path / "ws"))
    error = _build_with_full_disk(rb, cat, threads_cluster)
    assert error is not None and "No space left on device" in str(error)
    assert rb.temp_files(cat.shards.parent) == []
    assert not (cat.shards / "index.parquet").exists()
    assert not (cat.shards / "shard-00001.npy").exists() and not (cat.shards / "parts" / "group-00001.json").exists()
    # Space freed: the same build resumes, keeps the finished group and completes.
    summary = build(catalog=cat, scheduler=threads_cluster, config=CONFIG)
    assert summary.groups_skipped >= 1 and summary.groups_built >= 1
    assert rb.index_consistency(cat.shards) == "" and rb.temp_files(cat.shards.parent) == []


@pytest.mark.slow
def test_disk_full_is_a_vocalmine_error(rb, mined, tmp_path, threads_cluster):
    """Regression: the worker's OSError(ENOSPC) came out of build as is."""
    cat = load_catalog(rb.clone_workspace(mined, tmp_path / "ws"))
    error = _build_with_full_disk(rb, cat, threads_cluster)
    assert isinstance(error, VocalmineError) and "shard-00001" in str(error)


@pytest.mark.slow
def test_disk_full_cli_is_one_line(rb, mined, tmp_path):
    """Regression: `vocalmine build` on a full disk ended in a traceback."""
    yaml_file = rb.clone_workspace(mined, tmp_path / "ws")
    res = rb.run_cli(yaml_file, rb.BUILD_ARGS, env=rb.enospc_env(tmp_path / "fault", 1), timeout=240)
    cat = load_catalog(yaml_file)
    assert res.returncode != 0
    assert rb.temp_files(cat.shards.parent) == [] and not (cat.shards / "index.parquet").exists()
    assert "Traceback" not in res.stderr, res.stderr[-1500:]
    assert res.stderr.strip().splitlines()[-1].startswith("error: ") and "No space left" in res.stderr


@pytest.mark.slow
def test_failed_rebuild_leaves_no_stale_index(rb, mined, tmp_path, threads_cluster):
    """Regression: a rebuild with other settings that failed after rewriting shard 0 left the old index.parquet."""
    cat = load_catalog(rb.clone_workspace(mined, tmp_path / "ws"))
    build(catalog=cat, scheduler=threads_cluster, config=CONFIG)
    assert rb.index_consistency(cat.shards) == ""
    _build_with_full_disk(rb, cat, threads_cluster, config=FeaturesConfig(pairs_per_shard=2, workers=1, min_vocal_ratio=0.5))
    assert rb.temp_files(cat.shards.parent) == []
    assert rb.index_consistency(cat.shards) == ""
