"""`vocalmine demo-data`: help, a run into a folder, the default folder and a bad setting."""

from __future__ import annotations

import pytest

import pandas as pd
from click.testing import CliRunner

from vocalmine.cli import cli
from vocalmine.commands.context import Context
from vocalmine.commands.demo_data import FALLBACK_DIR, _default_out
from vocalmine.core.catalog import catalog_for_corpus
from vocalmine.demo import plan as P


def test_help_lists_every_option():
    result = CliRunner().invoke(cli, ["demo-data", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--songs", "--eval-songs", "--seed", "--song-seconds", "--workers"):
        assert option in result.output


@pytest.mark.slow
def test_run_writes_the_corpus_and_prints_what_it_made(tmp_path):
    out = tmp_path / "corpus"
    args = ["--catalog", str(tmp_path / "absent.yaml"), "demo-data", "--out", str(out), "--songs", str(P.MIN_SONGS),
            "--eval-songs", "2", "--seed", "5", "--song-seconds", "4", "5", "--workers", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    catalog = pd.read_csv(out / "catalog.csv", dtype=str, keep_default_na=False)
    pairs = pd.read_csv(out / "truth_pairs.csv")
    assert f"{len(catalog)} rows" in result.output
    assert f"{len(pairs)} pairs" in result.output
    assert "same_audio 1" in result.output and "MB" in result.output and "generated in" in result.output
    assert len(pd.read_csv(out / "eval" / "eval.csv")) == 2


def test_too_few_songs_is_one_clear_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(cli, ["demo-data", "--out", str(tmp_path), "--songs", "3"])
    assert result.exit_code == 1
    assert "error: songs=3" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "catalog.csv").exists()


def test_default_folder_is_the_catalog_csv_folder_else_data_demo(tmp_path):
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, tmp_path / "corpus", tmp_path / "work"), encoding="utf-8")
    assert _default_out(Context(yaml_file, 0)) == (tmp_path / "corpus").resolve()
    assert _default_out(Context(tmp_path / "absent.yaml", 0)) == FALLBACK_DIR
