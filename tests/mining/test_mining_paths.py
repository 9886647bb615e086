"""pairs.parquet stores audio paths relative to the catalog's audio root: a data folder can move, a path cannot escape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

import pytest

from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.paths import resolve_under
from vocalmine.core.tables import read_table
from vocalmine.mining.mine import mine
from vocalmine.core.contract.pairs import PAIRS_SCHEMA


def _catalog(yaml_file: Path, corpus: Path, work: Path):
    yaml_file.parent.mkdir(parents=True, exist_ok=True)
    yaml_file.write_text(catalog_for_corpus(yaml_file, corpus, work), encoding="utf-8")
    return load_catalog(yaml_file)


@pytest.mark.slow
def test_a_mined_data_folder_can_be_moved_and_built(tmp_path, demo_corpus, in_process_scheduler):
    from vocalmine.features.config import FeaturesConfig
    from vocalmine.features.build import build
    from vocalmine.core.contract.shards import QUALITY_FILE, QUALITY_SCHEMA

    data = tmp_path / "data"
    shutil.copytree(demo_corpus, data / "corpus")
    catalog = _catalog(data / "data_catalog.yaml", data / "corpus", data / "work")
    mine(catalog=catalog, scheduler="sync")
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    assert len(pairs) >= 3
    for path in [*pairs["original_path"], *pairs["instrumental_path"]]:
        # POSIX, relative, inside the root: no absolute path and no "..", and the file is there
        assert not PurePosixPath(path).is_absolute() and ".." not in PurePosixPath(path).parts and "\\" not in path
        assert (catalog.tracks.audio_root / path).is_file()

    # Move the whole folder (audio and work) and point a new catalog, kept elsewhere, at it.
    moved = tmp_path / "moved" / "elsewhere"
    moved.parent.mkdir()
    (data).rename(moved)
    assert not data.exists()
    catalog = _catalog(tmp_path / "config" / "data_catalog.yaml", moved / "corpus", moved / "work")
    assert read_table(catalog.pairs, PAIRS_SCHEMA).equals(pairs)  # the artifact itself is unchanged by the move
    build(catalog=catalog, scheduler=in_process_scheduler, config=FeaturesConfig(workers=1))
    quality = read_table(catalog.shards / QUALITY_FILE, QUALITY_SCHEMA)
    assert sorted(quality["pair_id"]) == sorted(pairs["pair_id"])
    # every pair was read: none failed to load (the gates may still exclude a pair on its audio)
    assert "undecodable" not in set(quality["reason"]), quality[["pair_id", "reason"]]


def test_a_pairs_row_that_escapes_the_audio_root_is_rejected_not_read(tmp_path, monkeypatch):
    import numpy as np

    from vocalmine.core.audio import write_audio
    from vocalmine.core.errors import CatalogError
    from vocalmine.features import group
    from vocalmine.features.config import FeaturesConfig

    root = tmp_path / "root"
    (root / "album").mkdir(parents=True)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(4 * 8192) / 8192)).astype(np.float32)
    write_audio(root / "album" / "o.wav", tone, 8192)
    write_audio(tmp_path / "x.wav", tone, 8192)  # a real file, readable, just outside the root
    read: list[str] = []
    real_decode_pair = group.decode_pair

    def spy(*paths):
        read.extend(str(p) for p in paths)
        return real_decode_pair(*paths)

    monkeypatch.setattr(group, "decode_pair", spy)
    pair = {"pair_id": "p0", "original_id": "O", "instrumental_id": "I", "original_path": "album/o.wav",
            "instrumental_path": "../x.wav"}
    group.process_group(group=0, pairs=[pair], folder=tmp_path / "shards", audio_root=root, config=FeaturesConfig())
    part = json.loads((tmp_path / "shards" / "parts" / "group-00000.json").read_text())
    assert [q["reason"] for q in part["quality"]] == ["undecodable"]
    assert "'../x.wav' escapes the declared root" in part["rejects"][0]["detail"]
    assert read == [] and part["patches"] == []
    with pytest.raises(CatalogError, match="escapes the declared root"):
        resolve_under(root, "../x.wav")
