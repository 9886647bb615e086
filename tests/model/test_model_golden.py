"""Golden values: one U-Net forward pass on a fixed seed must not drift."""

from __future__ import annotations

import pytest
import torch

from vocalmine.core.constants import N_BINS, PATCH_FRAMES
from vocalmine.model.unet import UNet

# mean, mask[100, 60], mask[3, 5], std of the eval-mode mask: torch.manual_seed(0) weights,
# input torch.rand(1, 1, 512, 128) from a Generator seeded 1 (torch 2.13.0 CPU, fp32)
GOLDEN_FORWARD = (0.46491748, 0.40125936, 0.48963615, 0.06080005)


def test_unet_forward_pass_matches_golden_values():
    torch.manual_seed(0)
    model = UNet(skips=True).eval()
    x = torch.rand(1, 1, N_BINS, PATCH_FRAMES, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mask = model(x)[0, 0]
    got = (mask.mean().item(), mask[100, 60].item(), mask[3, 5].item(), mask.std().item())
    assert got == pytest.approx(GOLDEN_FORWARD, rel=1e-4, abs=1e-6)
