"""The U-Net: shapes, mask range, parameter counts, and that a step of the paper's loss learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocalmine.core.constants import N_BINS, PATCH_FRAMES
from vocalmine.core.contract.shards import pairs_of
from vocalmine.model.data import WaveDataset, collate, grid_recipes, read_index, split_rows
from vocalmine.model.objective import batch_spectrograms, masked_l1
from vocalmine.model.unet import UNet

# Encoder: sum of (25·c_in + 1)·c_out weights and biases + 2·c_out batch-norm parameters over
# 1→16→32→64→128→256→512 = 4,368,224. Decoder 512→256→128→64→32→16→1 (no batch norm on the
# last layer): 5,455,089 with skips (inputs doubled after the first layer), 4,366,689 without.
UNET_PARAMETERS = 9_823_313
NOSKIP_PARAMETERS = 8_734_913


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("skips", [True, False])
def test_output_is_a_mask_of_the_input_shape(skips):
    torch.manual_seed(0)
    model = UNet(skips=skips)
    x = torch.rand(2, 1, N_BINS, PATCH_FRAMES) * 3  # even unnormalised inputs give a mask in [0, 1]
    for mode in (model.train, model.eval):
        mode()
        with torch.no_grad():
            mask = model(x)
        assert mask.shape == (2, 1, N_BINS, PATCH_FRAMES)
        assert float(mask.min()) >= 0.0 and float(mask.max()) <= 1.0
        assert float(mask.std()) > 0  # not a constant


def test_parameter_counts_match_the_stated_figures():
    assert count(UNet(skips=True)) == UNET_PARAMETERS
    assert count(UNet(skips=False)) == NOSKIP_PARAMETERS
    channels = [1, 16, 32, 64, 128, 256, 512]
    encoder = sum((25 * c_in + 1) * c_out + 2 * c_out for c_in, c_out in zip(channels, channels[1:]))
    assert encoder == sum(count(layer) for layer in UNet().encoder) == 4_368_224
    assert sum(count(layer) for layer in UNet(skips=True).decoder) == 5_455_089
    assert sum(count(layer) for layer in UNet(skips=False).decoder) == 4_366_689
    assert UNet(skips=False).model_kwargs() == {"skips": False, "in_channels": 1}


@pytest.mark.slow
def test_one_adam_step_lowers_the_loss_on_a_fixed_batch(shards):
    pairs = pairs_of(split_rows(read_index(shards.folder), "train"))
    batch = collate(WaveDataset(shards.folder, pairs).__getitems__(grid_recipes(pairs)[:3]))
    x, y, valid = batch_spectrograms(batch, target="vocals")
    assert int(valid.min()) < PATCH_FRAMES  # the batch holds a padded patch

    torch.manual_seed(0)
    model = UNet().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def loss_with_fixed_dropout() -> torch.Tensor:
        torch.manual_seed(123)  # the same dropout masks each time
        return masked_l1(model(x), x, y, valid)

    loss = loss_with_fixed_dropout()
    loss.backward()
    before = loss.item()
    optimizer.step()
    with torch.no_grad():
        after = loss_with_fixed_dropout()
    assert float(after) < before * 0.99
    assert np.isfinite(float(after))
