"""Training runs on synthetic shards: learning, files, exact resume after a kill, refusals, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vocalmine.commands.context import Context
from vocalmine.commands.train import train_command
from vocalmine.core.catalog import catalog_for_corpus
from vocalmine.core.errors import ConfigError, NothingUsableError
from vocalmine.core.tables import write_table
from vocalmine.core.contract.shards import INDEX_SCHEMA
from vocalmine.model import train as trainer
from vocalmine.model.checkpoint import build_model, load_checkpoint
from vocalmine.model.config import TrainConfig
from vocalmine.model.data import read_index
from vocalmine.model.train import train_run, weights_digest


@pytest.fixture(scope="module")
def whole_run(shards, tmp_path_factory):
    """Four steps of 2 random crops (of a 6-step epoch), remixed, never interrupted; last.pt saved at step 2 too."""
    config = TrainConfig(batch_size=2, steps=4, lr=2e-3, workers=0, threads=2, log_every=1, checkpoint_every=2, patience=100)
    run = tmp_path_factory.mktemp("runs") / "vocals"
    return config, run, train_run(shards=shards.folder, run_dir=run, target="vocals", config=config, device="cpu")


@pytest.mark.slow
def test_a_tiny_run_beats_the_identity_mask(whole_run):
    config, run, summary = whole_run
    assert (summary.steps, summary.epochs, summary.stopped, summary.train_patches, summary.val_patches) == (4, 0, "steps", 12, 4)
    assert summary.best_val_loss < summary.identity_val_loss
    assert summary.best_val_sdr > summary.identity_val_sdr
    assert {p.name for p in run.iterdir()} == {"best.pt", "last.pt", "metrics.csv", "tensorboard"}
    assert any(run.joinpath("tensorboard").iterdir())
    metrics = pd.read_csv(run / "metrics.csv")
    assert list(metrics["step"]) == [1, 2, 3, 4, 4]  # a train row per step, a validation row at the end
    assert metrics["val_loss"].iloc[-1] == pytest.approx(summary.best_val_loss)
    assert metrics["lr"].iloc[0] == config.lr and metrics["patches_per_s"].iloc[0] > 0
    best = load_checkpoint(run / "best.pt", expected_target="vocals")
    assert best["step"] == summary.best_step == 4 and best["config"] == config.to_dict() and best["scaler"] is not None
    assert weights_digest(build_model(best)) == summary.weights_digest


class Killed(RuntimeError):
    pass


@pytest.mark.slow
def test_resume_after_a_kill_repeats_the_same_next_steps(shards, whole_run, tmp_path, monkeypatch):
    config, whole_dir, whole = whole_run
    expected = pd.read_csv(whole_dir / "metrics.csv").dropna(subset=["train_loss"])

    real_step = trainer._Run.train_step
    calls = {"n": 0}

    def dying_step(self, batch):
        calls["n"] += 1
        if calls["n"] == 4:  # killed during step 4: step 3 ran after the step-2 checkpoint and is lost
            raise Killed("SIGKILL")
        return real_step(self, batch)

    monkeypatch.setattr(trainer._Run, "train_step", dying_step)
    run = tmp_path / "killed"
    with pytest.raises(Killed):
        train_run(shards=shards.folder, run_dir=run, target="vocals", config=config, device="cpu")
    assert load_checkpoint(run / "last.pt")["step"] == 2
    monkeypatch.setattr(trainer._Run, "train_step", real_step)

    resumed = train_run(shards=shards.folder, run_dir=run, target="vocals", config=config, device="cpu", resume=True)
    got = pd.read_csv(run / "metrics.csv").dropna(subset=["train_loss"])
    assert list(got["step"]) == [1, 2, 3, 4]  # the lost step 3 row was replaced, not duplicated
    np.testing.assert_allclose(got["train_loss"], expected["train_loss"], rtol=1e-6, atol=0)
    assert resumed.weights_digest == whole.weights_digest
    assert resumed.best_val_loss == pytest.approx(whole.best_val_loss, rel=1e-6)

    with pytest.raises(ConfigError, match=r"last.pt: checkpoint is for target 'vocals', expected 'instrumental'"):
        train_run(shards=shards.folder, run_dir=run, target="instrumental", config=config, device="cpu", resume=True)
    with pytest.raises(ConfigError, match=r"last.pt: cannot resume: it was trained with lr=0.002"):
        train_run(shards=shards.folder, run_dir=run, target="vocals", config=config.replace(lr=1e-4), device="cpu", resume=True)


def subset_shards(shards, folder, keep) -> object:
    """A shards folder with the same shard files (linked) and only the index rows ``keep`` selects."""
    index = read_index(shards.folder)
    folder.mkdir()
    for shard in index["shard"].unique():
        (folder / f"shard-{shard:05d}.npy").symlink_to(shards.folder / f"shard-{shard:05d}.npy")
    write_table(index[keep(index)], folder / "index.parquet", INDEX_SCHEMA)
    return folder


def test_no_train_patches_is_an_error(shards, tmp_path):
    folder = subset_shards(shards, tmp_path / "shards", lambda ix: ix["split"] != "train")
    with pytest.raises(NothingUsableError, match=r"no patches in the train split"):
        train_run(shards=folder, run_dir=tmp_path / "run", target="vocals", config=TrainConfig(workers=0), device="cpu")


@pytest.mark.slow
def test_early_stopping_keeps_the_best_and_the_last(shards, tmp_path):
    # Two train patches: one step per epoch. min_delta=1 makes every epoch after the first "no better".
    folder = subset_shards(shards, tmp_path / "shards", lambda ix: (ix["split"] != "train") | (ix.index < 2))
    config = TrainConfig(batch_size=2, lr=1e-3, workers=0, patience=2, min_delta=1.0, max_val_patches=2, epochs=10)
    summary = train_run(shards=folder, run_dir=tmp_path / "run", target="instrumental", config=config, device="cpu")
    assert (summary.stopped, summary.epochs, summary.steps, summary.best_step, summary.val_patches) == ("early_stopping", 3, 3, 1, 2)
    assert load_checkpoint(tmp_path / "run" / "best.pt")["step"] == 1
    assert load_checkpoint(tmp_path / "run" / "last.pt")["extra"]["bad_epochs"] == 2


@pytest.mark.slow
def test_cli_trains_the_baseline_into_its_folder_and_resumes(shards, tmp_path):
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, tmp_path / "corpus", tmp_path / "work"), encoding="utf-8")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "shards").symlink_to(shards.folder)
    runner = CliRunner()
    args = ["--target", "instrumental", "--no-skips", "--steps", "2", "--batch-size", "2", "--workers", "0",
            "--lr", "1e-3", "--device", "cpu", "--set", "max_val_patches=2"]
    result = runner.invoke(train_command, args, obj=Context(yaml_file, 0), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "trained instrumental-noskip on cpu x1 (" in result.output and "): 2 steps" in result.output
    last = tmp_path / "work" / "models" / "instrumental-noskip" / "last.pt"
    assert load_checkpoint(last, expected_target="instrumental")["model_kwargs"]["skips"] is False
    # --resume keeps the run's settings (lr 1e-3, no skips) and takes the new step limit
    result = runner.invoke(train_command, ["--target", "instrumental", "--no-skips", "--resume", "--steps", "3"],
                           obj=Context(yaml_file, 0), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert load_checkpoint(last)["step"] == 3 and load_checkpoint(last)["config"]["lr"] == 1e-3
    result = runner.invoke(train_command, ["--target", "vocals", "--set", "learning_rate=1"], obj=Context(yaml_file, 0))
    assert isinstance(result.exception, ConfigError) and "learning_rate" in str(result.exception)


@pytest.mark.slow
def test_a_time_budget_stops_the_run_and_drives_the_cosine_schedule(shards, tmp_path):
    config = TrainConfig(batch_size=2, minutes=0.02, schedule="cosine", lr=1e-3, workers=0, log_every=1, patience=100,
                         precision="fp32")
    summary = train_run(shards=shards.folder, run_dir=tmp_path / "run", target="vocals", config=config, device="cpu")
    assert summary.stopped == "minutes" and summary.trained_minutes >= 0.02 and summary.steps >= 1
    assert summary.patches_seen == 2 * summary.steps and summary.precision == "fp32"
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv").dropna(subset=["lr"])
    assert metrics["lr"].iloc[0] == 1e-3 and metrics["lr"].is_monotonic_decreasing  # cosine over the elapsed time
    assert len(metrics) == 1 or metrics["lr"].iloc[-1] < 1e-3
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    assert last["extra"]["trained_s"] >= 0.02 * 60 and last["extra"]["patches_seen"] == summary.patches_seen
    # a resumed run continues the budget: a larger one trains on, the same one stops at once
    more = train_run(shards=shards.folder, run_dir=tmp_path / "run", target="vocals", config=config, device="cpu", resume=True)
    assert more.steps == summary.steps and more.stopped == "minutes"


@pytest.mark.slow
def test_cosine_over_steps_and_remix_switch(shards, tmp_path):
    config = TrainConfig(batch_size=2, steps=4, schedule="cosine", lr=1e-3, workers=0, log_every=1, patience=100,
                         remix=False, precision="fp32")
    train_run(shards=shards.folder, run_dir=tmp_path / "run", target="vocals", config=config, device="cpu")
    lrs = pd.read_csv(tmp_path / "run" / "metrics.csv").dropna(subset=["lr"])["lr"].to_numpy()
    np.testing.assert_allclose(lrs, [1e-3 * 0.5 * (1 + np.cos(np.pi * k / 4)) for k in range(4)], rtol=1e-6)
    assert load_checkpoint(tmp_path / "run" / "last.pt")["config"]["remix"] is False
    with pytest.raises(ConfigError, match=r"cannot resume: it was trained with remix=False"):
        train_run(shards=shards.folder, run_dir=tmp_path / "run", target="vocals", config=config.replace(remix=True),
                  device="cpu", resume=True)


@pytest.mark.slow
def test_bf16_validation_loss_is_within_tolerance_of_fp32(shards, tmp_path):
    """Parity: the same 6 steps in fp32 and under bf16 autocast (+ channels_last) end at validation losses within 10%."""
    losses = {}
    for precision in ("fp32", "bf16"):
        config = TrainConfig(batch_size=2, steps=6, lr=1e-3, workers=0, log_every=1, patience=100, precision=precision,
                             remix=False)
        summary = train_run(shards=shards.folder, run_dir=tmp_path / precision, target="vocals", config=config, device="cpu")
        assert summary.precision == precision
        losses[precision] = pd.read_csv(tmp_path / precision / "metrics.csv")["val_loss"].dropna().iloc[-1]
    assert losses["bf16"] == pytest.approx(losses["fp32"], rel=0.10)
