"""Fault scenarios shared by tests/robustness and bench/robustness.py.

Hostile audio files, escaping paths, tampered checkpoints, a disk that fills
while shard k is written, and kill -9 at chosen moments of `build` and
`train`, each with the helpers that check what a run left behind. The tests
run each scenario a few times; the bench repeats them and prints a table.
Every input is generated, so nothing here needs real data.
"""


from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import soundfile as sf

from vocalmine.core.audio import load_audio
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.contract.models import BEST_CHECKPOINT, LAST_CHECKPOINT
from vocalmine.core.contract.pairs import pair_id_for
from vocalmine.core.contract.shards import open_shard, shard_path, INDEX_FILE, TABLE_FILES
from vocalmine.core.errors import VocalmineError
from vocalmine.demo.corpus import generate_corpus
from vocalmine.features.config import FeaturesConfig
from vocalmine.features.group import process_group
from vocalmine.features.store import part_path
from vocalmine.mining.fingerprint import fingerprint_file
from vocalmine.mining.mine import mine
from vocalmine.model.checkpoint import load_checkpoint, make_payload, save_checkpoint
from vocalmine.model.inference import separate_files
from vocalmine.model.unet import UNet

CLI = [sys.executable, "-m", "vocalmine"]
CORPUS_SONGS, CORPUS_EVAL_SONGS, CORPUS_SECONDS = 10, 2, (6.0, 9.0)
BUILD_ARGS = ["build", "--workers", "1", "--pairs-per-shard", "2"]  # several groups: kills land between them
TRAIN_ARGS = ["train", "--target", "vocals", "--steps", "4", "--batch-size", "2", "--workers", "0",
              "--device", "cpu", "--set", "threads=1", "--set", "checkpoint_every=1", "--set", "log_every=1"]
ORPHAN_GRACE_S = 5.0  # seconds a killed command's worker processes get to exit by themselves
FAULT_ENV = "VOCALMINE_FAULT_ENOSPC_SHARD"  # see enospc_sitecustomize: shard number whose write fails


# -- results ---------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the closing table."""

    fault: str  # the fault or the input
    tries: int  # times it was tried
    outcome: str  # what happened (reject reason, clean error, identical result)
    ok: bool  # the outcome is the required one


def markdown_table(rows: list[Row], *, work: Path | None = None) -> str:
    """The table the closing note quotes (temp paths shortened to $WORK)."""
    lines = ["| fault / input | tried | outcome | ok |", "|---|---:|---|:---:|"]
    for r in rows:
        outcome = r.outcome.replace("|", "/").replace("\n", " ")
        if work is not None:
            outcome = outcome.replace(str(work), "$WORK")
        lines.append(f"| {r.fault} | {r.tries} | {outcome} | {'yes' if r.ok else '**NO**'} |")
    return "\n".join(lines)


def temp_files(root: Path) -> list[Path]:
    """Files or folders under ``root`` whose name contains ".tmp" (a writer's leftovers)."""
    return sorted(p for p in Path(root).rglob("*") if ".tmp" in p.name)


# -- bad audio -------------------------------------------------------------------------------

TONE_SR = 8192


def tone(seconds: float, *, sr: int = TONE_SR, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    """A mono float32 sine."""
    t = np.arange(int(seconds * sr), dtype=np.float64) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_one_hour_wav(path: Path, *, sr: int = 8000, chunk_s: int = 60) -> Path:
    """A 1-hour 8 kHz mono 16-bit WAV of silence with a 5 s tone at 30 min, written in chunks."""
    chunk = np.zeros(chunk_s * sr, dtype=np.float32)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_16") as fh:
        for minute in range(3600 // chunk_s):
            if minute == 30:
                block = chunk.copy()
                block[: 5 * sr] = tone(5.0, sr=sr)
                fh.write(block)
            else:
                fh.write(chunk)
    return path


def write_bad_audio(folder: Path, *, one_hour: bool = False) -> dict[str, Path]:
    """Generate the hostile audio inputs; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    files: dict[str, Path] = {}

    def put(name: str, path: Path) -> None:
        files[name] = path

    good = folder / "good.wav"
    sf.write(good, tone(4.0, sr=44100), 44100)
    (folder / "corrupt.wav").write_bytes(rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    put("corrupt (random bytes, .wav)", folder / "corrupt.wav")
    (folder / "corrupt.mp3").write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00"
                                         + rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    put("corrupt (ID3 header + garbage, .mp3)", folder / "corrupt.mp3")
    data = good.read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    put("truncated WAV (half the data)", folder / "truncated.wav")
    (folder / "truncated_header.wav").write_bytes(data[:30])
    put("truncated WAV (inside the header)", folder / "truncated_header.wav")
    sf.write(folder / "flac_src.flac", tone(4.0, sr=44100), 44100)
    flac = (folder / "flac_src.flac").read_bytes()
    (folder / "truncated.flac").write_bytes(flac[: len(flac) // 3])
    (folder / "flac_src.flac").unlink()
    put("truncated FLAC (a third)", folder / "truncated.flac")
    (folder / "empty.wav").write_bytes(b"")
    put("zero-length file", folder / "empty.wav")
    sf.write(folder / "silent.wav", np.zeros(5 * 44100, np.float32), 44100)
    put("silent (5 s of zeros)", folder / "silent.wav")
    sf.write(folder / "one_8k.wav", np.array([0.5], np.float32), 8192)
    put("1 sample (8192 Hz)", folder / "one_8k.wav")
    sf.write(folder / "one_44k.wav", np.array([0.5], np.float32), 44100)
    put("1 sample (44.1 kHz: 0 samples after resampling)", folder / "one_44k.wav")
    six = rng.standard_normal((4 * 48000, 6)).astype(np.float32) * 0.1
    sf.write(folder / "six.wav", six, 48000)
    put("6-channel WAV (48 kHz)", folder / "six.wav")
    nan = tone(4.0)
    nan[1000] = np.nan
    sf.write(folder / "nan.wav", nan, 8192, subtype="FLOAT")
    put("float WAV with a NaN sample", folder / "nan.wav")
    (folder / "folder.wav").mkdir(exist_ok=True)
    put("a directory where a file should be", folder / "folder.wav")
    fifo = folder / "fifo.wav"
    if not fifo.exists():
        os.mkfifo(fifo)
    put("a named pipe (FIFO) where a file should be", fifo)
    put("missing file", folder / "missing.wav")
    if one_hour:
        put("1-hour WAV (8 kHz, silence + 5 s tone)", write_one_hour_wav(folder / "one_hour.wav"))
    return files


class Hang(Exception):
    """An entry point ran past its time limit (raised from SIGALRM)."""


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` (a blocking open() is interrupted too)."""

    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    outer = signal.alarm(seconds)  # an enclosing limit (the tests' hang guard) is restored after
    started = time.monotonic()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.alarm(max(1, outer - int(time.monotonic() - started)))


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def audio_outcomes(path: Path, *, good: Path, models_dir: Path | None, work: Path, limit_s: int = 120) -> dict[str,
                                                                                                               str]:
    """What each entry point makes of ``path``: "ok ...", "reject <reason>", "error <AudioError>" or "HANG".

    Any exception other than a VocalmineError propagates (that is a failure).
    """

    out: dict[str, str] = {}

    def guarded(name: str, fn: Callable[[], str]) -> None:
        try:
            with time_limit(limit_s):
                out[name] = fn()
        except VocalmineError as exc:
            out[name] = f"error {describe_error(exc).replace(str(path), path.name)}"
        except Hang as exc:
            out[name] = f"HANG ({exc})"

    def load() -> str:
        return f"ok {load_audio(path).shape[0]} samples"

    def fingerprint() -> str:
        fp = fingerprint_file(str(path), 30.0)
        if fp.error:
            return f"error {fp.error.splitlines()[0].replace(str(path), path.name)}"
        return f"ok {fp.n_frames} frames"

    def features() -> str:
        # The per-pair features, as `build` runs them (a group of pairs on a worker).
        folder = work / "shards"
        pairs = []
        for original, instrumental in ((good, path), (path, good)):
            oid, iid = original.stem, instrumental.stem + "-inst"
            pairs.append({"pair_id": pair_id_for(oid, iid), "original_id": oid, "instrumental_id": iid,
                          "original_path": str(original), "instrumental_path": str(instrumental)})
        process_group(group=0, pairs=pairs, folder=folder, audio_root=path.parent, config=FeaturesConfig())
        part = json.loads((part_path(folder, 0)).read_text())
        reasons = [q["reason"] or "kept" for q in part["quality"]]
        return ("reject " if all(r != "kept" for r in reasons) else "ok ") + "/".join(reasons)

    def separate() -> str:

        res = separate_files(paths=[path], out_dir=work / "separated", models_dir=models_dir, device="cpu")
        return f"ok {sf.info(str(res[0].vocals)).frames} samples out"

    guarded("load_audio", load)
    guarded("fingerprint", fingerprint)
    guarded("pair features", features)
    if models_dir is not None:
        guarded("separate_files", separate)
    return out


def write_untrained_models(models_dir: Path) -> Path:
    """models/vocals/best.pt and models/instrumental/best.pt of untrained U-Nets (for separate_files)."""
    import torch


    for target in ("vocals", "instrumental"):
        torch.manual_seed(0)
        save_checkpoint(models_dir / target / BEST_CHECKPOINT,
                        make_payload(model=UNet(), target=target, config={}, step=0, epoch=0))
    return models_dir


# -- tampered checkpoint ---------------------------------------------------------------------


class _Payload:
    """Unpickling this object calls open(marker, "w"): a file appears if the pickle runs."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write_tampered_checkpoints(folder: Path, marker: Path) -> dict[str, Path]:
    """Checkpoints whose unpickling would create ``marker``: torch zip format and a raw pickle."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    body = {"format": "vocalmine-checkpoint/1", "target": "vocals", "payload": _Payload(marker)}
    torch.save(body, folder / "zip.pt")
    (folder / "raw.pt").write_bytes(pickle.dumps(body, protocol=2))
    return {"torch.save zip with a __reduce__ payload": folder / "zip.pt",
            "raw pickle with a __reduce__ payload": folder / "raw.pt"}


# -- workspaces and the CLI ------------------------------------------------------------------


def write_catalog(directory: Path, corpus: Path) -> Path:
    """A data_catalog.yaml in ``directory`` over ``corpus``, artifacts in directory/work."""

    directory.mkdir(parents=True, exist_ok=True)
    yaml_file = directory / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus, directory / "work"), encoding="utf-8")
    return yaml_file


def prepare_mined(directory: Path, corpus: Path | None = None, *, seed: int = 0) -> Path:
    """Generate a small corpus (unless given), write its catalog and mine it in-process; the yaml path."""

    if corpus is None:

        corpus = directory / "corpus"
        generate_corpus(corpus, songs=CORPUS_SONGS, eval_songs=CORPUS_EVAL_SONGS, seed=seed,
                        song_seconds=CORPUS_SECONDS)
    yaml_file = write_catalog(directory, corpus)
    mine(catalog=load_catalog(yaml_file), scheduler="sync")
    return yaml_file


def clone_workspace(source_yaml: Path, directory: Path, *, with_shards: bool = False) -> Path:
    """A new workspace over the same corpus with a copy of the source's pairs (and shards)."""

    src = load_catalog(source_yaml)
    yaml_file = write_catalog(directory, src.tracks.audio_root)
    dst = load_catalog(yaml_file)
    dst.pairs.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src.pairs, dst.pairs)
    if with_shards:
        shutil.copytree(src.shards, dst.shards)
    return yaml_file


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update(extra or {})
    return env


def run_cli(yaml_file: Path, args: list[str], *, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``vocalmine --catalog yaml_file ARGS`` to completion (in its own session, then reaped)."""
    proc = subprocess.Popen([*CLI, "--catalog", str(yaml_file), *args], cwd=yaml_file.parent, env=env or cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n[robustness] timed out after {timeout} s"
    finally:
        reap_group(proc.pid)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _group_members(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
    return pids


def reap_group(pgid: int) -> int:
    """SIGKILL, one by one, the processes still in the session we started (Dask workers); how many."""
    left = [p for p in _group_members(pgid) if p != os.getpid()]
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(left)


@dataclass
class KillRun:
    """One invocation that was meant to be killed."""

    killed: bool  # SIGKILL landed while it ran (False: it finished first)
    at_s: float  # seconds after the start when it was killed (or ended)
    orphans: int  # processes of its session still alive ORPHAN_GRACE_S after the main one was killed
    rc: int | None  # exit code when it finished by itself


def run_and_kill(yaml_file: Path, args: list[str], *, trigger: Callable[[float], bool], timeout: float = 300,
                 env: dict[str, str] | None = None) -> KillRun:
    """Start ``vocalmine ARGS`` (in ``env``, default :func:`cli_env`); SIGKILL its main process the first time
    ``trigger(elapsed_s)`` is true.

    Processes of its session (Dask nanny and worker) still alive ORPHAN_GRACE_S
    later are counted as orphans and killed.
    """
    start = time.perf_counter()
    proc = subprocess.Popen([*CLI, "--catalog", str(yaml_file), *args], cwd=yaml_file.parent, env=env or cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while proc.poll() is None:
            elapsed = time.perf_counter() - start
            if elapsed > timeout:
                raise TimeoutError(f"{args[0]} ran past {timeout} s")
            if trigger(elapsed):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                # Dask's nanny and worker notice the lost scheduler and exit by themselves within ~2 s.
                deadline = time.perf_counter() + ORPHAN_GRACE_S
                while _group_members(proc.pid) and time.perf_counter() < deadline:
                    time.sleep(0.1)
                return KillRun(True, elapsed, reap_group(proc.pid), None)
            time.sleep(0.01)
        return KillRun(False, time.perf_counter() - start, 0, proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reap_group(proc.pid)


def after(seconds: float) -> Callable[[float], bool]:
    """A trigger: kill at a fixed time after the start."""
    return lambda elapsed: elapsed >= seconds


def when_exists(folder: Path, predicate: Callable[[Path], bool], *, delay: float = 0.0) -> Callable[[float], bool]:
    """A trigger: kill ``delay`` s after a file under ``folder`` satisfies ``predicate``."""
    seen: list[float] = []

    def trigger(elapsed: float) -> bool:
        if not seen and folder.exists() and any(predicate(p) for p in folder.rglob("*")):
            seen.append(elapsed)
        return bool(seen) and elapsed >= seen[0] + delay

    return trigger


def index_digest(shards: Path) -> dict[str, str]:
    """Content hashes of a build: the three tables (read with pandas) and each shard file's bytes."""
    out = {}
    for name in TABLE_FILES:
        df = pd.read_parquet(shards / name)
        out[name] = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
                                   + json.dumps(list(map(str, df.columns))).encode()).hexdigest()[:16]
    for path in sorted(shards.glob("shard-*.npy")):
        out[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return out


def checkpoint_digest(path: Path) -> str:
    """sha256 over a checkpoint's state_dict tensors in key order (as model.trainer.weights_digest)."""

    payload = load_checkpoint(path)
    digest = hashlib.sha256()
    for key, value in payload["state_dict"].items():
        digest.update(key.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return f"step {payload['step']} {digest.hexdigest()[:16]}"


def run_digests(run_dir: Path) -> dict[str, str]:
    return {name: checkpoint_digest(run_dir / name) for name in (LAST_CHECKPOINT, BEST_CHECKPOINT)}


def kill_and_resume(yaml_file: Path, args: list[str], *, triggers: list[Callable[[float], bool]],
                    resume_args: list[str] = (),
                    timeout: float = 300, env: dict[str, str] | None = None) -> tuple[list[KillRun],
                                                                                      subprocess.CompletedProcess]:
    """Run ``args`` killed by each trigger in turn (restarts use ``resume_args``; killed runs use ``env``),
    then once to completion."""
    runs = []
    for k, trigger in enumerate(triggers):
        runs.append(run_and_kill(yaml_file, [*args, *(resume_args if k else ())], trigger=trigger, timeout=timeout,
                                 env=env))
    final = run_cli(yaml_file, [*args, *resume_args], timeout=timeout)
    return runs, final


# -- disk full -------------------------------------------------------------------------------

SITECUSTOMIZE = '''\
"""Fault injection for bench/robustness.py: np.save fails with ENOSPC on one shard."""
import errno, os
_shard = os.environ.get("{env}")
if _shard:
    import numpy as _np
    _real_save = _np.save
    def _save(file, arr, *args, **kwargs):
        name = getattr(file, "name", file)
        if isinstance(name, (str, os.PathLike)) and "shard-%05d" % int(_shard) in os.fspath(name):
            if hasattr(file, "write"):
                file.write(b"\\x93NUMPY" + b"\\0" * 4096)  # some bytes reach the disk first
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(name))
        return _real_save(file, arr, *args, **kwargs)
    _np.save = _save
'''.format(env=FAULT_ENV)


def enospc_env(folder: Path, shard: int) -> dict[str, str]:
    """Environment of a subprocess (and its Dask workers) whose np.save of shard ``shard`` fails with ENOSPC."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    path = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return cli_env({"PYTHONPATH": path, FAULT_ENV: str(shard)})


@contextlib.contextmanager
def failing_np_save(shard: int, *, after_bytes: int = 4096) -> Iterator[list[str]]:
    """In this process: np.save into shard ``shard`` writes ``after_bytes`` bytes, then raises ENOSPC."""
    real = np.save
    hits: list[str] = []

    def save(file, arr, *args, **kwargs):
        name = os.fspath(getattr(file, "name", file)) if isinstance(getattr(file, "name", file),
                                                                    (str, os.PathLike)) else ""
        if f"shard-{shard:05d}" in name:
            hits.append(name)
            if hasattr(file, "write"):
                file.write(b"\x93NUMPY" + b"\0" * after_bytes)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
        return real(file, arr, *args, **kwargs)

    np.save = save
    try:
        yield hits
    finally:
        np.save = real


def index_consistency(shards: Path) -> str:
    """"" when index.parquet is absent or matches the shard files present, else what is wrong."""

    index_file = shards / INDEX_FILE
    if not index_file.exists():
        return ""
    index = pd.read_parquet(index_file)
    problems = []
    for shard, rows in index.groupby("shard"):
        path = shard_path(shards, int(shard))
        if not path.is_file():
            problems.append(f"{path.name} missing")
            continue
        n = open_shard(shards, int(shard)).shape[1]
        pairs = rows.drop_duplicates("pair_id").sort_values("offset")
        ends = (pairs["offset"] + pairs["samples"]).tolist()
        if pairs["offset"].tolist() != [0] + ends[:-1] or ends[-1] != n:  # the pairs tile the shard's columns exactly
            problems.append(f"{path.name}: {n} columns on disk, index pairs cover "
                            f"{list(zip(pairs['offset'], pairs['samples']))[:5]}...")
        part = part_path(shards, int(shard))
        if part.is_file():
            ids = sorted(p["patch_id"] for p in json.loads(part.read_text())["patches"])
            if ids != sorted(rows["patch_id"]):
                problems.append(f"{path.name}: part record and index disagree on patch ids")
    return "; ".join(problems)
