"""`build` end to end on generated pairs: tables, shards, rejects, splits, resume, CLI, Dask cluster."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from vocalmine.commands.build import build_command
from vocalmine.commands.context import Context
from vocalmine.core.audio import write_audio
from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.constants import PATCH_FRAMES, SAMPLE_RATE
from vocalmine.core.errors import ConfigError, NothingUsableError, VocalmineError
from vocalmine.core.tables import REJECTS_SCHEMA, read_table, write_table
from vocalmine.core.contract import features_reasons as reasons
from vocalmine.features.config import FeaturesConfig, config_from_overrides
from vocalmine.features.build import build
from vocalmine.core.contract.shards import INDEX_SCHEMA, QUALITY_SCHEMA, open_shard, pairs_of, shard_path
from vocalmine.features.store import part_path
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, pair_id_for

SR_FILE = 22050  # generated files are 22.05 kHz to keep them small


def tone_song(seconds: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(accompaniment, vocal) at SR_FILE: random chord plus noise beats; a vibrato voice."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR_FILE)) / SR_FILE
    acc = sum(0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in rng.uniform(100, 600, size=4))
    acc = acc + 0.2 * ((t % 0.5) < 0.04) * rng.standard_normal(t.size) + 0.02 * rng.standard_normal(t.size)
    f0 = rng.uniform(200, 350) + 15 * np.sin(2 * np.pi * 5 * t)
    voc = sum(0.12 / h * np.sin(h * 2 * np.pi * np.cumsum(f0) / SR_FILE) for h in range(1, 6)) * ((t % 3) < 2)
    return acc.astype(np.float32), voc.astype(np.float32)


def make_corpus(root: Path, songs: list[dict]) -> pd.DataFrame:
    """Write each song's original and instrumental under root/audio and return a pairs table."""
    rows = []
    for k, spec in enumerate(songs):
        acc, voc = tone_song(spec.get("seconds", 6.0), seed=k)
        orig_path, inst_path = root / "audio" / f"O{k}.wav", root / "audio" / f"I{k}.flac"
        lag = int(spec.get("lag_s", 0.0) * SR_FILE)
        inst = np.concatenate([np.zeros(lag, np.float32), acc / spec.get("gain", 1.0)])
        if spec.get("other"):
            inst = tone_song(6.0, seed=100 + k)[0]
        write_audio(orig_path, acc + voc, SR_FILE)
        if spec.get("corrupt"):
            inst_path.parent.mkdir(parents=True, exist_ok=True)
            inst_path.write_bytes(b"fLaC but not really")
        else:
            write_audio(inst_path, inst, SR_FILE)
        oid, iid = f"O{k}", f"I{k}"
        rows.append({
            "pair_id": pair_id_for(oid, iid), "original_id": oid, "instrumental_id": iid,
            "artist": spec["artist"], "artist_norm": spec["artist"].lower(),
            "original_title": f"Song {k}", "instrumental_title": f"Song {k} (Instrumental)", "base_title": f"song {k}",
            "title_score": 100.0, "title_threshold": 85.0, "original_duration_s": 6.0, "instrumental_duration_s": 6.0,
            "duration_delta_s": 0.0, "original_path": str(orig_path), "instrumental_path": str(inst_path),
            "original_fingerprint": f"fo{k}", "instrumental_fingerprint": f"fi{k}",
            "marker": "instrumental", "marker_family": "instrumental",
        })
    return pd.DataFrame(rows)


SONGS = [
    {"artist": "Alpha", "lag_s": 0.25, "gain": 0.8},
    {"artist": "Beta", "lag_s": 0.0, "gain": 1.3, "seconds": 14.0},
    {"artist": "Gamma", "lag_s": 1.0, "gain": 1.0},
    {"artist": "Delta", "corrupt": True},
    {"artist": "Alpha", "other": True},
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("features_corpus")
    pairs = make_corpus(root / "corpus", SONGS)
    return root / "corpus", pairs


def catalog_in(tmp_path: Path, corpus_dir: Path, pairs: pd.DataFrame):
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus_dir, tmp_path / "work"), encoding="utf-8")
    catalog = load_catalog(yaml_file)
    write_table(pairs, catalog.pairs, PAIRS_SCHEMA)
    return catalog


@pytest.mark.slow
def test_build_writes_tables_and_shards_and_resumes(tmp_path, corpus, in_process_scheduler):
    catalog = catalog_in(tmp_path, *corpus)
    config = FeaturesConfig(pairs_per_shard=2, workers=1)
    summary = build(catalog=catalog, scheduler=in_process_scheduler, config=config)
    folder = catalog.shards
    index = read_table(folder / "index.parquet", INDEX_SCHEMA)
    quality = read_table(folder / "quality.parquet", QUALITY_SCHEMA).set_index("pair_id")
    rejects = read_table(folder / "rejects.parquet", REJECTS_SCHEMA)
    pairs = corpus[1].set_index("original_id")

    assert summary.pairs == 5 and summary.kept == 3 and summary.shards == 3
    assert summary.excluded == {reasons.UNDECODABLE: 1, reasons.TOO_DIFFERENT: 1}
    assert sorted(rejects["reason"]) == [reasons.TOO_DIFFERENT, reasons.UNDECODABLE]
    assert set(rejects["stage"]) == {"features"}
    assert rejects.set_index("reason").loc[reasons.UNDECODABLE, "track_id"] == "I3"
    for k, spec in enumerate(SONGS[:3]):
        row = quality.loc[pairs.loc[f"O{k}", "pair_id"]]
        assert row["status"] == "kept"
        assert abs(row["offset_s"] - spec["lag_s"]) <= 1.5 / SAMPLE_RATE
        assert abs(row["gain_db"] - 20 * math.log10(spec["gain"])) < 0.2
    # the 14 s song spans two patches, the last one padded
    long_pair = index[index["pair_id"] == pairs.loc["O1", "pair_id"]]
    assert list(long_pair["start_frame"]) == [0, PATCH_FRAMES] and long_pair["valid_frames"].iloc[-1] < PATCH_FRAMES
    # the pairs tile their shards end to end: (2, samples) waveforms at 8192 Hz
    stored = pairs_of(index)
    for shard, rows in stored.groupby("shard"):
        array = open_shard(folder, shard)
        assert array.shape == (2, int(rows["samples"].sum())) and array.dtype == np.float16
        assert list(rows["offset"]) == [0, *np.cumsum(rows["samples"])[:-1]]
    # the derived voice original − g·instrumental is the true vocal stem (time domain, sub-sample alignment)
    for k in range(3):
        row = stored.set_index("pair_id").loc[pairs.loc[f"O{k}", "pair_id"]]
        wave = open_shard(folder, int(row["shard"]))[:, row["offset"] : row["offset"] + row["samples"]].astype(np.float64)
        acc, voc = tone_song(SONGS[k].get("seconds", 6.0), seed=k)
        import soxr

        start = max(0, -int(quality.loc[row.name, "offset_samples"]))
        truth = soxr.resample(voc, SR_FILE, SAMPLE_RATE)[start : start + int(row["samples"])]
        derived = (wave[0] - wave[1])[: len(truth)]
        edge = slice(512, len(truth) - 512)
        sdr = 10 * np.log10(np.sum(truth[edge] ** 2) / np.sum((derived[edge] - truth[edge]) ** 2))
        assert sdr > 25, (k, sdr)  # integer-sample alignment alone gives ~5-19 dB here
        assert abs(row["gain"] - SONGS[k]["gain"]) < 0.02  # instrumental = acc / gain: scaled back to the original
    # the report's example spectrograms: frames of the core STFT of the stored waveforms, X in [0, 1]
    from vocalmine.core.stft import magnitude, stft
    from vocalmine.report.data import example_spectrograms

    long_row = stored.set_index("pair_id").loc[pairs.loc["O1", "pair_id"]]
    wave = open_shard(folder, int(long_row["shard"]))[:, long_row["offset"] : long_row["offset"] + long_row["samples"]]
    mags = magnitude(stft(np.asarray(wave, np.float32))) / long_row["scale"]
    spectra = example_spectrograms(folder, index, long_row.name, start_frame=20, frames=100)
    assert spectra.shape == (3, 512, 100) and spectra[0].max() <= 1.0 + 1e-3
    np.testing.assert_allclose(spectra[:2], mags[:, :, 20:120], atol=1e-3)
    np.testing.assert_allclose(spectra[2], np.maximum(mags[0, :, 20:120] - mags[1, :, 20:120], 0), atol=1e-3)
    assert index.groupby("pair_id")["split"].nunique().max() == 1
    assert (quality.groupby("artist_norm")["split"].nunique() == 1).all()

    # resume: nothing to do, identical index; then a "killed" run: one group lost its part
    # and a writer left a temp file; the rebuilt index is identical
    again = build(catalog=catalog, scheduler=in_process_scheduler, config=config)
    assert again.groups_built == 0 and again.groups_skipped == 3
    pd.testing.assert_frame_equal(read_table(folder / "index.parquet", INDEX_SCHEMA), index)
    part_path(folder, 1).unlink()
    (folder / ".shard-00001.deadbeef.tmp.npy").write_bytes(b"half")
    resumed = build(catalog=catalog, config=config)  # the default: a LocalCluster of worker processes
    assert resumed.groups_built == 1 and resumed.groups_skipped == 2
    assert not list(folder.glob(".*.tmp*"))
    pd.testing.assert_frame_equal(read_table(folder / "index.parquet", INDEX_SCHEMA), index)


def test_nothing_usable_raises_after_writing_quality(tmp_path, corpus, in_process_scheduler):
    corpus_dir, pairs = corpus
    catalog = catalog_in(tmp_path, corpus_dir, pairs.iloc[[3, 4]])
    with pytest.raises(NothingUsableError, match="no pair yielded patches"):
        build(catalog=catalog, scheduler=in_process_scheduler)
    assert len(read_table(catalog.shards / "quality.parquet", QUALITY_SCHEMA)) == 2


@pytest.mark.slow
def test_disk_full_is_one_error_naming_the_shard_and_leaves_no_stale_index(tmp_path, corpus, in_process_scheduler, monkeypatch):
    import errno

    from vocalmine.features import store

    catalog = catalog_in(tmp_path, *corpus)
    build(catalog=catalog, scheduler=in_process_scheduler, config=FeaturesConfig(pairs_per_shard=2, workers=1))
    real_save = store.save_npy_atomic

    def full_disk(target, array):
        if Path(target).name == "shard-00001.npy":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_save(target, array)

    # a rebuild with other settings rewrites every shard; shard 1 hits a full disk
    other = FeaturesConfig(pairs_per_shard=2, workers=1, frame_silence_db=-61.0)
    monkeypatch.setattr(store, "save_npy_atomic", full_disk)
    with pytest.raises(VocalmineError, match=r"shard-00001\.npy: disk full \(No space left on device\)"):
        build(catalog=catalog, scheduler=in_process_scheduler, config=other)
    # the old tables went before the first shard changed: no index describes rewritten shards
    assert not any((catalog.shards / name).exists() for name in ("index.parquet", "quality.parquet", "rejects.parquet"))
    monkeypatch.setattr(store, "save_npy_atomic", real_save)
    resumed = build(catalog=catalog, scheduler=in_process_scheduler, config=other)
    assert resumed.groups_built >= 1 and resumed.groups_built + resumed.groups_skipped == 3
    index = read_table(catalog.shards / "index.parquet", INDEX_SCHEMA)
    for shard, rows in pairs_of(index).groupby("shard"):
        assert open_shard(catalog.shards, shard).shape[1] == rows["samples"].sum()


def test_config_overrides_are_validated():
    assert config_from_overrides({"max_offset_s": "3", "split_fractions": "0.7,0.2,0.1"}).split_fractions == (0.7, 0.2, 0.1)
    with pytest.raises(ConfigError, match="unknown setting\\(s\\) 'max_ofset_s'"):
        config_from_overrides({"max_ofset_s": "3"})
    with pytest.raises(ConfigError, match="pairs_per_shard='many', expected int"):
        config_from_overrides({"pairs_per_shard": "many"})
    with pytest.raises(ConfigError, match="min_align_confidence=2.0"):
        config_from_overrides({"min_align_confidence": "2"})
    assert FeaturesConfig(workers=1).fingerprint() == FeaturesConfig(workers=2).fingerprint()
    assert FeaturesConfig(max_offset_s=1).fingerprint() != FeaturesConfig().fingerprint()


@pytest.fixture
def dask_cluster(tmp_path):
    """A real `dask scheduler` and two `dask worker` processes on 127.0.0.1."""
    dask_bin = Path(sys.executable).with_name("dask")
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen(
        [str(dask_bin), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for name in ("w1", "w2"):
            procs.append(subprocess.Popen(
                [str(dask_bin), "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1", "--nworkers", "1",
                 "--host", "127.0.0.1", "--no-dashboard", "--no-nanny", "--name", name, "--local-directory", str(tmp_path / name)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            ))
        from dask.distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address
    finally:
        # workers run without a nanny, so killing them leaves no orphan; a graceful
        # close would wait for the scheduler's timeouts
        for proc in reversed(procs):
            proc.kill()
            proc.wait(timeout=30)


@pytest.mark.slow
def test_cli_builds_through_a_running_scheduler(tmp_path, corpus, dask_cluster):
    corpus_dir, pairs = corpus
    catalog = catalog_in(tmp_path, corpus_dir, pairs.iloc[:3])
    runner = CliRunner()
    args = ["--scheduler", dask_cluster, "--pairs-per-shard", "1", "--seed", "3", "--set", "max_offset_s=1.5"]
    result = runner.invoke(build_command, args, obj=Context(catalog.source, 0))
    assert result.exit_code == 0, result.output
    assert "pairs: 3 (3 kept; excluded: none)" in result.output
    assert "bytes per audio second" in result.output
    assert all(shard_path(catalog.shards, k).is_file() for k in range(3))
    bad = runner.invoke(build_command, ["--set", "nonsense"], obj=Context(catalog.source, 0))
    assert bad.exit_code != 0 and "expected KEY=VALUE" in str(bad.exception)
