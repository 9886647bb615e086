"""Full-band native-rate separation, ratio masks, the exported model file, the Separator API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from vocalmine.core.constants import N_BINS, SAMPLE_RATE
from vocalmine.core.errors import AudioError, ConfigError
from vocalmine.core.stft import n_frames
from vocalmine.evaluation.clips import high_band_snr
from vocalmine.model.checkpoint import make_payload, save_checkpoint
from vocalmine.model.fullband import MaskOptions, apply_native, combine_masks, native_stft_params
from vocalmine.model.device import resolve_device
from vocalmine.model.loading import LoadedModels, export_models, load_model_file
from vocalmine.core.audio import read_audio
from vocalmine.model.output import check_free, output_names
from vocalmine.model.separator import Separator
from vocalmine.model.unet import UNet


def _tones(freqs, seconds: float, sr: int, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in freqs)
    return np.stack([y * (1 + 0.1 * c) for c in range(channels)]).astype(np.float32)


def _band_energy(y: np.ndarray, sr: int, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(y, axis=-1)) ** 2
    f = np.fft.rfftfreq(y.shape[-1], 1 / sr)
    return float(spec[..., (f >= lo) & (f < hi)].sum())


def _model_frames(n_native: int, sr: int) -> int:
    return n_frames(int(np.ceil(n_native * SAMPLE_RATE / sr)))


def test_native_stft_keeps_the_models_hop_with_half_overlapping_fast_windows():
    assert native_stft_params(8192) == (1536, 768)
    n_fft, hop = native_stft_params(44100)
    assert (n_fft, hop) == (8640, 4134)  # 2 * 4320, 4320 = 2^5 * 3^3 * 5
    for sr in (11025, 16000, 22050, 32000, 44100, 48000, 96000):
        n_fft, hop = native_stft_params(sr)
        assert abs(hop / sr - 768 / 8192) < 1e-4  # the model's time step
        assert n_fft % 2 == 0 and 2 * hop <= n_fft < 2.1 * hop  # at least 50% overlap, barely more
        rest = n_fft
        for p in (2, 3, 5):
            while rest % p == 0:
                rest //= p
        assert rest == 1, (sr, n_fft)


@pytest.mark.parametrize("sr, channels, n", [(44100, 2, 44100 * 3 + 17), (48000, 1, 48000 * 2 + 1), (8192, 2, 8192 * 4 + 5)])
def test_a_mask_of_ones_returns_every_channel_exactly(sr, channels, n):
    x = (0.1 * np.random.default_rng(sr).standard_normal((channels, n))).astype(np.float32)
    masks = np.ones((1, N_BINS, _model_frames(n, sr)), dtype=np.float32)
    out = apply_native(x, masks, sample_rate=sr, extension="top")
    assert out.shape == (1, channels, n)
    np.testing.assert_allclose(out[0], x, atol=1e-5)


def test_the_mask_lands_on_the_right_frequencies_and_extends_above_4_khz():
    sr = 44100
    x = _tones((500.0, 3000.0, 9000.0), 3.0, sr)
    masks = np.zeros((1, N_BINS, _model_frames(x.shape[1], sr)), dtype=np.float32)
    masks[:, : 2000 // 8] = 1.0  # pass below 2 kHz
    masks[:, -16:] = 0.7  # the model's top band
    kept = {ext: apply_native(x, masks, sample_rate=sr, extension=ext)[0] for ext in ("top", "zeros", "mean", "mean-squared")}
    e = lambda y, lo, hi: _band_energy(y, sr, lo, hi)  # noqa: E731
    for y in kept.values():
        assert e(y, 400, 600) > 0.95 * e(x, 400, 600)
        assert e(y, 2900, 3100) < 1e-4 * e(x, 2900, 3100)
    assert abs(e(kept["top"], 8900, 9100) / e(x, 8900, 9100) - 0.49) < 0.02  # 0.7 ** 2 of the energy
    assert e(kept["zeros"], 8900, 9100) < 1e-4 * e(x, 8900, 9100)
    mean = (2000 // 8 + 0.7 * 16) / N_BINS  # the mask's mean over the model's bins
    assert abs(e(kept["mean"], 8900, 9100) / e(x, 8900, 9100) - mean**2) < 0.02
    assert abs(e(kept["mean-squared"], 8900, 9100) / e(x, 8900, 9100) - mean**4) < 0.01


def test_the_mask_lands_on_the_right_frames():
    sr = 44100
    x = _tones((700.0, 6000.0), 8.0, sr)
    frames = _model_frames(x.shape[1], sr)
    masks = np.zeros((1, N_BINS, frames), dtype=np.float32)
    masks[:, :, : frames // 2] = 1.0  # the first half of the track
    y = apply_native(x, masks, sample_rate=sr, extension="top-mean")[0]
    half = x.shape[1] // 2
    margin = int(0.3 * sr)  # the window and the interpolation blur the cut over about 0.2 s
    assert np.allclose(y[:, : half - margin], x[:, : half - margin], atol=2e-3)
    assert np.abs(y[:, half + margin :]).max() < 2e-3


def test_centre_weighting_keeps_a_centred_high_band_and_hands_a_panned_one_to_the_instrumental():
    sr = 44100
    t = np.arange(3 * sr) / sr
    centred, panned = 0.2 * np.sin(2 * np.pi * 7000.0 * t), 0.2 * np.sin(2 * np.pi * 9000.0 * t)
    low = 0.2 * np.sin(2 * np.pi * 500.0 * t)
    x = np.stack([low + centred + panned, low + centred]).astype(np.float32)  # 9 kHz only on the left
    masks = np.full((2, N_BINS, _model_frames(x.shape[1], sr)), 0.5, dtype=np.float32)  # ratio masks, top band 0.5
    e = lambda y, f: _band_energy(y, sr, f - 100, f + 100)  # noqa: E731
    plain, weighted = (apply_native(x, masks, sample_rate=sr, extension="top-mean", complementary=True, mid=True,
                                    centre_power=k) for k in (0.0, 8.0))
    centre = x.mean(axis=0)
    for out in (plain, weighted):  # the band below 4 kHz is the same; sources sum to the mixture
        assert abs(e(out[0][0], 500) / e(0.5 * centre, 500) - 1) < 0.02
        np.testing.assert_allclose(out[0] + out[1], x, atol=1e-5)
    assert abs(e(weighted[0][0], 7000) / e(plain[0][0], 7000) - 1) < 0.02  # centred: kept as it was
    assert e(plain[0][0], 9000) > 0.2 * e(centre, 9000)
    assert e(weighted[0][0], 9000) < 1e-3 * e(plain[0][0], 9000)  # panned aside: all to the instrumental
    mono = apply_native(x[:1], masks, sample_rate=sr, extension="top-mean", complementary=True, mid=True, centre_power=8.0)
    np.testing.assert_allclose(mono, apply_native(x[:1], masks, sample_rate=sr, extension="top-mean", complementary=True),
                               atol=1e-6)  # mono input: nothing to weigh
    with pytest.raises(ConfigError, match="centre power"):
        MaskOptions(centre_power=-1.0)


def test_band_centre_weighting_hands_panned_content_below_4khz_to_the_instrumental():
    sr = 44100
    t = np.arange(3 * sr) / sr
    centred, panned = 0.2 * np.sin(2 * np.pi * 500.0 * t), 0.2 * np.sin(2 * np.pi * 1500.0 * t)
    x = np.stack([centred + panned, centred + 0.25 * panned]).astype(np.float32)  # 1.5 kHz 12 dB louder on the left
    masks = np.full((2, N_BINS, _model_frames(x.shape[1], sr)), 0.5, dtype=np.float32)
    e = lambda y, f: _band_energy(y, sr, f - 100, f + 100)  # noqa: E731
    plain, weighted = (apply_native(x, masks, sample_rate=sr, extension="zeros", complementary=True, mid=True,
                                    band_centre_power=k) for k in (0.0, 2.0))
    np.testing.assert_allclose(weighted[0] + weighted[1], x, atol=1e-5)
    assert abs(e(weighted[0][0], 500) / e(plain[0][0], 500) - 1) < 0.02  # centred: kept
    similarity = 2 * 1.0 * 0.25 / (1.0 + 0.25**2)  # 2|L||R| / (|L|^2 + |R|^2) of the panned tone
    ratio = e(weighted[0][0], 1500) / e(plain[0][0], 1500)
    assert abs(ratio - similarity**4) < 0.02  # energy: the mask times similarity^2, squared
    whole = apply_native(x, masks, sample_rate=sr, extension="mean", complementary=True, mid=True, centre_power=8.0,
                         band_centre_power=2.0, block_frames=10_000)
    for block_frames in (1, 7):  # blocks on threads, overlap-added in order: the same as one block
        np.testing.assert_allclose(apply_native(x, masks, sample_rate=sr, extension="mean", complementary=True, mid=True,
                                                centre_power=8.0, band_centre_power=2.0, block_frames=block_frames),
                                   whole, atol=2e-5)
    with pytest.raises(ConfigError, match="band centre power"):
        MaskOptions(band_centre_power=65.0)


def test_ratio_masks_sum_to_one_and_own_masks_are_left_alone():
    rng = np.random.default_rng(0)
    masks = rng.uniform(0, 1, (2, N_BINS, 20)).astype(np.float32)
    masks[:, 0, 0] = 0.0  # both zero: equal shares
    for p in (1.0, 2.0):
        r = combine_masks(masks, MaskOptions(mode="ratio", power=p))
        np.testing.assert_allclose(r.sum(axis=0), 1.0, atol=1e-6)
        assert r[0, 0, 0] == 0.5
    np.testing.assert_array_equal(combine_masks(masks, MaskOptions(mode="own")), masks)
    with pytest.raises(ConfigError, match="mask mode"):
        MaskOptions(mode="soft")


def _separator(**options) -> Separator:
    torch.manual_seed(0)
    return Separator(LoadedModels({"vocals": UNet(), "instrumental": UNet(skips=False)}, Path(".")), device="cpu", **options)


def test_the_model_rate_output_applies_the_masks_with_the_chosen_synthesis_window():
    from vocalmine.core.stft import istft, stft

    x = (0.1 * np.random.default_rng(3).standard_normal(8192 * 3 + 5)).astype(np.float32)
    overlap, paper = (_separator(mask=MaskOptions(synthesis=k)) for k in ("overlap", "paper"))
    masks = overlap.model_masks(x)
    got = overlap.separate(x, 8192, output="model")
    expected = apply_native(x[None], masks, sample_rate=8192, extension=MaskOptions().extension, complementary=True)[:, 0]
    np.testing.assert_allclose(got["vocals"], expected[0], atol=1e-6)
    np.testing.assert_allclose(got["vocals"] + got["instrumental"], x, atol=1e-5)  # ratio masks: they sum to the mixture
    old = paper.separate(x, 8192, output="model")
    np.testing.assert_allclose(old["vocals"], istft(masks[0] * stft(x)[:N_BINS], x.shape[0]), atol=1e-6)
    assert np.abs(old["vocals"] - got["vocals"]).max() > 1e-3  # two different windows
    assert native_stft_params(8192, "paper") == (1024, 768) and native_stft_params(44100, "paper") == (5512, 4134)
    with pytest.raises(ConfigError, match="synthesis"):
        MaskOptions(synthesis="wide")


@pytest.mark.slow
@pytest.mark.parametrize("shape, sr", [((2, 44100 * 2 + 3), 44100), ((22050 + 1,), 22050), ((1, 12000), 8192)])
def test_separate_keeps_the_input_shape_and_the_estimates_sum_to_the_mixture(shape, sr):
    x = (0.1 * np.random.default_rng(1).standard_normal(shape)).astype(np.float32)
    stems = _separator().separate(x, sr)
    assert set(stems) == {"vocals", "instrumental"}
    for y in stems.values():
        assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_allclose(stems["vocals"] + stems["instrumental"], x, atol=1e-5)  # ratio masks sum to 1
    model = _separator().separate(x, sr, output="model")
    assert model["vocals"].shape == (int(round(shape[-1] * SAMPLE_RATE / sr)),)


def test_separate_refuses_samples_by_channels():
    with pytest.raises(AudioError, match=r"\(channels, samples\)"):
        _separator().separate(np.zeros((44100, 2), np.float32), 44100)


def _save_checkpoints(models_dir: Path) -> None:
    torch.manual_seed(0)
    for target in ("vocals", "instrumental"):
        save_checkpoint(models_dir / target / "best.pt", make_payload(model=UNet(), target=target, config={}, step=7, epoch=1))


@pytest.mark.slow
def test_export_is_small_half_precision_and_separates_like_the_checkpoints(tmp_path):
    _save_checkpoints(tmp_path / "models")
    loaded = load_model_file(tmp_path / "models")
    path = export_models(loaded, tmp_path / "model.pt")
    assert path.stat().st_size < 45e6  # two U-Nets of 9.8 M parameters in float16
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "vocalmine-model/1" and payload["stft"]["sample_rate"] == SAMPLE_RATE
    assert all(v.dtype == torch.float16 for t in payload["targets"].values() for v in t["state_dict"].values() if v.is_floating_point())
    assert payload["provenance"]["vocals"]["step"] == 7 and "optimizer" not in payload
    x = _tones((300.0, 1200.0, 7000.0), 2.0, 44100)
    a = Separator(loaded, device="cpu").separate(x, 44100)
    b = Separator.from_file(path, device="cpu").separate(x, 44100)
    assert np.abs(a["vocals"] - b["vocals"]).max() < 0.02 * np.abs(x).max()
    one = export_models(loaded, tmp_path / "vocals.pt", targets=("vocals",))
    stems = Separator.from_file(one, device="cpu").separate(x, 44100)
    np.testing.assert_allclose(stems["vocals"] + stems["instrumental"], x, atol=1e-5)  # the complement


def test_a_checkpoint_loads_with_its_sibling_target(tmp_path):
    _save_checkpoints(tmp_path / "models")
    loaded = load_model_file(tmp_path / "models" / "vocals" / "best.pt")
    assert set(loaded.models) == {"vocals", "instrumental"}


@pytest.mark.parametrize("content", [b"not a model at all", None])
def test_a_file_that_is_not_a_vocalmine_model_is_one_config_error(tmp_path, content):
    path = tmp_path / "other.pt"
    if content is None:
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match="not a vocalmine model file") as err:
        load_model_file(path)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="no model file or models folder"):
        load_model_file(tmp_path / "missing.pt")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device, message", [("cuda", "CUDA is not available"), ("cuda:3", "CUDA is not available"),
                                             ("tpu", "not a torch device"), ("mps", "MPS")])
def test_an_unavailable_device_is_a_config_error(device, message):
    with pytest.raises(ConfigError, match=message):
        resolve_device(device)


def test_an_undecodable_file_says_cannot_decode_not_does_not_exist(tmp_path):
    bad = tmp_path / "song.mp3"
    bad.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(AudioError, match="cannot decode") as err:
        read_audio(bad)
    assert "does not exist" not in str(err.value)
    with pytest.raises(AudioError, match="does not exist"):
        read_audio(tmp_path / "missing.wav")


def test_same_names_from_different_folders_get_distinct_outputs(tmp_path):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        sf.write(tmp_path / d / "song.wav", np.zeros(100), 8000)
    assert output_names([tmp_path / "a" / "song.wav", tmp_path / "b" / "song.wav"]) == ["a-song", "b-song"]
    assert output_names([tmp_path / "a" / "song.wav"]) == ["song"]
    with pytest.raises(ConfigError, match="same file"):
        output_names([tmp_path / "a" / "song.wav", tmp_path / "a" / ".." / "a" / "song.wav"])
    existing = tmp_path / "a" / "song.wav"
    with pytest.raises(ConfigError, match=r"output exists: .*song\.wav.*--overwrite"):
        check_free([existing], overwrite=False)
    check_free([existing], overwrite=True)


def test_high_band_snr():
    sr = 44100
    ref = _tones((1000.0, 8000.0), 1.0, sr, channels=1)[0]
    low = _tones((1000.0,), 1.0, sr, channels=1)[0]
    assert abs(high_band_snr(ref, low, sr)) < 0.01  # nothing above 5 kHz: 0 dB by construction
    assert high_band_snr(ref, ref, sr) == float("inf")
    assert 5.5 < high_band_snr(ref, 0.5 * ref, sr) < 6.5
    assert np.isnan(high_band_snr(ref[:8192], ref[:8192], SAMPLE_RATE))


@pytest.mark.parametrize("sr, n", [(44100, 44100 * 2 + 7), (8192, 8192 + 1), (48000, 3000)])
def test_overlap_add_equals_the_core_istft(sr, n):
    from vocalmine.core.stft import istft, stft
    from vocalmine.model.fullband import overlap_add

    n_fft, hop = native_stft_params(sr)
    x = (0.1 * np.random.default_rng(n).standard_normal((2, n))).astype(np.float32)
    spec = stft(x, n_fft=n_fft, hop=hop) * np.float32(0.7)
    np.testing.assert_allclose(overlap_add(spec, n, n_fft=n_fft, hop=hop), istft(spec, n, n_fft=n_fft, hop=hop), atol=2e-6)
    np.testing.assert_allclose(overlap_add(stft(x, n_fft=n_fft, hop=hop), n, n_fft=n_fft, hop=hop), x, atol=2e-6)


@pytest.mark.slow
def test_mid_mode_puts_one_centred_vocal_on_every_channel_and_the_rest_in_the_instrumental():
    x = (0.1 * np.random.default_rng(3).standard_normal((2, 44100 * 2))).astype(np.float32)
    stems = _separator(mask=MaskOptions(channels="mid")).separate(x, 44100)
    np.testing.assert_array_equal(stems["vocals"][0], stems["vocals"][1])
    np.testing.assert_allclose(stems["vocals"] + stems["instrumental"], x, atol=1e-5)
    mono = _separator(mask=MaskOptions(channels="mid")).separate(x[:1], 44100)  # one channel: mid is the channel
    np.testing.assert_allclose(mono["vocals"], _separator(mask=MaskOptions(channels="each")).separate(x[:1], 44100)["vocals"], atol=1e-6)


@pytest.mark.parametrize("block_frames", [1, 7, 512])
def test_blocked_native_application_equals_the_whole_spectrogram(block_frames):
    from vocalmine.core.stft import istft, stft
    from vocalmine.model.fullband import native_masks

    sr, n = 44100, 44100 * 3 + 11
    x = (0.1 * np.random.default_rng(5).standard_normal((2, n))).astype(np.float32)
    masks = np.random.default_rng(6).uniform(0, 1, (2, N_BINS, _model_frames(n, sr))).astype(np.float32)
    n_fft, hop = native_stft_params(sr)
    spec = stft(x, n_fft=n_fft, hop=hop)
    full = native_masks(masks, sample_rate=sr, n_frames_native=spec.shape[-1], extension="top-mean")
    expected = istft(full[:, None] * spec[None], n, n_fft=n_fft, hop=hop)
    got = apply_native(x, masks, sample_rate=sr, extension="top-mean", block_frames=block_frames)
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_the_oracle_follows_the_synthesis_window_and_sums_to_the_mixture():
    from vocalmine.evaluation.bss import BssEvalV3
    from vocalmine.evaluation.clips import oracle_irm

    rng = np.random.default_rng(9)
    t = np.arange(8192 * 4) / 8192
    vocals = 0.3 * np.sin(2 * np.pi * 440 * t * (1 + 0.02 * np.sin(2 * np.pi * 3 * t))) * (np.sin(2 * np.pi * 0.7 * t) > 0)
    accompaniment = 0.1 * rng.standard_normal(t.size)
    mixture = vocals + accompaniment
    scorer = BssEvalV3(np.stack([vocals, accompaniment]))
    sdr = {}
    for synthesis in ("overlap", "paper"):
        est = oracle_irm(mixture, vocals, accompaniment, synthesis)
        if synthesis == "overlap":  # all bins ("paper" leaves out the Nyquist bin, as the models do)
            np.testing.assert_allclose(est.sum(axis=0), mixture, atol=1e-4)
        sdr[synthesis] = scorer.score(est)[0][0]
    assert min(sdr.values()) > 10.0  # a ceiling: the gated tone comes back well
    assert abs(sdr["overlap"] - sdr["paper"]) > 0.05  # two different STFTs


@pytest.mark.parametrize("command", ["separate", "evaluate"])
def test_the_cli_offers_every_synthesis_and_the_band_weighting(command):
    from click.testing import CliRunner

    from vocalmine.cli import cli
    from vocalmine.model.fullband import SYNTHESES

    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert f"--synthesis [{'|'.join(SYNTHESES)}]" in result.output
    assert "--band-centre-power" in result.output and "[default: 2.0;" in result.output
