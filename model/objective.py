"""The training objective and the validation measures, in torch on the training device.

Shapes: patches (b, 2, N_BINS, PATCH_FRAMES) as stored (X, g·Y_i); inputs,
targets and masks (b, 1, N_BINS, PATCH_FRAMES); ``valid`` (b,) frames per
patch that are not padding.
"""

from __future__ import annotations

import torch

from vocalmine.core.errors import ConfigError
from vocalmine.features.shard_format import INSTRUMENTAL_CHANNEL, MIXTURE_CHANNEL
from vocalmine.model.checkpoint import TARGETS
from vocalmine.core.target import vocal_target

# A patch whose target holds less energy than this (normalised magnitudes) has
# nothing to separate; its SDR is undefined, so the proxy skips it.
SILENT_TARGET_ENERGY = 1e-6
EPS = 1e-8


def inputs_and_target(patch: torch.Tensor, *, target: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Model input X and the target magnitude from stored patches, as float32.

    Y_v = max(X − g·Y_i, 0) (the paper's half-wave-rectified difference) for
    "vocals"; g·Y_i for "instrumental".

    Args:
        patch: (b, 2, N_BINS, PATCH_FRAMES) any float dtype.
        target: "vocals" or "instrumental".

    Returns:
        x, y: each (b, 1, N_BINS, PATCH_FRAMES) float32.
    """
    patch = patch.float()
    x = patch[:, MIXTURE_CHANNEL : MIXTURE_CHANNEL + 1]
    instrumental = patch[:, INSTRUMENTAL_CHANNEL : INSTRUMENTAL_CHANNEL + 1]
    if target == "vocals":
        return x, vocal_target(x, instrumental)
    if target == "instrumental":
        return x, instrumental
    raise ConfigError(f"target must be one of {TARGETS}, got {target!r}")


def frame_mask(valid: torch.Tensor, frames: int) -> torch.Tensor:
    """(b, 1, 1, frames) float mask: 1 on real frames, 0 on padding."""
    positions = torch.arange(frames, device=valid.device)
    return (positions[None, :] < valid[:, None]).float()[:, None, None, :]


def l1_sums(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of |mask ⊙ X − Y| over real frames, and the number of summed elements."""
    frames = frame_mask(valid, x.shape[-1])
    error = (torch.abs(mask.float() * x - y) * frames).sum()
    return error, frames.sum() * x.shape[-2]


def masked_l1(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The paper's loss ||mask ⊙ X − Y||₁, averaged over the real (unpadded) elements."""
    error, count = l1_sums(mask, x, y, valid)
    return error / count.clamp_min(1.0)


def sdr_sums(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitude-domain SDR proxy: sum over patches of 10·log10(‖Y‖² / ‖mask⊙X − Y‖²), and their count.

    Computed on real frames only; patches with a (near) silent target are
    skipped. A cheap stand-in for mir_eval's SDR to watch during training, not
    comparable with it in absolute terms.
    """
    frames = frame_mask(valid, x.shape[-1])
    signal = (y.float() ** 2 * frames).sum(dim=(1, 2, 3))
    noise = ((mask.float() * x - y) ** 2 * frames).sum(dim=(1, 2, 3))
    keep = signal > SILENT_TARGET_ENERGY
    sdr = 10 * torch.log10((signal + EPS) / (noise + EPS))
    return (sdr * keep).sum(), keep.sum().float()
