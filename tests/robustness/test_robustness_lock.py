"""Two runs on one output folder: the second is refused in one line naming the first; a killed first blocks nothing.

The first run is slowed (every audio decode sleeps, vocalmine/testing/stage_faults.py) so that it still
holds its folder when the second starts. `build` is let finish, and its shards must be exactly an
uninterrupted build's (nothing mixed in); `mine` and `train` are killed with -9, and the next run, which
finds the dead run's lock file, must go ahead.
"""

from __future__ import annotations

import pytest

from vocalmine.core.catalog import load_catalog
from vocalmine.core.lock import lock_path
from vocalmine.testing import stage_faults as sf

pytestmark = pytest.mark.slow


def test_a_second_build_is_refused_and_the_first_ends_unmixed(rb, mined, built, tmp_path):
    expected = built[1]  # an uninterrupted build's index and shard bytes

    yaml_file = rb.clone_workspace(mined, tmp_path / "ws")
    shards = load_catalog(yaml_file).shards
    seen = sf.contend(yaml_file, rb.BUILD_ARGS, folder=shards, stage="build", kill_holder=False,
                      slow_env=sf.fault_env(tmp_path / "f", slow_read_s=0.4))
    assert sf.one_line_refusal(seen.second, seen.holder_pid) == ""
    assert "build --workers 1 --pairs-per-shard 2" in seen.second.stderr  # the holder's command, as typed
    assert seen.holder_rc == 0
    assert rb.index_digest(shards) == expected and rb.index_consistency(shards) == ""
    assert rb.temp_files(shards.parent) == [] and not lock_path(shards, "build").exists()


def test_a_mine_killed_while_it_held_the_folder_blocks_nothing(rb, mined, mine_reference, tmp_path):
    expected = mine_reference
    yaml_file = sf.fresh_workspace(mined, tmp_path / "ws")
    work = load_catalog(yaml_file).pairs.parent
    seen = sf.contend(yaml_file, sf.MINE_ARGS, folder=work, stage="mine", kill_holder=True,
                      slow_env=sf.fault_env(tmp_path / "f", slow_read_s=0.3))
    assert sf.one_line_refusal(seen.second, seen.holder_pid) == ""
    assert seen.lock_left  # the dead run's lock file, with its description, was there
    assert seen.after_kill.returncode == 0, seen.after_kill.stderr[-2000:]
    assert sf.tree_digest(work) == expected and rb.temp_files(work) == []


def test_a_train_killed_while_it_held_its_run_folder_blocks_nothing(rb, built, tmp_path):
    yaml_file = rb.clone_workspace(built[0], tmp_path / "ws", with_shards=True)
    run_dir = load_catalog(yaml_file).models / "vocals"
    endless = [*rb.TRAIN_ARGS, "--steps", "100000"]  # the later --steps wins: it holds the folder until killed
    seen = sf.contend(yaml_file, endless, folder=run_dir, stage="train", kill_holder=True, second_args=rb.TRAIN_ARGS,
                      slow_env=rb.cli_env())
    assert sf.one_line_refusal(seen.second, seen.holder_pid) == ""
    assert seen.lock_left
    assert seen.after_kill.returncode == 0, seen.after_kill.stderr[-2000:]
    assert "4 steps" in seen.after_kill.stdout and (run_dir / "best.pt").is_file()
