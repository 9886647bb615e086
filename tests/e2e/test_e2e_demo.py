"""End to end: `vocalmine demo` on a tiny corpus runs every stage, and a re-run reuses them."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import soundfile as sf
from click.testing import CliRunner

from vocalmine.cli import cli
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.core.contract.pairs import PAIRS_SCHEMA

TINY = ["--songs", "8", "--eval-songs", "2", "--song-seconds", "6", "8", "--steps", "2", "--batch-size", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    catalog = root / "data_catalog.yaml"
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "demo", *TINY], catch_exceptions=False)
    return root, catalog, result


@pytest.mark.slow
def test_demo_runs_every_stage(demo_run):
    root, catalog, result = demo_run
    assert result.exit_code == 0, result.output
    work = root / "data" / "work"
    steps = re.findall(r"^\[\s*(\w+)\]", result.output, flags=re.M)
    assert steps == ["corpus", "mine", "build", "report"] + ["train"] * 4 + ["evaluate", "separate"]
    pairs = read_table(work / "pairs.parquet", PAIRS_SCHEMA)
    truth = pd.read_csv(root / "data" / "demo" / "truth_pairs.csv", dtype=str)
    assert set(zip(pairs.original_id, pairs.instrumental_id)) == set(zip(truth.original_id, truth.instrumental_id))
    assert len(read_table(work / "rejects.parquet", REJECTS_SCHEMA)) > 0
    assert (work / "shards" / "index.parquet").is_file()
    assert (work / "report" / "index.html").stat().st_size > 10_000
    for run in ("vocals", "vocals-noskip", "instrumental", "instrumental-noskip"):
        assert (work / "models" / run / "best.pt").is_file()
    scores = pd.read_parquet(work / "evaluation" / "scores.parquet")
    assert {"mixture", "oracle-irm", "unet", "baseline"} <= set(scores["system"])
    # the printed table is the paper's layout, with the reference rows beside the models
    assert "oracle-irm" in result.output and "GNSDR" in result.output
    separated = sorted((work / "separated").glob("*.wav"))
    assert len(separated) == 4
    for path in separated:  # full band at the mixture's own rate and channels (E001 is 44.1 kHz stereo)
        mixture = sf.info(root / "data" / "demo" / "eval" / f"{path.name.split('.')[0]}.mixture.wav")
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.frames) == (mixture.samplerate, mixture.channels, mixture.frames)
    assert {sf.info(p).samplerate for p in separated} == {44100, 8192}


@pytest.mark.slow
def test_demo_rerun_reuses_finished_stages(demo_run):
    root, catalog, first = demo_run
    pairs_mtime = (root / "data" / "work" / "pairs.parquet").stat().st_mtime_ns
    result = CliRunner().invoke(cli, ["--catalog", str(catalog), "demo", *TINY], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"\[\s*corpus\] reused", result.output)
    assert re.search(r"\[\s*mine\] reused", result.output)
    assert re.search(r"\[\s*evaluate\] reused", result.output)
    assert re.search(r"\[\s*build\] .*\((\d+) reused\)", result.output)
    assert (root / "data" / "work" / "pairs.parquet").stat().st_mtime_ns == pairs_mtime


@pytest.mark.slow
def test_each_stage_reruns_alone(demo_run):
    root, catalog, _ = demo_run
    for command in (["mine"], ["report", "--no-audio"], ["evaluate", "--serial", "--no-models"]):
        result = CliRunner().invoke(cli, ["--catalog", str(catalog), *command], catch_exceptions=False)
        assert result.exit_code == 0, (command, result.output)
