"""Atomic writes, path containment, audio decoding and the STFT round trip."""

import os

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from vocalmine.core.atomic import atomic_path, remove_stale_temps, save_npy_atomic, write_text_atomic
from vocalmine.core.audio import load_audio, write_audio
from vocalmine.core.constants import N_BINS, SAMPLE_RATE
from vocalmine.core.errors import AudioError, CatalogError
from vocalmine.core.paths import resolve_under
from vocalmine.core.tables import REJECTS_SCHEMA, read_table, write_table
from vocalmine.core.stft import istft, magnitude, n_frames, stft


def test_atomic_write_leaves_target_untouched_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_stale_temps_are_removed(tmp_path):
    save_npy_atomic(tmp_path / "a.npy", np.arange(3))
    (tmp_path / ".a.1234abcd.tmp.npy").write_bytes(b"partial")
    assert remove_stale_temps(tmp_path) == 1
    assert np.load(tmp_path / "a.npy").tolist() == [0, 1, 2]


def test_table_schema_checked_on_read(tmp_path):
    df = pd.DataFrame({c: ["x"] for c in REJECTS_SCHEMA.names})
    write_table(df, tmp_path / "r.parquet", REJECTS_SCHEMA)
    assert read_table(tmp_path / "r.parquet", REJECTS_SCHEMA).to_dict("records") == df.to_dict("records")
    df.drop(columns=["reason"]).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(CatalogError, match=r"missing column\(s\) \['reason'\]"):
        read_table(tmp_path / "bad.parquet", REJECTS_SCHEMA)
    with pytest.raises(CatalogError, match="lacks column"):
        write_table(df.drop(columns=["stage"]), tmp_path / "x.parquet", REJECTS_SCHEMA)


@pytest.mark.parametrize("bad", ["../outside.wav", "/etc/passwd", "a/../../outside.wav"])
def test_paths_escaping_root_are_rejected(tmp_path, bad):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(CatalogError, match="escapes the declared root"):
        resolve_under(root, bad)


def test_symlink_out_of_root_is_rejected(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.wav").write_bytes(b"x")
    os.symlink(tmp_path / "secret.wav", root / "link.wav")
    with pytest.raises(CatalogError, match="escapes"):
        resolve_under(root, "link.wav")
    (root / "sub").mkdir()
    assert resolve_under(root, "sub/../sub/file.wav") == (root / "sub" / "file.wav").resolve()


def tone(sr: int, seconds: float, channels: int) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([y] * channels, axis=1) if channels > 1 else y


@pytest.mark.parametrize("suffix, sr, channels", [(".wav", 44100, 2), (".flac", 48000, 1), (".mp3", 22050, 2)])
def test_load_audio_downmixes_and_resamples(tmp_path, suffix, sr, channels):
    path = tmp_path / f"tone{suffix}"
    write_audio(path, tone(sr, 1.0, channels), sr)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - SAMPLE_RATE) < 0.02 * SAMPLE_RATE  # MP3 adds encoder padding
    spectrum = np.abs(np.fft.rfft(y[:SAMPLE_RATE // 2]))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / (SAMPLE_RATE // 2)
    assert abs(peak_hz - 440) < 5


def test_load_audio_errors(tmp_path):
    with pytest.raises(AudioError, match="not a file"):
        load_audio(tmp_path)
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really a wave file")
    with pytest.raises(AudioError, match="cannot decode"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    with pytest.raises(AudioError, match="no samples"):
        load_audio(tmp_path / "empty.wav")


@pytest.mark.parametrize("length", [1, 767, 1024, 8191, 20001])
def test_stft_round_trip_on_odd_lengths(length):
    rng = np.random.default_rng(length)
    y = rng.standard_normal(length).astype(np.float32)
    spec = stft(y)
    assert spec.shape == (N_BINS + 1, n_frames(length))
    assert magnitude(spec).shape == (N_BINS, n_frames(length))
    back = istft(spec, length)
    assert back.shape == (length,)
    assert np.max(np.abs(back - y)) < 1e-5
