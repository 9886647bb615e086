"""Atomic writes, path containment, audio decoding and the STFT round trip."""

import os

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from vocalmine.core.atomic import atomic_path, remove_stale_temps, save_npy_atomic, write_text_atomic
from vocalmine.core.audio import downmix, load_audio, read_audio, read_mono, to_pcm16, write_audio
from vocalmine.core.constants import N_BINS, SAMPLE_RATE
from vocalmine.core.errors import AudioError, CatalogError
from vocalmine.core.paths import resolve_under
from vocalmine import __version__
from vocalmine.core.tables import REJECTS_SCHEMA, optional, read_metadata, read_table, versioned, write_table
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
    without_reason = pa.schema([f for f in REJECTS_SCHEMA if f.name != "reason"])
    write_table(df.drop(columns=["reason"]), tmp_path / "bad.parquet", without_reason)
    with pytest.raises(CatalogError, match=r"missing column\(s\) \['reason'\]"):
        read_table(tmp_path / "bad.parquet", REJECTS_SCHEMA)
    with pytest.raises(CatalogError, match="lacks column"):
        write_table(df.drop(columns=["stage"]), tmp_path / "x.parquet", REJECTS_SCHEMA)


def test_artifacts_carry_version_stage_and_settings(tmp_path):
    df = pd.DataFrame({c: ["x"] for c in REJECTS_SCHEMA.names})
    path = write_table(df, tmp_path / "r.parquet", REJECTS_SCHEMA, stage="mine",
                       settings={"title_threshold": 90.0, "root": tmp_path, "sizes": (1, 2)})
    meta = read_metadata(path)
    assert (meta.schema_version, meta.vocalmine_version, meta.stage) == (1, __version__, "mine")
    assert meta.settings == {"title_threshold": 90.0, "root": str(tmp_path), "sizes": [1, 2]}
    assert meta.written_at and meta.written_at.endswith("+00:00")
    # plain pyarrow sees it too: the record is ordinary key-value metadata
    assert json.loads(pq.read_schema(path).metadata[b"vocalmine"])["stage"] == "mine"


def test_artifact_of_an_older_schema_says_how_to_rebuild(tmp_path):
    df = pd.DataFrame({c: ["x"] for c in REJECTS_SCHEMA.names})
    df.to_parquet(tmp_path / "old.parquet")  # written before artifacts described themselves
    assert read_metadata(tmp_path / "old.parquet").schema_version == 0
    with pytest.raises(CatalogError, match=r"old\.parquet: written before artifacts carried a version; .*"
                                           r"reads schema version 1: delete it and re-run the stage that writes it"):
        read_table(tmp_path / "old.parquet", REJECTS_SCHEMA)
    with pytest.raises(CatalogError, match=r"delete it and re-run `vocalmine mine` to rebuild it"):
        read_table(tmp_path / "old.parquet", REJECTS_SCHEMA, stage="mine")
    write_table(df, tmp_path / "v1.parquet", REJECTS_SCHEMA, stage="mine")
    with pytest.raises(CatalogError, match=r"written with schema version 1 by vocalmine .*reads schema version 2: "
                                           r"delete it and re-run `vocalmine mine` to rebuild it") as info:
        read_table(tmp_path / "v1.parquet", versioned(REJECTS_SCHEMA, 2))
    assert "\n" not in str(info.value)
    write_table(df, tmp_path / "v3.parquet", versioned(REJECTS_SCHEMA, 3), stage="build")
    with pytest.raises(CatalogError, match=r"newer than this vocalmine .*upgrade vocalmine, or delete it and re-run `vocalmine build`"):
        read_table(tmp_path / "v3.parquet", REJECTS_SCHEMA)
    assert read_table(tmp_path / "v3.parquet", versioned(REJECTS_SCHEMA, 3)).shape == (1, 6)


def test_an_optional_column_added_later_reads_and_writes_as_nulls(tmp_path):
    before = pa.schema([("pair_id", pa.string()), ("score", pa.float64())])
    after = pa.schema(list(before) + [optional("where_s", pa.float64())])
    write_table(pd.DataFrame({"pair_id": ["a", "b"], "score": [0.5, 0.9]}), tmp_path / "old.parquet", before)
    old = read_table(tmp_path / "old.parquet", after)  # a file written before the column existed
    assert list(old.columns) == ["pair_id", "score", "where_s"] and old["where_s"].isna().all()
    assert old["score"].tolist() == [0.5, 0.9]
    # a writer that does not know the column yet (a resumed build's older part records) writes nulls
    write_table(pd.DataFrame({"pair_id": ["c"], "score": [0.1]}), tmp_path / "mixed.parquet", after)
    assert pq.read_schema(tmp_path / "mixed.parquet").names == after.names
    write_table(pd.DataFrame({"pair_id": ["d"], "score": [0.2], "where_s": [12.5]}), tmp_path / "new.parquet", after)
    assert read_table(tmp_path / "new.parquet", after)["where_s"].tolist() == [12.5]
    # a required column is still required, on both sides
    with pytest.raises(CatalogError, match=r"lacks column\(s\) \['score'\]"):
        write_table(pd.DataFrame({"pair_id": ["e"]}), tmp_path / "bad.parquet", after)
    write_table(pd.DataFrame({"pair_id": ["f"]}), tmp_path / "bare.parquet", pa.schema([("pair_id", pa.string())]))
    with pytest.raises(CatalogError, match=r"missing column\(s\) \['score'\]"):
        read_table(tmp_path / "bare.parquet", after)


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


@pytest.mark.parametrize("fmt, subtype, channels", [
    ("WAV", "PCM_16", 2), ("WAV", "PCM_24", 2), ("AIFF", "PCM_24", 1), ("RF64", "PCM_16", 3),
    ("WAV", "FLOAT", 2), ("WAV", "PCM_32", 2), ("FLAC", "PCM_16", 2)])
def test_integer_reads_give_libsndfiles_floats_exactly(tmp_path, fmt, subtype, channels):
    rng = np.random.default_rng(channels)
    y = np.clip(rng.standard_normal((3000, channels)) * 0.5, -1, 1).astype(np.float32)
    y[:4] = 1.0  # full scale both ways: the sums of two channels need 25 bits at 24-bit
    y[4:8] = -1.0
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, y, 44100, format=fmt, subtype=subtype)
    reference, _ = sf.read(path, dtype="float32", always_2d=True)
    data, rate = read_audio(path)
    assert rate == 44100 and data.flags.c_contiguous and data.dtype == np.float32
    assert np.array_equal(data, reference.T)
    mono, rate = read_mono(path)
    assert rate == 44100 and mono.dtype == np.float32 and mono.ndim == 1
    assert np.array_equal(mono, np.asarray(downmix(reference), dtype=np.float32))


def test_load_audio_errors(tmp_path):
    with pytest.raises(AudioError, match="not a file"):
        load_audio(tmp_path)
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really a wave file")
    with pytest.raises(AudioError, match="cannot decode"):
        load_audio(tmp_path / "junk.wav")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1)), 8000)
    with pytest.raises(AudioError, match="no samples"):
        load_audio(tmp_path / "empty.wav")


@pytest.mark.slow
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


def test_pcm16_conversion_matches_libsndfile_within_one_step_and_clips(tmp_path):
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.uniform(-1.2, 1.2, (4000, 2)), [[1.0, -1.0], [0.5, -0.5], [0.0, 2.0]]]).astype(np.float32)
    write_audio(tmp_path / "ours.wav", to_pcm16(y), 44100, subtype="PCM_16")
    write_audio(tmp_path / "theirs.wav", y, 44100, subtype="PCM_16")
    ours, _ = sf.read(tmp_path / "ours.wav", dtype="int16")
    theirs, _ = sf.read(tmp_path / "theirs.wav", dtype="int16")
    assert ours.shape == (4003, 2) and np.abs(ours.astype(int) - theirs).max() <= 1
    assert ours[-3:].tolist() == [[32767, -32768], [16384, -16384], [0, 32767]]  # full scale, exact halves, clipped
    assert to_pcm16(y.T).flags["C_CONTIGUOUS"]  # a transposed (channels, n) view comes out ready to write


def test_float16_conversion_rounds_as_numpy_does():
    from vocalmine.core.audio import TORCH_CAST_MIN, to_float16

    rng = np.random.default_rng(3)
    y = np.concatenate([rng.standard_normal(TORCH_CAST_MIN) * 0.3,  # long enough for torch's path, and its halves not
                        [65504.0, -1e-8, 6e-8, 0.0, -0.0, 1 + 2**-11, 1 + 3 * 2**-11]]).astype(np.float32)
    out = np.empty((2, len(y)), dtype=np.float16)
    to_float16(y, out[1])
    assert out[1].tobytes() == y.astype(np.float16).tobytes()
    assert to_float16(y[::2]).tobytes() == y[::2].astype(np.float16).tobytes()  # a strided view too
