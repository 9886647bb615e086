"""One-line errors and no silent surprises (issue 14, items 5 and 6): every command's failure is one
line and an exit code, Ctrl-C included, and the stage it interrupted resumes on the next run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from tests.conftest import write_catalog_yaml
from vocalmine.cli import INTERRUPTED, cli
from vocalmine.core.audio import audio_info, load_audio
from vocalmine.core.errors import AudioError
from vocalmine.core.tables import read_table, REJECTS_SCHEMA

COMMANDS_WITH_DEFAULTS = ["mine", "build", "report", "train", "demo", "demo-data"]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vocalmine", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def assert_one_line_error(proc: subprocess.CompletedProcess, *parts: str) -> str:
    lines = error_lines(proc)
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# --- --device ---------------------------------------------------------------------------------------

UNAVAILABLE = ["cuda:99", "tpu", "warp-drive"] + ([] if torch.cuda.is_available() else ["cuda"])


@pytest.mark.slow
@pytest.mark.parametrize("device", UNAVAILABLE)
def test_train_on_an_unavailable_device_is_one_line_before_any_work(tmp_path, demo_corpus, device):
    catalog = write_catalog_yaml(tmp_path, demo_corpus)  # no shards: the device is refused first
    proc = run_cli("--catalog", str(catalog), "train", "--target", "vocals", "--device", device, "--steps", "1")
    line = assert_one_line_error(proc, f"--device {device}")
    assert "shards" not in line and "index.parquet" not in line
    assert not (tmp_path / "work" / "models").exists()


def test_demo_refuses_an_unavailable_device_before_generating_anything(tmp_path):
    catalog = tmp_path / "data_catalog.yaml"
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "demo", "--device", "cuda:99"])
    assert result.exit_code == 1 and "--device cuda:99" in result.output
    assert list(tmp_path.iterdir()) == []


# --- Ctrl-C -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ctrl_c_is_one_line_exit_130_and_the_stage_resumes(tmp_path, demo_corpus):
    catalog = write_catalog_yaml(tmp_path, demo_corpus)
    assert run_cli("--catalog", str(catalog), "mine", "--scheduler", "sync").returncode == 0
    build = ["--catalog", str(catalog), "build", "--workers", "1", "--pairs-per-shard", "1"]
    parts = tmp_path / "work" / "shards" / "parts"
    # A terminal's Ctrl-C signals the whole foreground process group: the CLI and its Dask workers.
    proc = subprocess.Popen([sys.executable, "-m", "vocalmine", *build], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while not any(parts.glob("group-*.json")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "build finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.strip()] == [INTERRUPTED]
    assert "interrupted" in INTERRUPTED
    assert not (tmp_path / "work" / "shards" / "index.parquet").exists()  # the stage did not finish

    again = run_cli(*build)
    assert again.returncode == 0, again.stderr
    resumed = int(re.search(r"(\d+) resumed", again.stdout).group(1))
    assert resumed >= 1, again.stdout  # the groups finished before Ctrl-C were not built again
    assert (tmp_path / "work" / "shards" / "index.parquet").is_file()


def test_interrupt_in_a_command_is_exit_130(monkeypatch, tmp_path):
    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("vocalmine.report.report.build_report", interrupted)
    catalog = write_catalog_yaml(tmp_path, tmp_path / "corpus")
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "report"])
    assert result.exit_code == 130 and result.output.strip() == INTERRUPTED


# --- undecodable files --------------------------------------------------------------------------------

def _garbage(path: Path, n: int = 6000) -> Path:
    path.write_bytes(np.random.default_rng(0).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


@pytest.mark.parametrize("name", ["noise.mp3", "noise.wav", "noise.flac", "empty.ogg"])
def test_a_file_that_exists_but_cannot_be_decoded_says_cannot_decode(tmp_path, name):
    path = _garbage(tmp_path / name, 0 if name.startswith("empty") else 6000)
    for read in (load_audio, audio_info):
        with pytest.raises(AudioError) as info:
            read(path)
        message = str(info.value)
        assert "cannot decode" in message and "does not exist" not in message, message
    with pytest.raises(AudioError, match="missing.wav: does not exist"):
        load_audio(tmp_path / "missing.wav")


@pytest.mark.slow
def test_mine_names_an_undecodable_file_cannot_decode(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(4 * 8192) / 8192
    sf.write(audio / "song.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 8192)
    _garbage(audio / "song-inst.mp3")
    pd.DataFrame({"track_id": ["A", "B"], "artist": ["Ana", "Ana"], "title": ["Rain", "Rain (Instrumental)"],
                  "duration": ["4", "4"], "audio_path": ["audio/song.wav", "audio/song-inst.mp3"]}).to_csv(
        tmp_path / "tracks.csv", index=False)
    (tmp_path / "cat.yaml").write_text(
        "tracks:\n  path: tracks.csv\n  columns: {track_id: track_id, artist: artist, title: title, "
        "duration: duration, audio_path: audio_path}\n", encoding="utf-8")
    proc = run_cli("--catalog", str(tmp_path / "cat.yaml"), "mine", "--scheduler", "sync")
    rejects = read_table(tmp_path / "data" / "work" / "rejects.parquet", REJECTS_SCHEMA)
    undecodable = rejects[rejects["reason"] == "undecodable"]
    assert len(undecodable) == 1, (proc.stderr, rejects)
    detail = undecodable["detail"].iloc[0]
    assert "song-inst.mp3" in detail and "cannot decode" in detail and "does not exist" not in detail


# --- the catalog file ------------------------------------------------------------------------------

CSV = "id,artists,track_name,duration_ms\n1,Ana,Rain,200000\n2,Ana,Rain (Instrumental),200500\n"


def _metadata_catalog(folder, *, extra_columns: str = "") -> None:
    """tracks.csv (CSV) and a minimal cat.yaml mapping its Spotify-style columns, in ``folder``."""
    (folder / "tracks.csv").write_text(CSV, encoding="utf-8")
    (folder / "cat.yaml").write_text(
        "tracks:\n  path: tracks.csv\n  duration_unit: ms\n"
        "  columns: {track_id: id, artist: artists, title: track_name, duration: duration_ms" + extra_columns + "}\n",
        encoding="utf-8")


@pytest.mark.slow
def test_metadata_only_catalog_needs_only_path_and_columns(tmp_path):
    _metadata_catalog(tmp_path)
    proc = run_cli("--catalog", "cat.yaml", "mine", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    pairs = pd.read_parquet(tmp_path / "data" / "work" / "pairs.parquet")  # the default output folder
    assert pairs[["original_id", "instrumental_id"]].values.tolist() == [["1", "2"]]


@pytest.mark.slow
def test_a_mapped_column_missing_from_the_csv_is_named_optional_ones_too(tmp_path):
    _metadata_catalog(tmp_path, extra_columns=", album: album_name, genre: genre")
    proc = run_cli("--catalog", "cat.yaml", "mine", cwd=tmp_path)
    assert_one_line_error(proc, "tracks.csv", "missing column", "'album_name' (mapped to album)",
                          "'genre' (mapped to genre)")


@pytest.mark.slow
def test_every_catalog_mistake_in_one_line(tmp_path):
    (tmp_path / "cat.yaml").write_text(
        "tracks:\n  columns: {track_id: id, artist: artists, duration: d, colour: red}\npairz: p.parquet\n",
        encoding="utf-8")
    proc = run_cli("--catalog", "cat.yaml", "mine", cwd=tmp_path)
    assert_one_line_error(proc, "4 problems", "unknown key 'pairz'", "missing key 'tracks.path'",
                          "missing key 'tracks.columns.title'", "unknown key 'tracks.columns.colour'")


# --- artifacts of an older schema ------------------------------------------------------------------

@pytest.mark.slow
def test_an_artifact_of_an_older_schema_is_one_line_saying_how_to_rebuild(tmp_path):
    _metadata_catalog(tmp_path)
    assert run_cli("--catalog", "cat.yaml", "mine", cwd=tmp_path).returncode == 0
    pairs = tmp_path / "data" / "work" / "pairs.parquet"
    pd.read_parquet(pairs).to_parquet(pairs)  # rewritten without vocalmine's metadata, as before versions
    proc = run_cli("--catalog", "cat.yaml", "report", "--no-audio", cwd=tmp_path)
    assert_one_line_error(proc, "pairs.parquet: written before artifacts carried a version",
                          "delete it and re-run `vocalmine mine` to rebuild it")


# --- help ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", COMMANDS_WITH_DEFAULTS)
def test_every_option_shows_its_default(name):
    import click

    command = cli.commands[name]
    options = [p for p in command.params if isinstance(p, click.Option) and p.name != "help"]
    # a flag is off unless given, a required option has no default: every other option shows one
    valued = [p for p in options if not p.is_flag and not p.required]
    assert options
    for option in valued:
        assert option.show_default, f"{name} {option.opts[0]} does not show its default"
    text = CliRunner().invoke(cli, [name, "--help"], terminal_width=200).output
    assert text.count("[default:") >= len(valued), text
