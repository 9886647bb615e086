"""--set KEY=VALUE parsing and coercion into frozen config dataclasses: one home for every stage."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from vocalmine.core.errors import ConfigError
from vocalmine.core.overrides import apply_overrides, parse_key_values


@dataclass(frozen=True)
class _Config:
    rate: float = 1e-3
    steps: int = 10
    name: str = "a"
    flag: bool = False
    split: tuple[float, float] = (0.5, 0.5)


def test_key_values_are_parsed_with_dashes_as_underscores():
    assert parse_key_values(["max-offset-s=3", " seed = 7 "]) == {"max_offset_s": "3", "seed": "7"}
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_key_values(["novalue"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_key_values(["=3"])


def test_values_are_coerced_to_each_field_type():
    config = apply_overrides(_Config(), {"rate": "2e-4", "steps": "30", "name": "b", "flag": "yes", "split": "0.2,0.8"}, section="t")
    assert config == _Config(rate=2e-4, steps=30, name="b", flag=True, split=(0.2, 0.8))
    assert apply_overrides(_Config(), {"steps": 4.0, "rate": 1, "flag": None}, section="t") == _Config(rate=1.0, steps=4)


@pytest.mark.parametrize("key, value, message", [
    ("steps", "2.5", "steps='2.5', expected int"),
    ("steps", True, "expected int"),
    ("rate", "fast", "expected float"),
    ("flag", "maybe", "expected true or false"),
    ("split", "1,2,3", "expected 2 comma-separated"),
])
def test_wrong_values_name_the_key_and_the_expected_type(key, value, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(_Config(), {key: value}, section="t")


def test_every_unknown_key_is_named_in_one_message():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) 'bogus', 'other'"):
        apply_overrides(_Config(), {"bogus": 1, "other": 2, "steps": 3}, section="t")


@pytest.mark.slow
def test_a_local_cluster_never_starts_more_workers_than_tasks_and_says_so(caplog):
    from vocalmine.core.dask_client import dask_client

    with caplog.at_level(logging.INFO, logger="vocalmine.core.dask_client"):
        with dask_client(scheduler=None, workers=2, tasks=1, stage="test") as client:
            assert len(client.scheduler_info()["workers"]) == 1
            assert client.submit(sum, [1, 2, 3]).result() == 6
    assert "LocalCluster of 1 workers (asked for 2; only 1 tasks)" in caplog.text
