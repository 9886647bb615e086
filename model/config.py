"""The trainer's configuration: one frozen dataclass, validated, unknown keys rejected."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

from vocalmine.core.errors import ConfigError
from vocalmine.core.overrides import coerce

PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Fields that define the experiment: a resumed run must keep them, or it is another run.
RESUME_FIXED = ("skips", "lr", "batch_size", "seed", "precision", "schedule", "remix", "epoch_patches", "ema_decay")
SCHEDULES = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and run settings of one training run (paper: Adam, L1 loss)."""

    lr: float = 2e-4  # Adam learning rate (peak of the schedule)
    # constant | cosine (decay to 0 over steps, or over minutes when only a time budget is set)
    schedule: str = "constant"
    batch_size: int = 16  # patches per optimizer step on each process (DDP: per rank)
    epochs: int = 40  # maximum passes over the training split
    steps: int = 0  # maximum optimizer steps in total; 0 = no limit (epochs decide)
    minutes: float = 0.0  # training time budget in minutes, summed over resumes; 0 = none (validation time excluded)
    # horizon of a time-based cosine schedule; 0 = ``minutes`` (a staged run sets its final budget)
    schedule_minutes: float = 0.0
    # random crops per epoch (an epoch ends with a validation); 0 = the train split's grid patches
    epoch_patches: int = 0
    remix: bool = True  # exact remix augmentation of training crops (time-domain mixtures of voice and accompaniment)
    remix_probability: float = 0.75  # share of training crops that are remixed (the others are the mined mixture)
    # share of remixes whose accompaniment comes from another train pair (else the same pair, shifted)
    remix_other_pair: float = 0.5
    remix_gain_db: float = 3.0  # voice and accompaniment gains are drawn uniformly in ± this, dB
    remix_wrap: bool = True  # a remixed crop of a pair shorter than a crop reads the pair circularly: no padding
    # remixed voices are resampled by up to ± this (pitch, tempo and formants); 0 = off
    remix_pitch_semitones: float = 0.0
    # validation and best.pt use an exponential moving average of the weights with this decay per step
    # (warmed up: min(decay, (1 + n) / (10 + n)) at step n); 0 = off, the weights as trained
    ema_decay: float = 0.0
    seed: int = 0  # seeds weights, data order and dropout: same seed, same run
    skips: bool = True  # U-Net skip connections; False = the paper's encoder-decoder baseline
    patience: int = 5  # early stopping: epochs without a validation improvement before stopping
    min_delta: float = 0.0  # smallest validation-loss decrease that counts as an improvement
    workers: int = 2  # DataLoader worker processes (0 = load in the training process)
    threads: int = 0  # CPU threads for torch on CPU; 0 = usable cores minus loader workers
    log_every: int = 20  # steps between train-loss rows in metrics.csv / TensorBoard
    checkpoint_every: int = 200  # steps between last.pt saves inside an epoch (also saved each epoch)
    max_val_patches: int = 0  # validation patches per evaluation (fixed random subset); 0 = all
    # auto (bf16 on CUDA and on a bf16-capable CPU, else fp32) | fp32 | bf16 | fp16 (with a GradScaler)
    precision: str = "auto"
    channels_last: bool = True  # channels_last memory format on CUDA, and on CPU under bf16
    compile: bool = False  # torch.compile the model (needs a C++ toolchain; CUDA mostly)

    def __post_init__(self) -> None:
        for key, expected in _field_types().items():  # an int where a float is expected: make it a float
            value = getattr(self, key)
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, key, float(value))
        _validate(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        """A config from a mapping (YAML, a checkpoint), rejecting unknown keys.

        Raises:
            ConfigError: on an unknown key or an invalid value.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"train config must be a mapping, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"train config: unknown key(s) {unknown}; expected some of {sorted(names)}")
        return cls(**{key: _coerce(key, value) for key, value in data.items()})

    def replace(self, **overrides: Any) -> "TrainConfig":
        """A copy with ``overrides`` applied (validated; None values are ignored)."""
        merged = {**self.to_dict(), **{k: v for k, v in overrides.items() if v is not None}}
        return TrainConfig.from_dict(merged)

    def to_dict(self) -> dict[str, Any]:
        """Plain types only, so a checkpoint holding it loads with weights_only=True."""
        return dataclasses.asdict(self)


def _field_types() -> dict[str, type]:
    defaults = TrainConfig.__dataclass_fields__
    return {name: type(field.default) for name, field in defaults.items()}


def _coerce(key: str, value: Any) -> Any:
    """Accept CLI strings ("1e-3", "true") and ints for floats; reject anything else (see vocalmine.core.overrides)."""
    return coerce("train config", key, value, TrainConfig.__dataclass_fields__[key].default)


def _validate(config: TrainConfig) -> None:
    for key, expected in _field_types().items():
        value = getattr(config, key)
        bad_type = not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        if bad_type and not (expected is float and isinstance(value, int) and not isinstance(value, bool)):
            raise ConfigError(f"train config: {key}={value!r} must be a {expected.__name__}")
    positive = {"batch_size": config.batch_size, "epochs": config.epochs, "log_every": config.log_every,
                "checkpoint_every": config.checkpoint_every, "patience": config.patience}
    for key, value in positive.items():
        if value < 1:
            raise ConfigError(f"train config: {key}={value} must be >= 1")
    for key in ("steps", "workers", "threads", "max_val_patches", "seed"):
        if getattr(config, key) < 0:
            raise ConfigError(f"train config: {key}={getattr(config, key)} must be >= 0")
    if not (math.isfinite(config.lr) and 0 < config.lr < 1):
        raise ConfigError(f"train config: lr={config.lr} must be in (0, 1)")
    if not (math.isfinite(config.ema_decay) and 0 <= config.ema_decay < 1):
        raise ConfigError(f"train config: ema_decay={config.ema_decay} must be in [0, 1)")
    if not (math.isfinite(config.min_delta) and config.min_delta >= 0):
        raise ConfigError(f"train config: min_delta={config.min_delta} must be >= 0")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"train config: schedule={config.schedule!r} must be one of {SCHEDULES}")
    for key in ("minutes", "schedule_minutes", "remix_gain_db", "remix_pitch_semitones"):
        if not (math.isfinite(getattr(config, key)) and getattr(config, key) >= 0):
            raise ConfigError(f"train config: {key}={getattr(config, key)} must be >= 0")
    for key in ("remix_probability", "remix_other_pair"):
        if not 0 <= getattr(config, key) <= 1:
            raise ConfigError(f"train config: {key}={getattr(config, key)} must be in [0, 1]")
    if config.epoch_patches < 0:
        raise ConfigError(f"train config: epoch_patches={config.epoch_patches} must be >= 0")
    if config.precision not in PRECISIONS:
        raise ConfigError(f"train config: precision={config.precision!r} must be one of {PRECISIONS}")


def check_resumable(saved: Mapping[str, Any], config: TrainConfig, *, source: str) -> None:
    """Refuse to resume a checkpoint whose experiment-defining fields differ from ``config``.

    Raises:
        ConfigError: naming the first differing field, its saved and its new value.
    """
    for key in RESUME_FIXED:
        if key in saved and saved[key] != getattr(config, key):
            raise ConfigError(
                f"{source}: cannot resume: it was trained with {key}={saved[key]!r}, this run asks for "
                f"{key}={getattr(config, key)!r} (drop the override, or train afresh without --resume)"
            )
