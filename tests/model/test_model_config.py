"""TrainConfig: defaults, validation, unknown keys, CLI strings, resume compatibility."""

from __future__ import annotations

import dataclasses

import pytest

from vocalmine.core.errors import ConfigError
from vocalmine.model.config import TrainConfig, check_resumable


def test_defaults_are_valid_frozen_and_round_trip():
    config = TrainConfig()
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 1.0  # type: ignore[misc]


def test_unknown_keys_are_rejected_with_their_names():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['learning_rate'\]"):
        TrainConfig.from_dict({"learning_rate": 0.1})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"batch_size": 0}, r"batch_size=0 must be >= 1"),
        ({"lr": -1e-3}, r"lr=-0.001 must be in \(0, 1\)"),
        ({"lr": float("nan")}, r"lr=nan"),
        ({"steps": -5}, r"steps=-5 must be >= 0"),
        ({"precision": "fp8"}, r"precision='fp8' must be one of"),
        ({"skips": "maybe"}, r"skips='maybe', expected true or false"),
        ({"epochs": 2.5}, r"epochs=2.5, expected int"),
        ({"workers": True}, r"workers=True, expected int"),
        ({"schedule": "linear"}, r"schedule='linear' must be one of"),
        ({"minutes": -1}, r"minutes=-1.0 must be >= 0"),
        ({"remix_probability": 1.5}, r"remix_probability=1.5 must be in \[0, 1\]"),
        ({"epoch_patches": -1}, r"epoch_patches=-1 must be >= 0"),
    ],
)
def test_invalid_values_are_rejected(overrides, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig().replace(**overrides)


def test_cli_strings_are_coerced_and_none_means_keep():
    config = TrainConfig().replace(lr="1e-3", skips="false", steps="10", batch_size=None)
    assert (config.lr, config.skips, config.steps, config.batch_size) == (1e-3, False, 10, TrainConfig().batch_size)
    assert isinstance(TrainConfig(min_delta=0).min_delta, float)  # an int where a float is expected is fine


def test_resume_refuses_a_different_experiment_but_allows_longer_runs():
    saved = TrainConfig(lr=1e-3, steps=100).to_dict()
    check_resumable(saved, TrainConfig(lr=1e-3, steps=500, workers=0), source="last.pt")
    with pytest.raises(ConfigError, match=r"last.pt: cannot resume: it was trained with lr=0.001.*lr=0.0002"):
        check_resumable(saved, TrainConfig(), source="last.pt")


def test_auto_precision_is_bf16_on_a_bf16_cpu_and_fp32_stays_available(monkeypatch):
    import torch

    from vocalmine.model import device

    cpu = torch.device("cpu")
    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: True)
    assert device.resolve_precision("auto", cpu) == "bf16" and device.autocast_dtype("auto", cpu) == torch.bfloat16
    assert device.autocast_dtype("fp32", cpu) is None
    monkeypatch.setattr(device, "cpu_supports_bf16", lambda: False)
    assert device.resolve_precision("auto", cpu) == "fp32"
    assert device.resolve_precision("auto", torch.device("cuda", 0)) == "bf16"
