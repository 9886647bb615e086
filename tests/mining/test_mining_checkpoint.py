"""`mine` killed while decoding: the fingerprints decoded so far are on disk, and the rerun decodes only the rest;
a full disk while `mine` writes is one error naming the file."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd
import pytest

import vocalmine.mining.fingerprint_cache as fc
from tests.mining.test_mining_content import build_corpus
from vocalmine.core.catalog import load_catalog
from vocalmine.core.contract.pairs import FINGERPRINTS_SCHEMA, PAIRS_SCHEMA
from vocalmine.core.errors import VocalmineError
from vocalmine.core.tables import read_table
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.mine import mine

pytestmark = pytest.mark.slow
SECONDS = MiningConfig().fingerprint_seconds


def cache_rows(path) -> pd.DataFrame:
    return read_table(path, FINGERPRINTS_SCHEMA).sort_values("path", ignore_index=True)


def test_a_run_interrupted_while_decoding_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    catalog = load_catalog(build_corpus(tmp_path))
    mine(catalog=catalog, scheduler="sync")  # the uninterrupted run, then its outputs removed
    expected_cache, expected_pairs = cache_rows(catalog.fingerprints), read_table(catalog.pairs, PAIRS_SCHEMA)
    for path in (catalog.fingerprints, catalog.pairs, catalog.rejects, catalog.unpaired):
        path.unlink()

    monkeypatch.setattr(fc, "CHECKPOINT_S", 0.0)  # a part after every file
    real, calls = fc.fingerprint_file, []

    def dies_at_the_fourth(path, seconds):
        calls.append(path)
        if len(calls) == 4:
            raise KeyboardInterrupt  # the kill, as far as this process's files can tell
        return real(path, seconds)

    monkeypatch.setattr(fc, "fingerprint_file", dies_at_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        mine(catalog=catalog, scheduler="sync")
    parts = sorted(fc.parts_folder(catalog.fingerprints).glob("part-*.parquet"))
    assert len(parts) == 3 and not catalog.fingerprints.exists() and not catalog.pairs.exists()
    assert len(fc.load_cache(catalog.fingerprints, seconds=SECONDS)) == 3

    monkeypatch.setattr(fc, "fingerprint_file", real)
    summary = mine(catalog=catalog, scheduler="sync")
    assert (summary.files_decoded, summary.files_cached) == (5, 3)
    assert not fc.parts_folder(catalog.fingerprints).exists()  # absorbed into the cache
    pd.testing.assert_frame_equal(cache_rows(catalog.fingerprints), expected_cache)
    pd.testing.assert_frame_equal(read_table(catalog.pairs, PAIRS_SCHEMA), expected_pairs)


def test_parts_left_by_a_run_killed_after_decoding_are_absorbed_by_the_next(tmp_path, monkeypatch):
    catalog = load_catalog(build_corpus(tmp_path))
    monkeypatch.setattr(fc, "CHECKPOINT_S", 0.0)
    mine(catalog=catalog, scheduler="sync")
    rows = cache_rows(catalog.fingerprints)
    # as if killed between the last part and the cache: the parts hold everything, the cache nothing
    checkpoint = fc.Checkpoint(catalog.fingerprints, seconds=SECONDS)
    for key, fp in fc.load_cache(catalog.fingerprints, seconds=SECONDS).items():
        checkpoint.add(key, fp)
    catalog.fingerprints.unlink()
    again = mine(catalog=catalog, scheduler="sync")
    assert (again.files_decoded, again.files_cached) == (0, 8)
    assert not fc.parts_folder(catalog.fingerprints).exists()
    pd.testing.assert_frame_equal(cache_rows(catalog.fingerprints), rows)


def test_parts_merged_while_decoding_give_the_same_cache_and_pairs(tmp_path, monkeypatch):
    """Parts are merged MAX_PARTS at a time while files decode (so that the final merge reads few files), and
    the cache and pairs are those of a run that merged none."""
    catalog = load_catalog(build_corpus(tmp_path))
    mine(catalog=catalog, scheduler="sync")
    expected_cache, expected_pairs = cache_rows(catalog.fingerprints), read_table(catalog.pairs, PAIRS_SCHEMA)
    for path in (catalog.fingerprints, catalog.pairs, catalog.rejects, catalog.unpaired):
        path.unlink()
    monkeypatch.setattr(fc, "CHECKPOINT_S", 0.0)
    monkeypatch.setattr(fc, "MAX_PARTS", 2)
    monkeypatch.setattr(fc, "BATCH_ROWS", 3)  # several row groups per file: the merge reads them in turn
    seen = []
    real_save = fc.save_cache

    def save(path, **kwargs):
        seen.append(sorted(p.name.rsplit("-", 1)[1] for p in fc.cache_files(path)))
        return real_save(path, **kwargs)

    monkeypatch.setattr(fc, "save_cache", save)
    mine(catalog=catalog, scheduler="sync")
    assert seen == [["m.parquet"] * 4]  # 8 files, one part each, merged two by two
    pd.testing.assert_frame_equal(cache_rows(catalog.fingerprints), expected_cache)
    pd.testing.assert_frame_equal(read_table(catalog.pairs, PAIRS_SCHEMA), expected_pairs)
    rows = read_table(catalog.fingerprints, FINGERPRINTS_SCHEMA)
    assert rows["path"].is_monotonic_increasing  # the merge writes in key order


@pytest.mark.parametrize("victim", ["fingerprints.parquet.parts", "fingerprints.parquet", "pairs.parquet"])
def test_a_full_disk_while_mine_writes_is_one_error_naming_the_file(tmp_path, monkeypatch, victim):
    import vocalmine.core.tables as tables
    import vocalmine.mining.mine as mine_module

    catalog = load_catalog(build_corpus(tmp_path))
    monkeypatch.setattr(fc, "CHECKPOINT_S", 0.0)

    def filling(real):
        def full(df, path, *args, **kwargs):
            if victim in os.fspath(path):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as pyarrow raises it: no file name
            return real(df, path, *args, **kwargs)
        return full

    def filling_temp(real):  # mine writes its tables to temp files named .STEM.TOKEN.tmp.parquet
        def full(table, path, *args, **kwargs):
            if Path(path).name.startswith(f".{Path(victim).stem}."):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(table, path, *args, **kwargs)
        return full

    monkeypatch.setattr(fc, "write_batches", filling(tables.write_batches))
    monkeypatch.setattr(mine_module.pq, "write_table", filling_temp(mine_module.pq.write_table))
    with pytest.raises(VocalmineError) as info:
        mine(catalog=catalog, scheduler="sync")
    message = str(info.value)
    assert "\n" not in message and "disk full" in message and victim in message


def test_files_are_decoded_in_batches_that_cover_every_file_once():
    from vocalmine.mining.fingerprint_cache import FILES_PER_TASK, file_batches

    paths = [f"f{k:05d}.wav" for k in range(1000)]
    batches = file_batches(paths, n_workers=2)
    assert [p for b in batches for p in b] == paths
    assert max(map(len, batches)) == FILES_PER_TASK and len(batches) == -(-1000 // FILES_PER_TASK)
    small = file_batches(paths[:40], n_workers=2)  # few files: at least four batches per worker
    assert len(small) == 8 and [p for b in small for p in b] == paths[:40]
    assert [len(b) for b in file_batches(paths[:5], n_workers=2, files_per_task=1)] == [1] * 5
