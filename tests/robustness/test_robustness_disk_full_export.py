"""Disk full while `export-dataset` writes its track folders, and how a full disk reaches the writers of audio.

The export's full disk is simulated (no mount privileges assumed): an atomic write to one track's
vocals.wav fails with ENOSPC once its temp file is written (vocalmine/testing/stage_faults.py), in the
CLI's Dask worker too. Required: one line naming the path and a non-zero exit, no temp file, no
manifest, and a rerun that keeps the finished tracks and ends identical to an uninterrupted export.
libsndfile itself says only "System error." when the disk fills: write_audio must still raise ENOSPC
(checked with a failing libsndfile, and on a real full tmpfs where this machine lets us mount one).
"""

from __future__ import annotations

import errno
import re
import shutil
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from vocalmine.core import atomic, audio
from vocalmine.core.catalog import load_catalog
from vocalmine.core.contract.dataset import MANIFEST_FILE
from vocalmine.testing import stage_faults as sf


@pytest.mark.slow
def test_disk_full_during_export_is_one_line_and_the_rerun_resumes(rb, built, tmp_path):
    source, _, expected = built
    folders = sorted({name.rsplit("/", 1)[0] for name in expected if name.endswith("/track.json")})
    assert len(folders) >= 3

    yaml_file = rb.clone_workspace(source, tmp_path / "ws", with_shards=True)
    dataset = load_catalog(yaml_file).dataset
    victim = f"{folders[2]}/vocals.wav"  # the third track in pair order: tasks run in that order on one worker
    res = rb.run_cli(yaml_file, sf.EXPORT_ARGS, env=sf.fault_env(tmp_path / "f", enospc_path=victim), timeout=300)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "disk full" in lines[0], lines
    assert str(dataset / folders[2]) in lines[0]  # the path, so the user knows which disk
    assert rb.temp_files(dataset) == [] and not (dataset / MANIFEST_FILE).exists()
    assert sf.partial_outputs(sf.tree_digest(dataset), expected) == []

    final = rb.run_cli(yaml_file, sf.EXPORT_ARGS, timeout=300)  # space freed
    assert final.returncode == 0, final.stderr[-2000:]
    assert re.search(r"\(\d+ written, [1-9]\d* resumed", final.stdout), final.stdout
    assert sf.tree_digest(dataset) == expected and rb.temp_files(dataset) == []


def test_float_wavs_of_the_same_audio_are_the_same_bytes(tmp_path):
    """libsndfile's PEAK chunk records the time of writing; without it a resumed export equals an uninterrupted one."""
    y = np.random.default_rng(0).uniform(-1, 1, (4410, 2)).astype(np.float32)
    audio.write_audio(tmp_path / "a.wav", y, 44100, subtype="FLOAT")
    time.sleep(1.1)  # the PEAK chunk's clock counts seconds
    audio.write_audio(tmp_path / "b.wav", y, 44100, subtype="FLOAT")
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert b"PEAK" not in (tmp_path / "a.wav").read_bytes()
    np.testing.assert_array_equal(soundfile.read(tmp_path / "a.wav", dtype="float32")[0], y)


def test_a_failed_libsndfile_write_on_a_full_disk_is_enospc(tmp_path, monkeypatch):
    def fails(self, data):
        raise soundfile.LibsndfileError(0, "System error.")

    monkeypatch.setattr(soundfile.SoundFile, "write", fails)
    y = np.zeros(1000, np.float32)
    with pytest.raises(soundfile.LibsndfileError):  # space left: libsndfile's own error, not a false "disk full"
        audio.write_audio(tmp_path / "a.wav", y, 8192)
    monkeypatch.setattr(atomic.os, "statvfs", lambda path: SimpleNamespace(f_bavail=3, f_frsize=4096))
    with pytest.raises(OSError) as info:
        audio.write_audio(tmp_path / "a.wav", y, 8192)
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []  # nothing half-written, not even the temp file


REAL_FULL_DISK = textwrap.dedent("""
    import errno, sys
    import numpy as np
    from vocalmine.core.atomic import save_npy_atomic
    from vocalmine.core.audio import write_audio
    stereo = np.zeros((400000, 2), np.float32)
    for write in (lambda: write_audio(sys.argv[1] + "/a.wav", stereo, 44100, subtype="FLOAT"),
                  lambda: save_npy_atomic(sys.argv[1] + "/shard-00000.npy", stereo.T.astype(np.float16))):
        try:
            write()
        except OSError as exc:
            print("errno", exc.errno)
""")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_audio_and_shard_writes_on_a_real_full_tmpfs_are_enospc(tmp_path):
    """libsndfile ("System error.") and numpy ("N requested and M written") give no errno when the disk fills."""
    mount = tmp_path / "small"
    mount.mkdir()
    script = tmp_path / "write.py"
    script.write_text(REAL_FULL_DISK)
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here (needs CAP_SYS_ADMIN)")
    # a private mount namespace: the 256 kB tmpfs vanishes with the process
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                          f'mount -t tmpfs -o size=256k tmpfs "{mount}" && "{sys.executable}" "{script}" "{mount}" '
                          f'&& ls -A "{mount}"'], capture_output=True, text=True, timeout=120)
    if "mount:" in res.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    assert res.stdout.split() == ["errno", str(errno.ENOSPC)] * 2, res.stdout + res.stderr  # and no file left in it
