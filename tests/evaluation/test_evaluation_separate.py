"""Whole-track separation: streamed STFT, cross-fade without seams, files in any format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from vocalmine.commands.context import Context
from vocalmine.commands.separate import separate_command
from vocalmine.core.audio import load_audio
from vocalmine.core.catalog import catalog_for_corpus
from vocalmine.core.constants import N_BINS, PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.errors import ConfigError
from vocalmine.core.stft import istft, n_frames, stft, stft_frames
from vocalmine.model import inference, loading, windowing
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.unet import UNet

RNG = np.random.default_rng(0)


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)


def _save_models(models_dir: Path, suffix: str = "", skips: bool = True) -> None:
    torch.manual_seed(0)
    for target in ("vocals", "instrumental"):
        payload = make_payload(model=UNet(skips=skips), target=target, config={}, step=0, epoch=0)
        save_checkpoint(models_dir / f"{target}{suffix}" / "best.pt", payload)


def _pointwise(windows: np.ndarray) -> np.ndarray:
    return np.stack([windows / (windows + 0.05), 0.05 / (windows + 0.05)])


@pytest.mark.parametrize("n", [1, 767, 8192 * 3 + 17, 8192 * 25 + 333])
def test_streamed_stft_frames_equal_the_full_stft(n):
    y = _noise(n / SAMPLE_RATE + 1e-9, seed=n)[:n] if n > 1 else np.array([0.3], dtype=np.float32)
    full = stft(y)
    total = n_frames(n)
    start = min(3, total - 1)
    np.testing.assert_allclose(stft_frames(y, start, total), full[:, start:], atol=1e-5)


@pytest.mark.parametrize("block_windows,window_hop", [(1, 64), (2, 64), (32, 64), (3, 96), (2, 128)])
def test_windowed_masks_equal_one_mask_on_the_whole_spectrogram(block_windows, window_hop):
    # a pointwise mask gives the same value in every window covering a frame, so
    # overlap, cross-fade, blocks and the streamed iSTFT must reproduce the
    # whole-spectrogram result exactly: no seams, no lost or doubled frames
    y = _noise(27.3, seed=1)
    out = windowing.separate_with_masks(y, _pointwise, n_sources=2, block_windows=block_windows, window_hop=window_hop)
    spec = stft(y)[:N_BINS]
    mag = np.abs(spec) / np.abs(spec).max()
    expected = istft(_pointwise(mag[None])[0, 0] * spec, y.shape[0])
    assert out.shape == (2, y.shape[0])
    np.testing.assert_allclose(out[0], expected, atol=2e-6)
    np.testing.assert_allclose(out[0] + out[1], istft(spec, y.shape[0]), atol=2e-6)


def test_crossfade_leaves_no_seam_between_windows():
    # each window gets one constant mask, alternating 0.2 / 0.8: a hard cut would
    # jump by 0.6 at every window join, the cross-fade ramps between them
    y = _noise(60.0, seed=2)
    calls = []

    def alternating(windows):
        values = [(0.2 if (len(calls) + k) % 2 == 0 else 0.8) for k in range(windows.shape[0])]
        calls.extend(values)
        return np.stack([np.ones_like(windows) * np.array(values)[:, None, None]])

    out = windowing.separate_with_masks(y, alternating, n_sources=1, block_windows=3)[0]
    hop = 768
    frames = len(y) // hop
    gain = np.array([np.sqrt(np.mean(out[k * hop : (k + 1) * hop] ** 2) / np.mean(y[k * hop : (k + 1) * hop] ** 2)) for k in range(frames)])
    inner = gain[2:-2]
    assert len(calls) >= 8
    assert inner.max() - inner.min() > 0.4  # the mask really varies
    assert np.abs(np.diff(inner)).max() < 0.05  # but smoothly


def test_crossfade_weights_sum_to_one_where_windows_overlap():
    for hop in (64, 96):
        w = windowing.crossfade_weights(PATCH_FRAMES, hop)
        assert w.min() > 0
        total = np.zeros(PATCH_FRAMES + 3 * hop)
        for k in range(4):
            total[k * hop : k * hop + PATCH_FRAMES] += w
        np.testing.assert_allclose(total[PATCH_FRAMES - hop : 3 * hop], 1.0, atol=1e-6)
    with pytest.raises(ConfigError, match="window_hop must be in"):
        windowing.separate_with_masks(_noise(1.0), _pointwise, n_sources=2, window_hop=0)


def test_long_tracks_are_processed_in_bounded_blocks():
    y = _noise(400.0, seed=3)  # ~4270 frames, 66 windows
    sizes = []

    def spy(windows):
        sizes.append(windows.shape[0])
        return np.stack([np.full_like(windows, 0.5)])

    out = windowing.separate_with_masks(y, spy, n_sources=1, block_windows=8)
    assert max(sizes) <= 8 and len(sizes) >= 8
    n_windows, _ = windowing.window_layout(n_frames(y.shape[0]))
    assert sum(sizes) == n_windows
    assert out.shape == (1, y.shape[0])


@pytest.mark.slow
def test_separate_track_with_unet_gives_masked_mixture_of_input_length():
    torch.manual_seed(0)
    y = _noise(1.7, seed=4)
    vocals, instrumental = inference.separate_track(y, vocals_model=UNet(), instrumental_model=UNet(skips=False), batch_size=2)
    assert vocals.shape == instrumental.shape == y.shape
    assert np.all(np.isfinite(vocals)) and 0 < np.abs(vocals).max() < np.abs(y).max() * 2
    assert not np.allclose(vocals, instrumental)
    silent = inference.separate_track(np.zeros(3000, np.float32), vocals_model=UNet(), instrumental_model=UNet())
    assert all(np.all(s == 0) for s in silent)


def _catalog(tmp_path: Path) -> Path:
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, tmp_path / "corpus", tmp_path / "work"), encoding="utf-8")
    return yaml_file


def _inputs(tmp_path: Path) -> list[tuple[Path, int, int]]:
    """(path, rate, frames): WAV 44.1 kHz stereo, FLAC 22.05 kHz mono, MP3 48 kHz, odd lengths."""
    specs = [("a.wav", 44100, 2, 1.3037), ("b.flac", 22050, 1, 0.7011), ("c.mp3", 48000, 1, 1.1003)]
    out = []
    for name, rate, channels, seconds in specs:
        n = int(seconds * rate)
        data = 0.2 * np.random.default_rng(rate).standard_normal((n, channels))
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        sf.write(path, data, rate, format=path.suffix[1:].upper())
        out.append((path, rate, sf.info(path).frames))
    return out


@pytest.mark.slow
def test_separate_files_of_any_format_keep_their_length(tmp_path):
    _save_models(tmp_path / "models")
    inputs = _inputs(tmp_path)
    results = inference.separate_files(
        paths=[p for p, _, _ in inputs], out_dir=tmp_path / "out", models_dir=tmp_path / "models", device="cpu"
    )
    for (path, _, _), r in zip(inputs, results):
        expected = load_audio(path).shape[0]
        for out in (r.vocals, r.instrumental):
            data, rate = sf.read(out)
            assert rate == SAMPLE_RATE and data.shape == (expected,), (path, data.shape, expected)
        assert r.vocals.name == f"{path.stem}.vocals.wav"


@pytest.mark.slow
def test_cli_separate_at_the_original_rate(tmp_path):
    yaml_file = _catalog(tmp_path)
    _save_models(tmp_path / "work" / "models", suffix="-noskip", skips=False)
    inputs = _inputs(tmp_path)
    result = CliRunner().invoke(
        separate_command,
        [str(p) for p, _, _ in inputs] + ["--sample-rate", "original", "--models", "baseline", "--device", "cpu"],
        obj=Context(yaml_file, 0),
    )
    assert result.exit_code == 0, result.output
    for path, rate, frames in inputs:
        data, out_rate = sf.read(tmp_path / "work" / "separated" / f"{path.stem}.instrumental.wav")
        channels = sf.info(path).channels
        assert out_rate == rate and data.shape == ((frames, channels) if channels > 1 else (frames,))
        assert sf.info(tmp_path / "work" / "separated" / f"{path.stem}.instrumental.wav").subtype == "PCM_16"


def test_missing_model_set_is_a_config_error(tmp_path):
    _save_models(tmp_path / "models")
    with pytest.raises(ConfigError, match=r"vocals-noskip.*checkpoint not found"):
        loading.load_separator(tmp_path / "models", "baseline")
    assert loading.available_model_sets(tmp_path / "models") == ["unet"]
    with pytest.raises(ConfigError, match="checkpoint not found"):
        loading.load_separator(tmp_path / "nowhere", "unet")
