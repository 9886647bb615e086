"""The output-folder lock (vocalmine.core.lock): one holder at a time, described; a dead holder blocks nothing."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from vocalmine.core import lock
from vocalmine.core.lock import FolderBusyError, hold_folder, lock_path

HOLD = textwrap.dedent("""
    import sys, time
    from vocalmine.core.lock import hold_folder
    with hold_folder(sys.argv[1], "build"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def holder_process(folder, seconds: float = 60.0) -> subprocess.Popen:
    """A process that holds ``folder`` for ``seconds`` (started once it says so)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_holder_is_refused_with_the_first_ones_description(tmp_path):
    proc = holder_process(tmp_path / "shards")
    try:
        with pytest.raises(FolderBusyError) as info:
            with hold_folder(tmp_path / "shards", "build"):
                pass
        message = str(info.value)
        assert "\n" not in message
        assert f"pid {proc.pid} on " in message and "running since" in message and str(tmp_path / "shards") in message
        assert "vocalmine.core.lock" not in message  # the command, not a module path: "-c" here
    finally:
        proc.kill()
        proc.wait()


def test_a_holder_killed_with_sigkill_blocks_nothing(tmp_path):
    proc = holder_process(tmp_path / "shards")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lock_path(tmp_path / "shards", "build").is_file()  # left behind, with the dead holder's description
    with hold_folder(tmp_path / "shards", "build") as path:
        record = json.loads(path.read_text())
        assert record["pid"] == os.getpid() and record["stage"] == "build"
    assert not path.exists()  # released: the folder is left as it was


def test_the_lock_is_per_folder_and_per_stage(tmp_path):
    with hold_folder(tmp_path / "a", "build"):
        with hold_folder(tmp_path / "b", "build"), hold_folder(tmp_path / "a", "mine"):
            pass
        with pytest.raises(FolderBusyError):  # two holders in one process conflict too
            with hold_folder(tmp_path / "a", "build"):
                pass


def test_released_on_an_exception(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with hold_folder(tmp_path, "train"):
            raise KeyboardInterrupt
    with hold_folder(tmp_path, "train"):
        pass


def test_a_forked_child_does_not_keep_the_folder_after_its_parent_is_killed(tmp_path):
    code = textwrap.dedent("""
        import os, sys, time
        from vocalmine.core.lock import hold_folder
        with hold_folder(sys.argv[1], "train"):
            if os.fork() == 0:  # a DataLoader worker, say
                print("child", flush=True)  # after the fork handlers ran
                time.sleep(60)
                os._exit(0)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "child"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with hold_folder(tmp_path, "train"):  # the child lives on, but holds nothing
            pass
    finally:
        os.killpg(proc.pid, signal.SIGKILL)


def test_without_flock_a_live_holder_still_blocks_and_a_dead_one_does_not(tmp_path, monkeypatch):
    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock.fcntl, "flock", no_flock)
    path = lock_path(tmp_path, "mine")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for pid, blocked in ((os.getppid(), True), (dead.pid, False)):
        record = {"pid": pid, "host": lock.socket.gethostname(), "stage": "mine", "command": "vocalmine mine",
                  "since": time.time()}
        path.write_text(json.dumps(record))
        if blocked:
            with pytest.raises(FolderBusyError, match=f"pid {pid} "):
                with hold_folder(tmp_path, "mine"):
                    pass
        else:
            with hold_folder(tmp_path, "mine"):
                assert json.loads(path.read_text())["pid"] == os.getpid()


def test_command_line_reads_as_typed(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/x/site-packages/vocalmine/__main__.py", "--catalog", "my cat.yaml", "build"])
    assert lock.command_line() == "vocalmine --catalog 'my cat.yaml' build"
    monkeypatch.setattr(sys, "argv", ["/venv/bin/vocalmine", "mine", "x" * 400])
    assert len(lock.command_line()) == lock.COMMAND_CHARS and lock.command_line().startswith("vocalmine mine x")


def test_folders_it_created_are_removed_when_left_empty(tmp_path):
    with hold_folder(tmp_path / "models" / "vocals-x", "train"):
        pass
    assert not (tmp_path / "models").exists()  # a failed run leaves no empty model set behind
    with hold_folder(tmp_path / "models" / "vocals", "train") as path:
        (path.parent / "last.pt").write_bytes(b"x")
    assert (tmp_path / "models" / "vocals" / "last.pt").is_file()
