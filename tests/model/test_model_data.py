"""Waveform dataset, crop sampler and loader; batch spectrograms, remixes, targets, padding mask and SDR proxy."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import soxr
import torch

from vocalmine.core.constants import HOP_LENGTH, N_BINS, PATCH_FRAMES
from vocalmine.core.errors import CatalogError, ConfigError
from vocalmine.core.stft import magnitude, stft
from vocalmine.core.contract.shards import open_shard, pairs_of
from vocalmine.model.data import (
    FRONT,
    PATCH_SPAN,
    STRETCH_MARGIN,
    SEGMENT,
    CropSampler,
    WRAP_ACCOMPANIMENT,
    WRAP_BOTH,
    WRAP_NONE,
    RemixConfig,
    WaveDataset,
    collate,
    epoch_recipes,
    grid_recipes,
    make_loader,
    read_index,
    split_rows,
)
from vocalmine.model.objective import batch_spectrograms, masked_l1, sdr_sums
from vocalmine.testing.shards import write_synthetic_shards

NO_REMIX = RemixConfig(remix=False)


@pytest.fixture(scope="module")
def train_pairs(shards):
    return pairs_of(split_rows(read_index(shards.folder), "train"))


@pytest.fixture(scope="module")
def train_set(shards, train_pairs):
    return WaveDataset(shards.folder, train_pairs)


def _pair_wave(shards, pairs, i) -> np.ndarray:
    row = pairs.iloc[i]
    return np.asarray(open_shard(shards.folder, int(row["shard"]))[:, row["offset"] : row["offset"] + row["samples"]], np.float32)


def test_grid_crops_give_the_tracks_own_spectrogram_and_target(shards, train_pairs, train_set):
    # an unremixed grid crop is exactly frames [t0, t0 + 128) of the whole pair's STFT, normalised by its track max
    assert len(train_pairs) == 6 and train_pairs["shard"].nunique() == 3
    recipes = grid_recipes(train_pairs)
    assert len(recipes) == 12
    batch = collate(train_set.__getitems__(recipes[:2]))
    x, y, valid = batch_spectrograms(batch, target="vocals")
    assert x.shape == y.shape == (2, 1, N_BINS, PATCH_FRAMES) and x.dtype == torch.float32
    wave = _pair_wave(shards, train_pairs, 0)
    mix, inst = magnitude(stft(wave[0])), magnitude(stft(wave[1]))
    scale = float(train_pairs["scale"][0])
    assert mix.max() == pytest.approx(scale, rel=1e-3)
    assert list(valid) == [PATCH_FRAMES, mix.shape[1] - PATCH_FRAMES]
    for k, t0 in enumerate((0, PATCH_FRAMES)):
        n = int(valid[k])
        np.testing.assert_allclose(x[k, 0, :, :n].numpy(), mix[:, t0 : t0 + n] / scale, atol=2e-3)
        want_v = np.maximum(mix[:, t0 : t0 + n] - inst[:, t0 : t0 + n], 0) / scale
        np.testing.assert_allclose(y[k, 0, :, :n].numpy(), want_v, atol=2e-3)
        assert np.abs(x[k, 0, :, n + 1 :].numpy()).max(initial=0) < 1e-3  # padding frames are silent
    _, y_i, _ = batch_spectrograms(batch, target="instrumental")
    np.testing.assert_allclose(y_i[0, 0].numpy(), inst[:, :PATCH_FRAMES] / scale, atol=2e-3)
    with pytest.raises(ConfigError, match=r"target must be one of .* got 'drums'"):
        batch_spectrograms(batch, target="drums")


def test_a_remix_is_the_mixture_of_its_parts_and_its_target_their_rectified_difference(shards, train_pairs, train_set):
    # voice of pair 0 at 0.7, the accompaniment of pair 3 read circularly from sample 12345 at 1.3
    recipe = (0, 5000, 3, 12345, 0.7, 1.3, WRAP_ACCOMPANIMENT, 1.0)
    batch = collate(train_set.__getitems__([recipe]))
    x, y, valid = batch_spectrograms(batch, target="vocals")
    voice_pair, acc_pair = _pair_wave(shards, train_pairs, 0), _pair_wave(shards, train_pairs, 3)
    voice = voice_pair[0] - voice_pair[1]
    seg = np.arange(SEGMENT) + 5000 - FRONT
    inside = (seg >= 0) & (seg < voice.shape[0])
    v = np.where(inside, voice[np.clip(seg, 0, voice.shape[0] - 1)], 0)
    a = np.where(inside, acc_pair[1][(seg + 12345 - 5000) % acc_pair.shape[1]], 0)
    mixture = 0.7 * v + 1.3 * a
    from vocalmine.core.stft import torch_stft

    mx = torch_stft(torch.from_numpy(mixture.astype(np.float32)), center=False)[:N_BINS].abs().numpy()
    ma = torch_stft(torch.from_numpy((1.3 * a).astype(np.float32)), center=False)[:N_BINS].abs().numpy()
    scale = x[0, 0].max().item()
    ratio = mx.max() / scale  # the normalisation divides both by the same number
    np.testing.assert_allclose(x[0, 0].numpy() * ratio, mx, atol=2e-3 * mx.max())
    np.testing.assert_allclose(y[0, 0].numpy() * ratio, np.maximum(mx - ma, 0), atol=2e-3 * mx.max())
    assert int(valid[0]) == PATCH_FRAMES
    assert x.max().item() <= 1.0 + 1e-6


def test_epoch_recipes_crop_anywhere_weight_by_length_and_remix_within_the_split():
    samples = np.array([30 * 8192, 5 * 8192, 60 * 8192])
    remix = RemixConfig(remix=True, probability=0.75, other_pair=0.5, gain_db=3.0)
    recipes = epoch_recipes(samples, size=4000, seed=1, epoch=0, remix=remix)
    voice = np.array([r[0] for r in recipes])
    share = np.bincount(voice, minlength=3) / len(recipes)
    np.testing.assert_allclose(share, samples / samples.sum(), atol=0.03)  # weighted by length
    starts = np.array([r[1] for r in recipes])
    mode = np.array([r[6] for r in recipes])
    remixed = mode != WRAP_NONE
    # shorter than a crop: as it lies from 0 (padded), or, remixed, wrapped from anywhere in it
    assert np.all(starts[(voice == 1) & ~remixed] == 0)
    assert np.all(mode[(voice == 1) & remixed] == WRAP_BOTH) and np.all(mode[(voice != 1) & remixed] == WRAP_ACCOMPANIMENT)
    wrapped = starts[(voice == 1) & remixed]
    assert wrapped.max() < samples[1] and len(np.unique(wrapped)) > 0.9 * len(wrapped)
    long = starts[voice == 2]
    assert long.max() <= samples[2] - (PATCH_FRAMES - 1) * HOP_LENGTH and len(np.unique(long % HOP_LENGTH)) > 100
    assert 0.7 < remixed.mean() < 0.8
    partner = np.array([r[2] for r in recipes])
    assert np.all(partner[~remixed] == voice[~remixed]) and np.all(partner < 3)  # only pairs of the given split
    assert 0.4 < np.mean(partner[remixed] != voice[remixed]) < 0.6
    gains = np.array([[r[4], r[5]] for r in recipes])
    assert np.all(gains[~remixed] == 1.0) and np.all(np.abs(20 * np.log10(gains[remixed])) <= 3.0 + 1e-9)
    assert epoch_recipes(samples, size=4000, seed=1, epoch=0, remix=remix) == recipes  # a pure function
    assert epoch_recipes(samples, size=4000, seed=1, epoch=1, remix=remix) != recipes  # new crops each epoch
    plain = epoch_recipes(samples, size=500, seed=1, epoch=0, remix=NO_REMIX)
    assert not any(r[6] for r in plain) and all(r[4] == r[5] == r[7] == 1.0 for r in plain)
    unwrapped = epoch_recipes(samples, size=500, seed=1, epoch=0, remix=RemixConfig(wrap=False))
    assert all(r[6] != WRAP_BOTH for r in unwrapped) and all(r[1] == 0 for r in unwrapped if r[0] == 1)
    assert all(r[7] == 1.0 for r in recipes)  # no pitch change unless asked


def test_pitch_shifted_remixes_stay_within_range_and_inside_their_pair():
    samples = np.array([30 * 8192, 5 * 8192, 60 * 8192])
    recipes = epoch_recipes(samples, size=3000, seed=2, epoch=0, remix=RemixConfig(pitch_semitones=3.0))
    ratio = np.array([r[7] for r in recipes])
    remixed = np.array([r[6] != WRAP_NONE for r in recipes])
    assert np.all(ratio[~remixed] == 1.0)
    semitones = 12 * np.log2(ratio[remixed])
    assert np.abs(semitones).max() <= 3.0 + 1e-9 and np.mean(np.abs(semitones) > 1.0) > 0.5
    for voice, start, *_, mode, r in recipes:  # a stretched read never runs past its pair unless it wraps
        assert r == 1.0 or mode == WRAP_BOTH or start + (SEGMENT - FRONT) * r <= samples[voice]


def test_a_wrapped_remix_of_a_short_pair_has_no_padding(tmp_path):
    clips = write_synthetic_shards(tmp_path, splits={"train": 2, "validation": 1}, seconds=6.0, seed=5)
    pairs = pairs_of(split_rows(read_index(clips.folder), "train"))
    short, n = 0, int(pairs["samples"][0])
    assert n < SEGMENT  # a 6-s clip, shorter than a crop (11.9 s)
    wave, valid = WaveDataset(clips.folder, pairs).example((short, n - 1000, short, 7, 1.0, 1.0, WRAP_BOTH, 1.0))
    pair = _pair_wave(clips, pairs, short)
    columns = (n - 1000 - FRONT + np.arange(SEGMENT)) % n
    np.testing.assert_array_equal(wave[0], pair[0][columns].astype(np.float16))
    np.testing.assert_array_equal(wave[2], pair[1][(7 - FRONT + np.arange(SEGMENT)) % n].astype(np.float16))
    assert valid == PATCH_FRAMES and np.abs(wave[0, -SEGMENT // 4 :]).max() > 0


def test_a_pitch_shifted_voice_is_the_pairs_voice_resampled(shards, train_pairs, train_set):
    longest = int(np.argmax(train_pairs["samples"]))
    start, ratio = 3000, 1.25
    wave, valid = train_set.example((longest, start, longest, start, 1.0, 1.0, WRAP_BOTH, ratio))
    pair = _pair_wave(shards, train_pairs, longest)
    voice = pair[0] - pair[1]
    # column c of the crop holds the voice at start + (c - FRONT) * ratio (to half a sample), resampled by 1 / ratio
    lo = int(np.floor(start - FRONT * ratio)) - STRETCH_MARGIN
    resampled = soxr.resample(voice[lo : lo + int(SEGMENT * ratio) + 2 * STRETCH_MARGIN], 8192 * ratio, 8192)
    first = int(round((start - FRONT * ratio - lo) / ratio))
    want = resampled[first : first + SEGMENT]
    got = wave[0].astype(np.float32) - wave[1].astype(np.float32)
    inner = slice(256, SEGMENT - 256)
    err = got[inner] - want[inner]
    assert 10 * np.log10(np.sum(want[inner] ** 2) / np.sum(err**2)) > 30  # both rows resampled alike: float16 storage only
    assert valid == PATCH_FRAMES
    plain, _ = train_set.example((longest, start, longest, start, 1.0, 1.0, WRAP_BOTH, 1.0))
    unshifted = (plain[0] - plain[1]).astype(np.float32)[inner]
    assert 10 * np.log10(np.sum(unshifted**2) / np.sum((got[inner] - unshifted) ** 2)) < 3  # another voice


def test_sampler_resumes_mid_epoch_and_splits_ranks(train_pairs):
    sampler = CropSampler(train_pairs["samples"].to_numpy(), size=20, seed=0, remix=RemixConfig())
    sampler.set_position(0)
    epoch0 = list(sampler)
    assert len(epoch0) == 20
    sampler.set_position(1)
    assert list(sampler) != epoch0
    sampler.set_position(0, start=5)
    assert list(sampler) == epoch0[5:] and len(sampler) == 15
    ranks = [CropSampler(train_pairs["samples"].to_numpy(), size=20, seed=0, remix=RemixConfig(), rank=r, world_size=2)
             for r in (0, 1)]
    assert sorted(list(ranks[0]) + list(ranks[1])) == sorted(epoch0)


def test_workers_open_their_own_memmaps_and_yield_the_same_batches(train_set, train_pairs):
    train_set.__getitems__(grid_recipes(train_pairs)[:1])
    assert train_set._shards and not pickle.loads(pickle.dumps(train_set))._shards
    batches = []
    for workers in (0, 1):
        sampler = CropSampler(train_pairs["samples"].to_numpy(), size=12, seed=4, remix=RemixConfig())
        sampler.set_position(0)
        loader = make_loader(train_set, batch_size=5, sampler=sampler, workers=workers)
        batches.append([b["wave"] for b in loader])
    assert [b.shape[0] for b in batches[0]] == [5, 5, 2]
    for a, b in zip(*batches):
        assert a.dtype == torch.float16 and a.shape[1:] == (3, SEGMENT) and torch.equal(a, b)


def test_loader_leaves_the_global_rng_alone(train_set, train_pairs):
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    sampler = CropSampler(train_pairs["samples"].to_numpy(), size=8, seed=0, remix=RemixConfig())
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


def test_grid_recipes_step_by_one_patch(train_pairs):
    recipes = grid_recipes(train_pairs)
    assert [r[1] for r in recipes[:2]] == [0, PATCH_SPAN]
    assert all(r[0] == r[2] and r[1] == r[3] and r[6] == WRAP_NONE and r[7] == 1.0 for r in recipes)


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
