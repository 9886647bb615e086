"""Loading separation models: a models folder, a training checkpoint, or an exported model file.

The exported file (``vocalmine export``) holds weights only, in half precision,
for one or both targets, with everything needed to run them: architecture
kwargs, STFT parameters, sample rate, normalisation and provenance. Every file
is read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from vocalmine import __version__
from vocalmine.core.atomic import atomic_path
from vocalmine.core.errors import ConfigError
from vocalmine.model.checkpoint import FORMAT as CHECKPOINT_FORMAT
from vocalmine.core.spec import PAPER, SignalSpec, legacy_stft
from vocalmine.model.checkpoint import NORMALISATION, TARGETS, checkpoint_spec, git_commit, load_checkpoint
from vocalmine.model.unet import UNet
from vocalmine.core.contract.models import BEST_CHECKPOINT, MODEL_SETS, run_folder

MODEL_FORMAT = "vocalmine-model/1"


@dataclass
class LoadedModels:
    """Models by target, and where they came from."""

    models: dict[str, UNet]  # target -> model in eval mode, float32, on the CPU
    source: Path  # the file or folder they were loaded from
    provenance: dict[str, Any] = field(default_factory=dict)  # per target: step, epoch, git commit, ...
    spec: SignalSpec = PAPER  # the signal spec the models were trained at: what separation feeds them


def model_dirs(models_dir: str | os.PathLike, name: str) -> tuple[Path, Path]:
    """(vocals folder, instrumental folder) of model set ``name`` under catalog.models.

    "unet" is models/vocals + models/instrumental, "baseline" models/vocals-noskip +
    models/instrumental-noskip, any other name models/vocals-NAME + models/instrumental-NAME.
    """
    root = Path(models_dir)
    return root / run_folder("vocals", name), root / run_folder("instrumental", name)


def available_model_sets(models_dir: str | os.PathLike) -> list[str]:
    """Names of the model sets under ``models_dir`` whose two best.pt exist (unet, baseline first)."""
    root = Path(models_dir)
    names = list(MODEL_SETS)
    if root.is_dir():
        names += sorted(p.name[len("vocals-") :] for p in root.glob("vocals-*") if p.name != "vocals-noskip")
    return [n for n in names if all((d / BEST_CHECKPOINT).is_file() for d in model_dirs(root, n))]


def checked_checkpoint(path: Path, target: str | None) -> dict[str, Any]:
    """A training checkpoint, checked for format, target, signal spec and normalisation."""
    payload = load_checkpoint(path, expected_target=target)
    if payload.get("normalisation") != NORMALISATION:
        raise ConfigError(f"{path}: normalisation {payload.get('normalisation')!r}, expected {NORMALISATION!r}")
    return payload


def _provenance(payload: dict[str, Any], path: Path) -> dict[str, Any]:
    extra = payload.get("extra") or {}
    record = {"checkpoint": str(path), "step": int(payload.get("step", 0)), "epoch": int(payload.get("epoch", 0)),
              "git_commit": str(payload.get("git_commit", "unknown"))}
    for key in ("best_val_loss", "val_loss"):
        if isinstance(extra.get(key), (int, float)):
            record[key] = float(extra[key])
    return record


def build_model(model_kwargs: dict[str, Any], state_dict: dict[str, torch.Tensor]) -> UNet:
    """A float32 :class:`UNet` in eval mode with ``state_dict`` (any float precision)."""
    model = UNet(**model_kwargs)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()})
    return model.eval()


def load_separator(models_dir: str | os.PathLike, name: str = "unet", *,
                   checkpoint: str = BEST_CHECKPOINT) -> tuple[UNet, UNet]:
    """Load the (vocals, instrumental) models of a model set from training checkpoints.

    Raises:
        ConfigError: when a checkpoint is missing, for another target, or was
            trained with another normalisation or STFT.
    """
    loaded = load_models_dir(models_dir, name, checkpoint=checkpoint)
    return loaded.models["vocals"], loaded.models["instrumental"]


def _one_spec(specs: dict[Path, SignalSpec]) -> SignalSpec:
    """The spec shared by the models of one set; models trained at different specs cannot be combined."""
    distinct = set(specs.values())
    if len(distinct) > 1:
        listed = "; ".join(f"{path}: {spec.describe()}" for path, spec in specs.items())
        raise ConfigError(f"models of one set were trained at different signal specs ({listed})")
    return distinct.pop()


def load_models_dir(models_dir: str | os.PathLike, name: str = "unet", *,
                    checkpoint: str = BEST_CHECKPOINT) -> LoadedModels:
    """Both targets of model set ``name`` under a models folder."""
    models, provenance, specs = {}, {}, {}
    for target, folder in zip(TARGETS, model_dirs(models_dir, name)):
        payload = checked_checkpoint(folder / checkpoint, target)
        models[target] = build_model(payload["model_kwargs"], payload["state_dict"])
        provenance[target] = _provenance(payload, folder / checkpoint)
        specs[folder / checkpoint] = checkpoint_spec(payload)
    return LoadedModels(models, Path(models_dir), provenance, _one_spec(specs))


def _load_file(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError ("invalid header"), EOFError, ...
        first = (str(exc).splitlines() or [""])[0]
        raise ConfigError(f"{path}: not a vocalmine model file (torch.load refused it: {exc.__class__.__name__}: "
                          f"{first})") from exc


def load_model_file(path: str | os.PathLike, *, name: str = "unet") -> LoadedModels:
    """Models from an exported model file, a training checkpoint, or a models folder.

    A checkpoint holds one target; when the other target's checkpoint of the same
    run lies beside it (models/vocals/best.pt and models/instrumental/best.pt) both
    are loaded. ``name`` selects the model set of a models folder.

    Raises:
        ConfigError: missing path, a file that is not a vocalmine model or
            checkpoint, or one made for other STFT parameters.
    """
    path = Path(path)
    if path.is_dir():
        if not all((d / BEST_CHECKPOINT).is_file() for d in model_dirs(path, name)):
            found = available_model_sets(path)
            raise ConfigError(f"{path}: no trained model set {name!r} in this models folder"
                              + (f" (found: {', '.join(found)})" if found
                                 else " (it holds no vocals/ and instrumental/ best.pt)"))
        return load_models_dir(path, name)
    if not path.exists():
        raise ConfigError(f"{path}: no model file or models folder here (train a model, or give an exported file)")
    payload = _load_file(path)
    kind = payload.get("format") if isinstance(payload, dict) else None
    if kind == MODEL_FORMAT:
        return _from_export(path, payload)
    if kind == CHECKPOINT_FORMAT:
        return _from_checkpoint(path, payload)
    raise ConfigError(f"{path}: not a vocalmine model file (expected format {MODEL_FORMAT} or {CHECKPOINT_FORMAT})")


def _from_export(path: Path, payload: dict[str, Any]) -> LoadedModels:
    spec = checkpoint_spec(payload, source=str(path))
    if payload.get("normalisation") != NORMALISATION:
        raise ConfigError(f"{path}: normalisation {payload.get('normalisation')!r}, expected {NORMALISATION!r}")
    targets = payload.get("targets")
    if not isinstance(targets, dict) or not targets or not set(targets) <= set(TARGETS):
        raise ConfigError(f"{path}: model file lists no usable targets (expected some of {TARGETS})")
    models = {}
    for target in TARGETS:
        if target in targets:
            entry = targets[target]
            try:
                models[target] = build_model(entry["model_kwargs"], entry["state_dict"])
            except (KeyError, TypeError, RuntimeError) as exc:
                raise ConfigError(f"{path}: weights of target {target!r} do not fit the model "
                                  f"({exc.__class__.__name__})") from exc
    channels = {m.in_channels for m in models.values()}
    if channels != {spec.channels}:
        raise ConfigError(f"{path}: models take {sorted(channels)} channel(s) but the file's signal spec has "
                          f"{spec.channels}")
    return LoadedModels(models, path, dict(payload.get("provenance") or {}), spec)


def _from_checkpoint(path: Path, payload: dict[str, Any]) -> LoadedModels:
    target = payload.get("target")
    payload = checked_checkpoint(path, target)  # the same checks as training's own loader
    models = {target: build_model(payload["model_kwargs"], payload["state_dict"])}
    provenance = {target: _provenance(payload, path)}
    specs = {path: checkpoint_spec(payload)}
    folder = path.parent
    if folder.name.startswith(target):  # models/vocals-noskip/best.pt -> models/instrumental-noskip/best.pt
        other = next(t for t in TARGETS if t != target)
        sibling = folder.parent / (other + folder.name[len(target) :]) / path.name
        if sibling.is_file():
            second = checked_checkpoint(sibling, other)
            models[other] = build_model(second["model_kwargs"], second["state_dict"])
            provenance[other] = _provenance(second, sibling)
            specs[sibling] = checkpoint_spec(second)
    return LoadedModels({t: models[t] for t in TARGETS if t in models}, path, provenance, _one_spec(specs))


def export_models(loaded: LoadedModels, out: str | os.PathLike, *, targets: Sequence[str] = TARGETS) -> Path:
    """Write a weights-only, half-precision model file of ``targets`` to ``out`` (atomically).

    Raises:
        ConfigError: for a target the loaded models lack.
    """
    missing = [t for t in targets if t not in loaded.models]
    if missing or not targets:
        raise ConfigError(f"{loaded.source}: no model for target(s) {missing or list(targets)} to export")
    payload = {
        "format": MODEL_FORMAT,
        "targets": {
            t: {
                "model_kwargs": loaded.models[t].model_kwargs(),
                "state_dict": {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
                               for k, v in loaded.models[t].state_dict().items()},
            }
            for t in targets
        },
        "spec": loaded.spec.to_dict(),
        "stft": legacy_stft(loaded.spec),  # as model files before specs recorded it
        "sample_rate": loaded.spec.sample_rate,
        "normalisation": NORMALISATION,
        "precision": "float16",
        "provenance": {
            **{t: loaded.provenance.get(t, {}) for t in targets},
            "exported_from": str(loaded.source),
            "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "exporter_git_commit": git_commit(),
            "vocalmine_version": __version__,
        },
    }
    out = Path(out)
    with atomic_path(out) as tmp:
        torch.save(payload, tmp)
    return out
