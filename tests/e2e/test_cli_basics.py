"""The CLI root: help of every command in pipeline order, version, clear one-line errors, where `mine` writes."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from vocalmine import __version__
from vocalmine.cli import cli

EXPECTED_COMMANDS = {"demo-data", "mine", "build", "report", "train", "separate", "evaluate", "demo"}


def test_every_stage_has_a_command():
    assert EXPECTED_COMMANDS <= set(cli.commands)


@pytest.mark.parametrize("name", sorted(EXPECTED_COMMANDS))
def test_help_of_each_command(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {name}" in result.output or f"Usage: vocalmine {name}" in result.output
    assert len(cli.commands[name].help or "") > 10


def test_help_lists_the_commands_in_pipeline_order():
    from vocalmine.commands import ALL_COMMANDS

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    lines = result.output.split("Commands:", 1)[1].splitlines()
    names = [line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("   ")]
    assert names == [command.name for command in ALL_COMMANDS]
    # the order a newcomer runs the stages in, not the alphabet's
    assert names.index("mine") < names.index("build") < names.index("train") < names.index("export")
    assert names != sorted(names)


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mine", "build", "report", "evaluate"])
def test_bad_catalog_path_gives_one_line_and_nonzero_exit(tmp_path, name):
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "vocalmine", "--catalog", str(missing), name],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"error: {missing}: data catalog not found (pass --catalog PATH)"], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_error_lines_carry_no_escape_codes():
    from vocalmine.cli import one_line

    assert one_line("refused \x1b[1mWeightsUnpickler error\x1b[0m:\n  unsupported global") == (
        "refused WeightsUnpickler error: unsupported global"
    )


def test_mine_writes_left_out_outputs_beside_pairs_and_says_where(tmp_path):
    (tmp_path / "tracks.csv").write_text(
        "id,artist,title,duration\n1,Ann,Song,200\n2,Ann,Song (Instrumental),200\n3,Ann,Lonely,180\n", encoding="utf-8")
    (tmp_path / "data_catalog.yaml").write_text(
        "tracks:\n  path: tracks.csv\n  columns:\n    track_id: id\n    artist: artist\n    title: title\n"
        "    duration: duration\npairs: out/pairs.parquet\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "data_catalog.yaml"), "mine"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    for name in ("pairs", "rejects", "unpaired"):
        assert (out / f"{name}.parquet").is_file()
        assert f"  {name:<13}{out / f'{name}.parquet'}\n" in result.output
    assert f"  fingerprints {out / 'fingerprints.parquet'} (cache)" in result.output
    assert not (tmp_path / "data").exists()
