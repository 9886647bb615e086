"""Self-describing checkpoints, written atomically and loaded with weights_only=True.

A checkpoint is a dict of plain types and tensors only, so that
``torch.load(weights_only=True)`` accepts it and a tampered pickle is refused.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path
from typing import Any

import torch

from vocalmine.core.atomic import atomic_path
from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, SignalSpec, legacy_stft, spec_of_model_record
from vocalmine.model.unet import UNet

FORMAT = "vocalmine-checkpoint/1"
TARGETS = ("vocals", "instrumental")
NORMALISATION = "track_max"  # inputs are |X| / max over the whole track of |X|


def checkpoint_spec(payload: dict[str, Any], *, source: str = "checkpoint") -> SignalSpec:
    """The signal spec a checkpoint or model file was trained at (the paper's for files that predate specs)."""
    return spec_of_model_record(payload, source=source)


@functools.lru_cache(maxsize=1)
def git_commit() -> str:
    """The current git commit of the source tree, or "unknown"."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (see :func:`make_payload`) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def make_payload(
    *,
    model: UNet,
    target: str,
    config: dict[str, Any],
    step: int,
    epoch: int,
    optimizer: dict | None = None,
    scaler: dict | None = None,
    extra: dict[str, Any] | None = None,
    spec: SignalSpec = PAPER,
) -> dict[str, Any]:
    """The checkpoint dict: weights plus everything needed to rebuild, run and resume, the signal spec among it."""
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {TARGETS}, got {target!r}")
    module = model.module if hasattr(model, "module") else model
    return {
        "format": FORMAT,
        "target": target,
        "model_kwargs": module.model_kwargs(),
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "config": config,
        "spec": spec.to_dict(),
        "stft": legacy_stft(spec),  # as checkpoints before specs recorded it
        "normalisation": NORMALISATION,
        "git_commit": git_commit(),
        "step": int(step),
        "epoch": int(epoch),
        "optimizer": optimizer,
        "scaler": scaler,
        "extra": extra or {},
    }


def load_checkpoint(path: str | os.PathLike, *, expected_target: str | None = None) -> dict[str, Any]:
    """Load and check a checkpoint with ``torch.load(weights_only=True)``.

    Raises:
        ConfigError: when the file is missing, not a vocalmine checkpoint (or a
            tampered pickle), for another target, or with a malformed signal spec.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checkpoint not found (train the model first)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        first = (str(exc).splitlines() or [""])[0]
        raise ConfigError(f"{path}: refused to load checkpoint ({exc.__class__.__name__}: {first})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a vocalmine checkpoint (expected format {FORMAT})")
    if expected_target is not None and payload["target"] != expected_target:
        raise ConfigError(f"{path}: checkpoint is for target {payload['target']!r}, expected {expected_target!r}")
    spec = checkpoint_spec(payload, source=str(path))
    channels = payload.get("model_kwargs", {}).get("in_channels", 1)
    if channels != spec.channels:
        raise ConfigError(f"{path}: model takes {channels} channel(s) but its signal spec has {spec.channels}")
    return payload


def build_model(payload: dict[str, Any]) -> UNet:
    """A :class:`UNet` with the checkpoint's weights, in eval mode, on the CPU."""
    model = UNet(**payload["model_kwargs"])
    model.load_state_dict(payload["state_dict"])
    return model.eval()
