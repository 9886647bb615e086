"""Every preset end to end on seconds-long stereo releases: build, train, export, separate, and the dataset export.

The releases are 44.1 kHz stereo originals and 48 kHz stereo instrumentals,
a fraction of a sample off at every rate and re-gained, with content above
5 kHz, so a spec that dropped the band, a channel or the sub-sample delay
would show in the derived voice.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import soxr

from vocalmine.core.audio import write_audio
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.contract.dataset import MANIFEST_FILE, MANIFEST_SCHEMA, STEM_FILES, TRACK_FILE
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, pair_id_for
from vocalmine.core.contract.shards import INDEX_FILE, QUALITY_FILE, open_shard, pairs_of, read_spec, rows
from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, PRESETS, SignalSpec, preset
from vocalmine.core.tables import read_table, write_table
from vocalmine.features.build import build
from vocalmine.features.config import config_from_overrides
from vocalmine.features.export import export_dataset

ORIGINAL_RATE, INSTRUMENTAL_RATE = 44100, 48000
LAGS_S = (0.137321, -0.052917)  # the instrumental's content lags by this much: not a whole sample at any rate
GAINS = (0.8, 1.25)
SECONDS = 7.0


def stereo_song(seed: int, seconds: float = SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(accompaniment, vocal), each (2, n) at ORIGINAL_RATE: a chord panned apart, hats above 5 kHz, a centred voice."""
    rng = np.random.default_rng(seed)
    n = int(seconds * ORIGINAL_RATE)
    t = np.arange(n) / ORIGINAL_RATE
    chord = [0.08 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(110, 500, size=4)]
    # hats between 5 and 17 kHz: content above 20 kHz would not survive the instrumental's 48 kHz file
    hats = np.convolve(rng.standard_normal(n), [1, 0, -1], mode="same") * ((t % 0.25) < 0.03) * 0.05
    left = chord[0] + chord[1] + 0.6 * chord[2] + hats
    right = chord[2] + chord[3] + 0.6 * chord[1] + 0.5 * hats
    f0 = rng.uniform(200, 330) + 12 * np.sin(2 * np.pi * 5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / ORIGINAL_RATE
    voice = sum(0.1 / h * np.sin(h * phase) for h in range(1, 30) if h * 330 < 15000) * ((t % 2.5) < 1.8)
    return np.stack([left, right]).astype(np.float32), np.stack([voice, voice]).astype(np.float32)


def write_pair(root: Path, k: int) -> dict:
    """An original (44.1 kHz stereo WAV) and its instrumental (48 kHz stereo FLAC, lagged, re-gained)."""
    acc, voc = stereo_song(seed=k)
    lag = LAGS_S[k] * ORIGINAL_RATE  # samples at 44.1 kHz, fractional
    pad = ORIGINAL_RATE  # zeros around the accompaniment, so the delay does not wrap its end to its start
    padded = np.pad(acc.astype(np.float64), ((0, 0), (pad, pad)))
    spectrum = np.fft.rfft(padded, axis=-1)
    # content at instrumental(t) = acc(t - lag): a band-limited fractional delay
    spectrum *= np.exp(-2j * np.pi * np.fft.rfftfreq(padded.shape[-1]) * lag)
    inst = np.fft.irfft(spectrum, padded.shape[-1], axis=-1)[:, pad : pad + acc.shape[-1]] / GAINS[k]
    inst = soxr.resample(inst.T.astype(np.float32), ORIGINAL_RATE, INSTRUMENTAL_RATE)
    original_path, instrumental_path = root / f"O{k}.wav", root / f"I{k}.flac"
    write_audio(original_path, (acc + voc).T, ORIGINAL_RATE, subtype="FLOAT")
    write_audio(instrumental_path, inst, INSTRUMENTAL_RATE, subtype="PCM_24")
    oid, iid = f"O{k}", f"I{k}"
    return {
        "pair_id": pair_id_for(oid, iid), "original_id": oid, "instrumental_id": iid,
        "artist": f"Artist {k}", "artist_norm": f"artist {k}", "original_title": f"Song {k}",
        "instrumental_title": f"Song {k} (Instrumental)", "base_title": f"song {k}", "title_score": 100.0,
        "title_threshold": 85.0, "original_duration_s": SECONDS, "instrumental_duration_s": SECONDS,
        "duration_delta_s": 0.0, "original_path": original_path.name, "instrumental_path": instrumental_path.name,
        "original_fingerprint": f"fo{k}", "instrumental_fingerprint": f"fi{k}", "marker": "instrumental",
        "marker_family": "instrumental",
    }


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("stereo_releases")
    return root, pd.DataFrame([write_pair(root, k) for k in range(len(LAGS_S))])


def catalog_at(folder: Path, releases: tuple[Path, pd.DataFrame]):
    corpus, pairs = releases
    yaml_file = folder / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus, folder / "work"), encoding="utf-8")
    catalog = load_catalog(yaml_file)
    write_table(pairs, catalog.pairs, PAIRS_SCHEMA)
    return catalog


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference**2) / np.sum((estimate - reference) ** 2)))


def true_voice(k: int, rate: int, channels: int) -> np.ndarray:
    voice = stereo_song(seed=k)[1]
    voice = voice if rate == ORIGINAL_RATE else soxr.resample(voice.T, ORIGINAL_RATE, rate).T
    return voice[:1] if channels == 1 else voice  # the voice is centred: its mono downmix is either channel


@pytest.fixture(scope="module")
def built(tmp_path_factory, releases, in_process_scheduler) -> dict[str, object]:
    """The releases built at every preset, each in its own work folder."""
    out = {}
    for name in PRESETS:
        catalog = catalog_at(tmp_path_factory.mktemp(f"built_{name}"), releases)
        config = config_from_overrides({"workers": 1, "split_fractions": (1.0, 0.0, 0.0)}, preset_name=name)
        build(catalog=catalog, scheduler=in_process_scheduler, config=config)
        out[name] = catalog
    return out


def test_presets_are_validated_and_named_in_one_message():
    assert preset("paper") == PAPER and PRESETS["fullband"].channels == 2
    assert PRESETS["16k"].top_hz == pytest.approx(7984.375) and PRESETS["fullband"].top_hz == pytest.approx(1023 * 44100 / 4096)
    with pytest.raises(ConfigError, match="unknown preset 'cd'; expected one of paper, 16k, fullband, fullband-mono"):
        preset("cd")
    with pytest.raises(ConfigError, match="signal spec: bins=500, expected a multiple of 64"):
        SignalSpec(bins=500)
    with pytest.raises(ConfigError, match="features config: unknown setting"):
        config_from_overrides({"rate": 16000})
    assert config_from_overrides({"patch_frames": 512}, preset_name="fullband").spec.patch_frames == 512


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PRESETS))
def test_shards_hold_each_pair_at_the_specs_rate_and_channels(built, releases, name):
    catalog = built[name]
    spec = PRESETS[name]
    assert read_spec(catalog.shards) == spec
    quality = pd.read_parquet(catalog.shards / QUALITY_FILE)
    assert (quality["status"] == "kept").all()  # the gate runs at 8192 Hz mono whatever the spec
    paper_quality = pd.read_parquet(built["paper"].shards / QUALITY_FILE)
    np.testing.assert_allclose(quality["coherence"], paper_quality["coherence"])
    pairs = pairs_of(pd.read_parquet(catalog.shards / INDEX_FILE))
    by_id = releases[1].set_index("pair_id")
    for row in pairs.itertuples(index=False):
        k = int(by_id.loc[row.pair_id, "original_id"][1:])
        array = open_shard(catalog.shards, int(row.shard), spec.channels)
        assert array.shape[0] == 2 * spec.channels
        assert abs(row.samples / spec.sample_rate - (SECONDS - abs(LAGS_S[k]))) < 0.01
        wave = np.asarray(array[:, row.offset : row.offset + row.samples], np.float64)
        derived = wave[rows(0, spec.channels)] - wave[rows(1, spec.channels)]
        voice = true_voice(k, spec.sample_rate, spec.channels)
        start = int(round(max(0.0, -LAGS_S[k]) * spec.sample_rate))  # the first original sample of the overlap
        reference = voice[:, start : start + row.samples]
        inner = slice(spec.sample_rate // 10, reference.shape[1] - spec.sample_rate // 10)
        # the derived voice is the true voice: sub-sample alignment and one gain applied to every channel
        assert snr_db(reference[:, inner], derived[:, inner]) > 25, name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["16k", "fullband", "fullband-mono"])
def test_a_model_trained_at_a_preset_separates_at_its_spec_from_its_file_alone(built, tmp_path, name):
    from vocalmine.model.checkpoint import checkpoint_spec, load_checkpoint
    from vocalmine.model.config import TrainConfig
    from vocalmine.model.loading import export_models, load_model_file
    from vocalmine.model.separator import Separator
    from vocalmine.model.train import train_run

    catalog, spec = built[name], PRESETS[name]
    config = TrainConfig(steps=2, batch_size=2, workers=0, epoch_patches=4, max_val_patches=2, threads=1)
    for target in ("vocals", "instrumental"):
        train_run(shards=catalog.shards, run_dir=tmp_path / "models" / target, target=target, config=config,
                  device="cpu")
    payload = load_checkpoint(tmp_path / "models" / "vocals" / "best.pt")
    assert checkpoint_spec(payload) == spec and payload["model_kwargs"]["in_channels"] == spec.channels
    model_file = export_models(load_model_file(tmp_path / "models"), tmp_path / "empty" / "model.pt")
    separator = Separator.from_file(model_file, device="cpu")  # the file alone: no catalog, no shards
    assert separator.spec == spec
    song = np.sum(stereo_song(seed=5, seconds=3.0), axis=0)  # (2, n) at 44.1 kHz
    stems = separator.separate(song, ORIGINAL_RATE)
    assert stems["vocals"].shape == song.shape and stems["instrumental"].shape == song.shape
    np.testing.assert_allclose(stems["vocals"] + stems["instrumental"], song, atol=2e-4)  # ratio masks: they sum
    model_rate = separator.separate(song, ORIGINAL_RATE, output="model")["vocals"]
    assert model_rate.shape[-1] == pytest.approx(song.shape[1] * spec.sample_rate / ORIGINAL_RATE, abs=2)
    assert model_rate.ndim == (1 if spec.channels == 1 else 2)
    mono = separator.separate(song.mean(axis=0), 22050)["vocals"]  # any rate and channels in, the same out
    assert mono.shape == (song.shape[1],)


@pytest.mark.slow
def test_export_dataset_writes_track_folders_whose_stems_sum_and_resumes(tmp_path, releases, in_process_scheduler):
    catalog = catalog_at(tmp_path, releases)
    build(catalog=catalog, scheduler=in_process_scheduler,
          config=config_from_overrides({"workers": 1, "split_fractions": (1.0, 0.0, 0.0)}))
    summary = export_dataset(catalog=catalog, out=tmp_path / "dataset", scheduler=in_process_scheduler)
    assert summary.tracks == 2 and summary.written == 2 and summary.failed == {}
    manifest = read_table(tmp_path / "dataset" / MANIFEST_FILE, MANIFEST_SCHEMA)
    assert sorted(manifest["split"]) == ["train", "train"]
    for row in manifest.itertuples(index=False):
        folder = tmp_path / "dataset" / row.folder
        assert folder.parent.name == "train" and row.folder.endswith(f"[{row.pair_id}]")
        stems = {}
        for name in STEM_FILES:
            data, rate = sf.read(folder / name, dtype="float32", always_2d=True)
            assert rate == ORIGINAL_RATE and data.shape[1] == 2  # the original release's rate and channels
            stems[name] = data.T.astype(np.float64)
        np.testing.assert_allclose(stems["vocals.wav"] + stems["accompaniment.wav"], stems["mixture.wav"], atol=1e-6)
        k = int(row.original_id[1:])
        # the lag to a twentieth of a sample; the least-squares gain within 0.5 dB (the voice biases it a little)
        assert abs(row.offset_s - LAGS_S[k]) < 0.05 / ORIGINAL_RATE and abs(20 * np.log10(row.gain / GAINS[k])) < 0.5
        start = int(round(row.start_s * ORIGINAL_RATE))
        reference = true_voice(k, ORIGINAL_RATE, 2)[:, start : start + stems["vocals.wav"].shape[1]]
        inner = slice(4410, reference.shape[1] - 4410)
        assert snr_db(reference[:, inner], stems["vocals.wav"][:, inner]) > 25
        assert json.loads((folder / TRACK_FILE).read_text())["row"]["pair_id"] == row.pair_id
    before = {p: p.read_bytes() for p in (tmp_path / "dataset").rglob("*.wav")}
    again = export_dataset(catalog=catalog, out=tmp_path / "dataset", scheduler=in_process_scheduler)
    assert again.written == 0 and again.resumed == 2
    assert {p: p.read_bytes() for p in (tmp_path / "dataset").rglob("*.wav")} == before


@pytest.mark.slow
def test_the_reports_spectrograms_follow_the_shards_spec(built):
    from vocalmine.report.data import example_spectrograms

    for name, bins in (("paper", 512), ("fullband", 1024), ("fullband-mono", 1024)):
        shards = built[name].shards
        index = pd.read_parquet(shards / INDEX_FILE)
        spectra = example_spectrograms(shards, index, index["pair_id"].iloc[0], frames=64)
        assert spectra.shape[:2] == (3, bins) and spectra.shape[2] == 64
        assert 0.5 < spectra[0].max() <= 1.001  # X normalised by the pair's max |X| at that spec (float16 rows)
        np.testing.assert_allclose(spectra[2], np.maximum(spectra[0] - spectra[1], 0), atol=1e-6)
