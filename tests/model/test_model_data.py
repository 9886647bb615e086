"""Shard dataset, loader and sampler; the objective's targets, padding mask and SDR proxy."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import torch

from vocalmine.core.constants import PATCH_FRAMES
from vocalmine.core.errors import CatalogError, ConfigError
from vocalmine.features.shard_format import open_shard, vocal_target
from vocalmine.model.data import ResumableSampler, ShardDataset, make_loader, read_index, split_rows
from vocalmine.model.objective import inputs_and_target, masked_l1, sdr_sums


@pytest.fixture(scope="module")
def train_set(shards):
    return ShardDataset(shards.folder, split_rows(read_index(shards.folder), "train"))


def test_items_and_batches_are_the_stored_patches(shards, train_set):
    rows = split_rows(read_index(shards.folder), "train")
    assert len(train_set) == 12 and rows["shard"].nunique() >= 4
    for i in (0, 5, 11):
        stored = open_shard(shards.folder, int(rows["shard"][i]))[int(rows["row"][i])]
        np.testing.assert_array_equal(train_set[i]["patch"], stored)
        assert train_set[i]["valid"] == rows["valid_frames"][i]
    picked = [11, 0, 7, 3]  # unsorted and across shards
    batch = train_set.__getitems__(picked)
    np.testing.assert_array_equal(batch["patch"], np.stack([train_set[i]["patch"] for i in picked]))
    np.testing.assert_array_equal(batch["valid"], [train_set[i]["valid"] for i in picked])
    assert set(batch["valid"]) == {PATCH_FRAMES, 87}  # full patches and padded song ends


def test_sampler_shuffles_across_shards_per_epoch_and_resumes_mid_epoch(train_set):
    sampler = ResumableSampler(len(train_set), seed=0, shuffle=True)
    sampler.set_position(0)
    epoch0 = list(sampler)
    assert sorted(epoch0) == list(range(12)) and epoch0 != sorted(epoch0)
    assert len(set(train_set.shard[epoch0[:4]])) > 1  # a batch mixes shards
    sampler.set_position(1)
    assert list(sampler) != epoch0
    sampler.set_position(0, start=5)
    assert list(sampler) == epoch0[5:] and len(sampler) == 7
    ranks = [ResumableSampler(len(train_set), seed=0, shuffle=True, rank=r, world_size=2) for r in (0, 1)]
    assert sorted(list(ranks[0]) + list(ranks[1])) == list(range(12))


def test_workers_open_their_own_memmaps_and_yield_the_same_batches(train_set):
    train_set[0]
    assert train_set._shards and not pickle.loads(pickle.dumps(train_set))._shards
    batches = []
    for workers in (0, 1):
        sampler = ResumableSampler(len(train_set), seed=4, shuffle=True)
        sampler.set_position(0)
        loader = make_loader(train_set, batch_size=5, sampler=sampler, workers=workers)
        batches.append([b["patch"] for b in loader])
    assert [b.shape[0] for b in batches[0]] == [5, 5, 2]
    for a, b in zip(*batches):
        assert a.dtype == torch.float16 and torch.equal(a, b)


def test_loader_leaves_the_global_rng_alone(train_set):
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    sampler = ResumableSampler(len(train_set), seed=0, shuffle=True)
    list(make_loader(train_set, batch_size=4, sampler=sampler, workers=0))
    assert torch.equal(torch.rand(1), expected)


def test_index_problems_are_reported(shards, tmp_path):
    folder = tmp_path / "shards"
    shutil.copytree(shards.folder, folder)
    (folder / "shard-00002.npy").unlink()
    with pytest.raises(ConfigError, match=r"shard-00002.npy: listed in index.parquet but missing"):
        read_index(folder)
    with pytest.raises(CatalogError, match=r"index.parquet: not found"):
        read_index(tmp_path)


def test_targets_follow_the_shard_format(train_set):
    patch = torch.from_numpy(train_set.__getitems__([0, 1])["patch"])
    x, y_v = inputs_and_target(patch, target="vocals")
    _, y_i = inputs_and_target(patch, target="instrumental")
    np.testing.assert_array_equal(y_v[:, 0].numpy(), vocal_target(patch.float().numpy()))  # in float32, not float16
    torch.testing.assert_close(y_i[:, 0], patch[:, 1].float())
    assert x.dtype == torch.float32 and x.shape == (2, 1, 512, PATCH_FRAMES)
    with pytest.raises(ConfigError, match=r"target must be one of .* got 'drums'"):
        inputs_and_target(patch, target="drums")


def test_loss_ignores_padding_frames_and_is_the_mean_over_real_ones():
    gen = torch.Generator().manual_seed(0)
    x, y, mask = (torch.rand(2, 1, 512, PATCH_FRAMES, generator=gen) for _ in range(3))
    valid = torch.tensor([PATCH_FRAMES, 40])
    expected = torch.cat([(mask * x - y)[0].abs().flatten(), (mask * x - y)[1, :, :, :40].abs().flatten()]).mean()
    torch.testing.assert_close(masked_l1(mask, x, y, valid), expected)
    y2 = y.clone()
    y2[1, :, :, 40:] = 100.0  # garbage in the padding changes nothing
    torch.testing.assert_close(masked_l1(mask, x, y2, valid), expected)


def test_sdr_proxy_rewards_better_masks_and_skips_silent_targets():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(3, 1, 512, PATCH_FRAMES, generator=gen) + 0.1
    y = x * torch.rand(x.shape, generator=gen)
    y[2] = 0.0  # a patch without vocals: no SDR
    valid = torch.full((3,), PATCH_FRAMES)
    ideal, n = sdr_sums(y / x, x, y, valid)
    identity, _ = sdr_sums(torch.ones_like(x), x, y, valid)
    assert float(n) == 2
    assert float(ideal) / 2 > 60 and float(identity) / 2 < float(ideal) / 2
    # hand computation for the identity mask
    per_patch = [10 * np.log10(float((y[i] ** 2).sum()) / float(((x[i] - y[i]) ** 2).sum())) for i in (0, 1)]
    assert float(identity) == pytest.approx(sum(per_patch), rel=1e-4)
