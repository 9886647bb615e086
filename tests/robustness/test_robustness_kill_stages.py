"""kill -9 during `mine` (while decoding), `separate` and `export-dataset`, then the same command again.

After each kill every file under its final name is already the uninterrupted run's (a partial output
only ever exists under a temp name); the rerun resumes (decodes, separates or exports only what was
left) and ends with outputs identical to an uninterrupted run's: audio and JSON by their bytes, tables by
their content. Faults come from vocalmine/testing/stage_faults.py; bench/robustness.py repeats them.
"""

from __future__ import annotations

import re

import pytest

from vocalmine.core.catalog import load_catalog
from vocalmine.testing import stage_faults as sf

pytestmark = pytest.mark.slow


def test_kill_mine_while_decoding_then_rerun(rb, mined, mine_reference, tmp_path):
    expected = mine_reference
    assert {"pairs.parquet", "rejects.parquet", "unpaired.parquet", "fingerprints.parquet"} <= set(expected)

    yaml_file = sf.fresh_workspace(mined, tmp_path / "ws")
    catalog = load_catalog(yaml_file)
    work = catalog.pairs.parent
    # killed once a checkpoint part is on disk, while later files still decode (each read takes 0.2 s)
    trigger = rb.when_exists(work, lambda p: p.parent.name.endswith(".parts") and p.name.startswith("part-"))
    slow = sf.fault_env(tmp_path / "f", slow_read_s=0.2)
    killed = rb.run_and_kill(yaml_file, sf.MINE_ARGS, trigger=trigger, env=slow)
    assert killed.killed, "mine finished before its first checkpoint"
    assert sf.partial_outputs(sf.tree_digest(work), expected) == []
    assert sf.unreadable_parts(catalog.fingerprints) == []
    final = rb.run_cli(yaml_file, sf.MINE_ARGS, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    decoded, cached = map(int, re.search(r"fingerprints\s+(\d+) decoded, (\d+) cached", final.stdout).groups())
    assert cached > 0 and decoded > 0, final.stdout  # resumed: what the killed run decoded was kept
    assert sf.tree_digest(work) == expected
    assert rb.temp_files(work) == []


def test_kill_separate_then_resume(rb, mined, tmp_path):
    songs = sf.write_songs(tmp_path / "songs")
    models = rb.write_untrained_models(tmp_path / "models")
    ref = rb.run_cli(mined, sf.separate_args(songs, models, tmp_path / "ref"), timeout=300)
    assert ref.returncode == 0, ref.stderr[-2000:]
    expected = sf.tree_digest(tmp_path / "ref")
    assert len(expected) == 2 * len(songs)

    out = tmp_path / "out"
    args = sf.separate_args(songs, models, out)
    # killed while the second song's output is written (an output waits 1 s between its temp and its rename)
    trigger = rb.when_exists(out, lambda p: p.name.startswith(".song1.") and ".tmp" in p.name)
    killed = rb.run_and_kill(mined, args, trigger=trigger, env=sf.fault_env(tmp_path / "f", slow_write_s=1.0))
    assert killed.killed
    assert rb.temp_files(out), "the kill should have landed while an output was being written"
    left = sf.tree_digest(out)
    assert "song0.vocals.wav" in left and sf.partial_outputs(left, expected) == []
    again = rb.run_cli(mined, args, timeout=300)  # without --resume: one line that says how to go on
    assert again.returncode == 1 and "--resume" in again.stderr and "Traceback" not in again.stderr
    final = rb.run_cli(mined, [*args, "--resume"], timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert "song0.vocals.wav, song0.instrumental.wav" in final.stdout and "(kept: --resume)" in final.stdout
    assert sf.tree_digest(out) == expected
    assert rb.temp_files(out) == []


def test_kill_export_dataset_mid_write_then_rerun(rb, built, tmp_path):
    source, _, expected = built
    yaml_file = rb.clone_workspace(source, tmp_path / "ws", with_shards=True)
    dataset = load_catalog(yaml_file).dataset
    # killed while the second track's first WAV is whole under its temp name, not yet renamed
    seen = set()

    def second_track_temp(path):
        if path.name == "track.json":
            seen.add(path.parent)
        return ".tmp" in path.name and path.parent not in seen and len(seen) >= 1

    killed = rb.run_and_kill(yaml_file, sf.EXPORT_ARGS, trigger=rb.when_exists(dataset, second_track_temp),
                             env=sf.fault_env(tmp_path / "f", slow_write_s=1.0))
    assert killed.killed
    assert rb.temp_files(dataset), "the kill should have landed while a WAV was being written"
    left = sf.tree_digest(dataset)
    assert any(name.endswith("track.json") for name in left) and sf.partial_outputs(left, expected) == []
    final = rb.run_cli(yaml_file, sf.EXPORT_ARGS, timeout=300)
    assert final.returncode == 0, final.stderr[-2000:]
    assert re.search(r"\(\d+ written, [1-9]\d* resumed", final.stdout), final.stdout
    assert sf.tree_digest(dataset) == expected
    assert rb.temp_files(dataset) == []
