"""Checkpoints: round trip, wrong target, other STFT, and tampered pickles refused."""

from __future__ import annotations

import os

import pytest
import torch

from vocalmine.core.errors import ConfigError
from vocalmine.model.checkpoint import build_model, load_checkpoint, make_payload, save_checkpoint
from vocalmine.model.config import TrainConfig
from vocalmine.model.unet import UNet


class Payload:
    """Pickles into a call of os.system: what a malicious "checkpoint" would run on load."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = UNet(skips=False)
    path = tmp_path_factory.mktemp("ckpt") / "best.pt"
    payload = make_payload(model=model, target="vocals", config=TrainConfig(skips=False).to_dict(), step=7, epoch=1,
                           optimizer=torch.optim.Adam(model.parameters()).state_dict(), extra={"rng": {"torch": [torch.get_rng_state()]}})
    save_checkpoint(path, payload)
    return path, model


@pytest.mark.slow
def test_round_trip_rebuilds_the_same_model(saved):
    path, model = saved
    payload = load_checkpoint(path, expected_target="vocals")
    assert payload["step"] == 7 and payload["config"]["skips"] is False and payload["stft"]["hop_length"] == 768
    assert payload["git_commit"] and payload["normalisation"] == "track_max"
    rebuilt = build_model(payload)
    x = torch.rand(1, 1, 512, 128)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model.eval()(x))
    assert not any(p.name.endswith(".tmp.pt") for p in path.parent.iterdir())  # atomic: no temp left


def test_wrong_target_and_other_stft_are_refused(saved, tmp_path):
    path, _ = saved
    with pytest.raises(ConfigError, match=r"best.pt: checkpoint is for target 'vocals', expected 'instrumental'"):
        load_checkpoint(path, expected_target="instrumental")
    payload = load_checkpoint(path)
    payload["stft"] = {**payload["stft"], "hop_length": 512}
    other = save_checkpoint(tmp_path / "other.pt", payload)
    with pytest.raises(ConfigError, match=r"other.pt: checkpoint STFT parameters .*'hop_length': 512.* differ"):
        load_checkpoint(other)
    with pytest.raises(ConfigError, match=r"missing.pt: checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")


@pytest.mark.parametrize("nested", [False, True])
def test_a_tampered_pickle_is_refused_without_running_its_payload(saved, tmp_path, nested):
    marker = tmp_path / "pwned"
    evil = Payload(marker)
    if nested:  # a genuine checkpoint with one extra object slipped in
        evil = {**load_checkpoint(saved[0]), "extra": {"hook": evil}}
    path = tmp_path / "last.pt"
    torch.save(evil, path)
    with pytest.raises(ConfigError, match=r"last.pt: refused to load checkpoint \(UnpicklingError"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_plain_state_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(UNet().state_dict(), path)
    with pytest.raises(ConfigError, match=r"weights.pt: not a vocalmine checkpoint"):
        load_checkpoint(path)
