"""Checkpoints: round trip, wrong target, the signal spec they carry, and tampered pickles refused."""

from __future__ import annotations

import os

import pytest
import torch

from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, PRESETS
from vocalmine.model.checkpoint import build_model, checkpoint_spec, load_checkpoint, make_payload, save_checkpoint
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


def test_wrong_target_and_a_malformed_or_mismatched_spec_are_refused(saved, tmp_path):
    path, _ = saved
    with pytest.raises(ConfigError, match=r"best.pt: checkpoint is for target 'vocals', expected 'instrumental'"):
        load_checkpoint(path, expected_target="instrumental")
    payload = load_checkpoint(path)
    assert checkpoint_spec(payload) == PAPER
    payload["spec"] = {**payload["spec"], "hop": "fast"}
    with pytest.raises(ConfigError, match=r"bad.pt: hop='fast', expected an integer"):
        load_checkpoint(save_checkpoint(tmp_path / "bad.pt", payload))
    payload["spec"] = PRESETS["fullband"].to_dict()  # a stereo spec for a mono model
    with pytest.raises(ConfigError, match=r"stereo.pt: model takes 1 channel\(s\) but its signal spec has 2"):
        load_checkpoint(save_checkpoint(tmp_path / "stereo.pt", payload))


def test_a_checkpoint_carries_its_spec_and_one_from_before_specs_is_the_papers(saved, tmp_path):
    path, _ = saved
    stereo = make_payload(model=UNet(in_channels=2), target="vocals", config={}, step=0, epoch=0, spec=PRESETS["fullband"])
    assert checkpoint_spec(load_checkpoint(save_checkpoint(tmp_path / "fb.pt", stereo))) == PRESETS["fullband"]
    old = load_checkpoint(path)
    del old["spec"]  # written before specs: only the STFT record
    assert checkpoint_spec(load_checkpoint(save_checkpoint(tmp_path / "old.pt", old))) == PAPER
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
