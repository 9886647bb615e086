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
        ({"skips": "maybe"}, r"skips='maybe' is not a valid bool"),
        ({"epochs": 2.5}, r"epochs=2.5 must be a int"),
        ({"workers": True}, r"workers=True must be a int"),
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
