"""The weight average: its warmed-up update rule, and a training run that validates and keeps it, across a kill."""

from __future__ import annotations

import pytest
import torch

from vocalmine.model import train as trainer
from vocalmine.model.averaging import WeightAverage, warmup_decay
from vocalmine.model.checkpoint import load_checkpoint
from vocalmine.model.config import TrainConfig
from vocalmine.model.train import train_run


def test_the_average_starts_as_a_copy_then_follows_the_warmed_up_decay():
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    average = WeightAverage(model, decay=0.99)
    w0 = model[0].weight.detach().clone()
    average.update(model)
    torch.testing.assert_close(average.module[0].weight, w0)
    with torch.no_grad():
        model[0].weight.add_(1.0)
    model.train()
    model(torch.randn(4, 3))  # moves batch-norm's statistics and step count
    average.update(model)
    d = warmup_decay(0.99, 1)
    assert d == pytest.approx(2 / 11)
    torch.testing.assert_close(average.module[0].weight, d * w0 + (1 - d) * (w0 + 1.0))
    torch.testing.assert_close(average.module[1].running_mean, (1 - d) * model[1].running_mean)
    assert int(average.module[1].num_batches_tracked) == 1
    assert warmup_decay(0.99, 10_000) == 0.99

    copy = WeightAverage(model, decay=0.99)
    copy.load_state_dict(average.state_dict())
    torch.testing.assert_close(copy.module.state_dict(), average.module.state_dict())
    assert int(copy.averaged.n_averaged) == 2


class Killed(RuntimeError):
    pass


@pytest.mark.slow
def test_a_run_keeps_the_average_in_best_and_resumes_it_exactly(shards, tmp_path, monkeypatch):
    config = TrainConfig(batch_size=2, steps=4, lr=2e-3, workers=0, threads=2, log_every=1, checkpoint_every=2,
                         patience=100, ema_decay=0.5)
    whole = train_run(shards=shards.folder, run_dir=tmp_path / "whole", target="vocals", config=config, device="cpu")
    last = load_checkpoint(tmp_path / "whole" / "last.pt")
    best = load_checkpoint(tmp_path / "whole" / "best.pt")
    average = last["extra"]["weight_average"]
    assert average["count"] == 4 and best["step"] == 4
    torch.testing.assert_close(best["state_dict"], average["weights"])  # best.pt holds the validated average
    assert "weight_average" not in best["extra"]  # once: as its weights
    key = next(k for k in average["weights"] if k.endswith("weight"))
    assert not torch.equal(average["weights"][key], last["state_dict"][key])  # last.pt resumes the raw weights

    real_step = trainer._Run.train_step
    calls = {"n": 0}

    def dying_step(self, batch):
        calls["n"] += 1
        if calls["n"] == 4:
            raise Killed("SIGKILL")
        return real_step(self, batch)

    monkeypatch.setattr(trainer._Run, "train_step", dying_step)
    with pytest.raises(Killed):
        train_run(shards=shards.folder, run_dir=tmp_path / "killed", target="vocals", config=config, device="cpu")
    monkeypatch.setattr(trainer._Run, "train_step", real_step)
    resumed = train_run(shards=shards.folder, run_dir=tmp_path / "killed", target="vocals", config=config,
                        device="cpu", resume=True)
    assert resumed.best_val_loss == pytest.approx(whole.best_val_loss, rel=1e-6)
    torch.testing.assert_close(load_checkpoint(tmp_path / "killed" / "best.pt")["state_dict"], best["state_dict"],
                               rtol=1e-6, atol=1e-7)
