"""Faults of `mine`, `separate` and `export-dataset`, and two runs on one output folder.

The companion of vocalmine/testing/faults.py (which covers `build` and `train`), shared by tests/robustness
and bench/robustness.py. Faults reach the CLI's processes (Dask workers included) through a
sitecustomize on PYTHONPATH, switched on by environment variables:

- a slow decode (every ``SoundFile.read`` sleeps), so that a kill lands while a stage decodes and so
  that a run holds its folder long enough for a second run to meet it;
- a slow write (an atomic write waits between its whole temp file and the rename), so that a kill lands
  while an output is being written;
- a full disk for chosen files: an atomic write (vocalmine.core.atomic) whose target's path contains a given
  text fails with ENOSPC once its temp file is written, as a write that fills the disk fails.

Outputs are compared with an uninterrupted run's: audio, JSON and shard files by their bytes, Parquet
tables by their content (a table's metadata records when it was written, so its bytes differ by design).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from vocalmine.core.catalog import load_catalog
from vocalmine.core.lock import LOCK_PREFIX, lock_path
from vocalmine.core.tables import parts_folder
from vocalmine.testing.faults import CLI, cli_env, reap_group, run_cli, write_catalog

SLOW_ENV = "VOCALMINE_FAULT_SLOW_READ_S"  # seconds every SoundFile.read sleeps first
SLOW_WRITE_ENV = "VOCALMINE_FAULT_SLOW_WRITE_S"  # seconds an atomic write waits between its temp file and the rename
ENOSPC_ENV = "VOCALMINE_FAULT_ENOSPC_PATH"  # an atomic write to a path containing this fails (ENOSPC)
MINE_ARGS = ["mine", "--workers", "1"]
EXPORT_ARGS = ["export-dataset", "--workers", "1", "--pairs-per-task", "1"]  # one task per track: kills land between
SEPARATE_INPUTS, SEPARATE_SECONDS = 4, 5.0  # songs given to one `separate`, and their length

SITECUSTOMIZE = '''\
"""Fault injection of vocalmine.testing.stage_faults: a slow decode, a slow write, a full disk for chosen files."""
import contextlib, errno, os, time
_slow = float(os.environ.get("{slow}") or 0)
_full = os.environ.get("{full}")
_slow_write = float(os.environ.get("{slow_write}") or 0)
if _slow:
    import soundfile as _sf
    _real_read = _sf.SoundFile.read  # soundfile.read reads through it too
    def _read(self, *args, **kwargs):
        time.sleep(_slow)
        return _real_read(self, *args, **kwargs)
    _sf.SoundFile.read = _read
if _full or _slow_write:
    import vocalmine.core.atomic as _atomic  # before any module takes atomic_path from it
    _real_atomic = _atomic.atomic_path
    @contextlib.contextmanager
    def _atomic_path(target):
        with _real_atomic(target) as tmp:
            yield tmp
            if _full and _full in os.fspath(target):  # written in full, as far as the writer knows
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(tmp))
            time.sleep(_slow_write)  # the temp file is whole and not yet renamed: a kill here tests that
    _atomic.atomic_path = _atomic_path
'''.format(slow=SLOW_ENV, full=ENOSPC_ENV, slow_write=SLOW_WRITE_ENV)


def fault_env(folder: Path, *, slow_read_s: float = 0.0, slow_write_s: float = 0.0,
              enospc_path: str = "") -> dict[str, str]:
    """Environment of a CLI run (and its Dask workers) with the faults asked for (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    path = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return cli_env({"PYTHONPATH": path, SLOW_ENV: str(slow_read_s), SLOW_WRITE_ENV: str(slow_write_s),
                    ENOSPC_ENV: enospc_path})


# -- workspaces ------------------------------------------------------------------------------


def fresh_workspace(source_yaml: Path, directory: Path) -> Path:
    """A workspace over the same corpus as ``source_yaml`` with nothing mined yet (same files, same mtimes)."""
    return write_catalog(directory, load_catalog(source_yaml).tracks.audio_root)


def write_songs(folder: Path, *, n: int = SEPARATE_INPUTS, seconds: float = SEPARATE_SECONDS) -> list[Path]:
    """``n`` stereo 44.1 kHz WAVs (a chord and a vibrato voice, seeded) to separate."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        rng = np.random.default_rng(k)
        t = np.arange(int(seconds * 44100)) / 44100
        chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in rng.uniform(110, 440, 3))
        voice = 0.2 * np.sin(2 * np.pi * rng.uniform(200, 330) * t + 3 * np.sin(2 * np.pi * 5 * t))
        path = folder / f"song{k}.wav"
        sf.write(path, np.stack([chord + voice, 0.8 * chord + voice], axis=1).astype(np.float32), 44100)
        paths.append(path)
    return paths


def separate_args(songs: list[Path], models: Path, out: Path) -> list[str]:
    return ["separate", *map(str, songs), "--model", str(models), "--out", str(out), "--device", "cpu",
            "--precision", "fp32"]


# -- what a run left behind ------------------------------------------------------------------


def table_digest(path: Path) -> str:
    """A Parquet table's content: columns and values, not its metadata."""
    df = pd.read_parquet(path)
    data = pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
    data += json.dumps(list(map(str, df.columns))).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by its path relative to it: Parquet by content, others by bytes.

    Temp files (".tmp" in the name), lock files and the fingerprint cache's checkpoint parts are left out:
    they are the writer's, not outputs.
    """
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or ".tmp" in path.name or path.name.startswith(LOCK_PREFIX) or ".parts/" in rel:
            continue
        if path.suffix == ".parquet":
            out[rel] = table_digest(path)
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def partial_outputs(got: dict[str, str], expected: dict[str, str]) -> list[str]:
    """Files under their final name whose content is not the uninterrupted run's (a half-written output)."""
    return sorted(name for name, digest in got.items() if expected.get(name) != digest)


def unreadable_parts(cache: Path) -> list[str]:
    """Checkpoint parts of the fingerprint cache that are not whole Parquet files."""
    bad = []
    for part in sorted(parts_folder(cache).glob("part-*.parquet")) if parts_folder(cache).is_dir() else []:
        try:
            pd.read_parquet(part)
        except Exception:  # noqa: BLE001 - any failure to read is what this looks for
            bad.append(part.name)
    return bad


# -- two runs on one folder ------------------------------------------------------------------


@dataclass
class Contention:
    """A run started while another held the same output folder."""

    holder_pid: int  # the first run's pid
    second: subprocess.CompletedProcess  # the second run, started while the first held the folder
    holder_rc: int | None  # the first run's exit code (None: it was killed)
    after_kill: subprocess.CompletedProcess | None  # a run started right after the holder was killed with -9
    lock_left: bool  # the killed holder's lock file was still there when that run started


def wait_for_holder(lock: Path, pid: int, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until ``lock`` names ``pid`` as its holder."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the holder ended (exit {proc.returncode}) before it took {lock}")
        try:
            if json.loads(lock.read_text())["pid"] == pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{lock} never named pid {pid}")


def contend(yaml_file: Path, args: list[str], *, folder: Path, stage: str, slow_env: dict[str, str],
            kill_holder: bool, second_args: list[str] | None = None, timeout: float = 300) -> Contention:
    """Start ``vocalmine ARGS`` slowed by ``slow_env``; once it holds ``folder``, run ``second_args`` (default
    the same) beside it. Then let the holder finish, or kill it with -9 and run ``second_args`` once more."""
    lock = lock_path(folder, stage)
    proc = subprocess.Popen([*CLI, "--catalog", str(yaml_file), *args], cwd=yaml_file.parent, env=slow_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_holder(lock, proc.pid, proc, timeout)
        second = run_cli(yaml_file, second_args or args, timeout=timeout)
        if not kill_holder:
            return Contention(proc.pid, second, proc.wait(timeout=timeout), None, False)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # its Dask workers notice the lost scheduler (they hold no lock: see core/lock.py)
        reap_group(proc.pid)
        left = lock.exists()
        return Contention(proc.pid, second, None, run_cli(yaml_file, second_args or args, timeout=timeout), left)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reap_group(proc.pid)


def one_line_refusal(res: subprocess.CompletedProcess, holder_pid: int) -> str:
    """"" when ``res`` is a one-line refusal naming ``holder_pid`` and the command it runs, else what is wrong."""
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    if res.returncode == 0:
        return "the second run was not refused (exit 0)"
    if "Traceback" in res.stderr or len(lines) != 1:
        return f"not one line: {res.stderr[-400:]!r}"
    line = lines[0]
    wanted = ("error: ", f"pid {holder_pid} on ", "`vocalmine ", "running since")
    missing = [part for part in wanted if part not in line]
    return f"the line lacks {missing}: {line!r}" if missing else ""
