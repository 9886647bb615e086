"""Catalog paths that escape the audio root, and tampered checkpoints.

Every audio path of a catalog row that resolves outside the audio root
(`../../etc/passwd`, an absolute path elsewhere, `..` inside, a symlink to a
file or folder outside) is an ingest reject path_escapes_root; a pairs.parquet
edited to point outside is refused by `build` too. A checkpoint whose pickle
carries a payload is refused by load_checkpoint and by the commands that load
models, and the payload never runs.
"""

from __future__ import annotations

import pandas as pd
import pytest
import soundfile as sf

from vocalmine.core.catalog import ColumnMap, TrackCatalog, load_catalog
from vocalmine.core.errors import CatalogError, ConfigError
from vocalmine.core.paths import resolve_under
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.ingest import ingest


@pytest.fixture
def rooted(tmp_path, rb):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "audio").mkdir(parents=True)
    outside.mkdir()
    sf.write(root / "audio" / "in.wav", rb.tone(1.0), 8192)
    sf.write(outside / "secret.wav", rb.tone(1.0), 8192)
    (root / "audio" / "link_out.wav").symlink_to(outside / "secret.wav")
    (root / "audio" / "link_in.wav").symlink_to(root / "audio" / "in.wav")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    return root, outside


def _ingest(root, paths):
    rows = [[f"T{i}", "A", f"Song {i}", "1", p] for i, p in enumerate(paths)]
    csv_path = root / "catalog.csv"
    pd.DataFrame(rows, columns=["track_id", "artist", "title", "duration", "audio_path"]).to_csv(csv_path, index=False)
    cols = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration", audio_path="audio_path")
    return ingest(TrackCatalog(path=csv_path, audio_root=root, columns=cols), config=MiningConfig())


def test_escaping_paths_are_rejected(rooted):
    root, outside = rooted
    escaping = ["../../etc/passwd", "/etc/passwd", str(outside / "secret.wav"), "audio/../../outside/secret.wav",
                "audio/link_out.wav", "dirlink/secret.wav", "../" * 40 + "etc/passwd"]
    valid, rejects, n = _ingest(root, escaping)
    assert n == len(escaping) and valid.empty
    assert list(rejects["reason"]) == [R.PATH_ESCAPES_ROOT] * len(escaping)
    assert all("outside" in d for d in rejects["detail"])


def test_paths_inside_the_root_are_accepted(rooted):
    root, _ = rooted
    inside = ["audio/in.wav", str(root / "audio" / "in.wav"), "audio/../audio/in.wav", "audio/link_in.wav"]
    valid, rejects, n = _ingest(root, inside)
    assert rejects.empty and len(valid) == n == 4
    assert set(valid["audio_path"]) == {str((root / "audio" / "in.wav").resolve())}


def test_nul_byte_path_is_refused(rooted):
    root, _ = rooted
    with pytest.raises(CatalogError, match="NUL"):
        resolve_under(root, "audio/in.wav\x00../../etc/passwd")


def test_symlink_loop_is_a_reject(rooted):
    """Regression: Path.resolve() raised RuntimeError('Symlink loop') through ingest."""
    root, _ = rooted
    (root / "audio" / "loop.wav").symlink_to(root / "audio" / "loop.wav")
    valid, rejects, n = _ingest(root, ["audio/loop.wav", "audio/in.wav"])
    assert n == 2 and len(valid) == 1 and list(rejects["reason"]) == [R.AUDIO_NOT_FOUND]
    assert "cannot be resolved" in rejects["detail"].iloc[0]


def test_overlong_file_name_is_a_reject(rooted):
    """Regression (found by the hypothesis test): is_file() raised OSError(ENAMETOOLONG) through ingest."""
    root, _ = rooted
    valid, rejects, n = _ingest(root, ["audio/" + "x" * 300 + ".wav", "audio/in.wav"])
    assert n == 2 and len(valid) == 1 and list(rejects["reason"]) == [R.AUDIO_NOT_FOUND]


def test_build_refuses_pairs_edited_to_escape(rb, mined, tmp_path):
    """pairs.parquet is an artifact a user can edit: build re-checks every path against the audio root."""
    from vocalmine.core.tables import read_table
    from vocalmine.features.group import process_group
    from vocalmine.features.config import FeaturesConfig
    from vocalmine.core.contract.pairs import PAIRS_SCHEMA

    cat = load_catalog(mined)
    pairs = read_table(cat.pairs, PAIRS_SCHEMA).head(2).copy()
    pairs.loc[0, "instrumental_path"] = "/etc/passwd"
    pairs.loc[1, "original_path"] = "../../../../etc/hostname"
    process_group(group=0, pairs=pairs.to_dict("records"), folder=tmp_path, audio_root=cat.tracks.audio_root, config=FeaturesConfig())
    import json

    part = json.loads((tmp_path / "parts" / "group-00000.json").read_text())
    assert [q["reason"] for q in part["quality"]] == ["undecodable", "undecodable"]
    assert all("escapes the declared root" in r["detail"] for r in part["rejects"])
    assert part["patches"] == []


# -- tampered checkpoints ----------------------------------------------------------------------


def test_load_checkpoint_refuses_a_pickle_payload(rb, tmp_path):
    from vocalmine.model.checkpoint import load_checkpoint

    marker = tmp_path / "PAYLOAD_RAN"
    files = rb.write_tampered_checkpoints(tmp_path / "ckpt", marker)
    assert len(files) == 2
    for path in files.values():
        with pytest.raises(ConfigError, match="refused to load checkpoint"):
            load_checkpoint(path)
    assert not marker.exists()


def test_payload_would_run_with_a_plain_unpickler(rb, tmp_path):
    """The guard above is meaningful: the same file, loaded without weights_only, does create the marker."""
    import pickle

    marker = tmp_path / "PAYLOAD_RAN"
    files = rb.write_tampered_checkpoints(tmp_path / "ckpt", marker)
    pickle.loads(files["raw pickle with a __reduce__ payload"].read_bytes()).get("payload").close()
    assert marker.exists()


@pytest.mark.slow
def test_commands_refuse_a_tampered_model(rb, mined, tmp_path):
    """`vocalmine separate` and `evaluate` with a tampered best.pt: exit 1, one line, no payload (the bench adds train --resume)."""
    yaml_file = rb.clone_workspace(mined, tmp_path / "ws")
    marker = tmp_path / "PAYLOAD_RAN"
    rb.write_tampered_checkpoints(tmp_path / "ckpt", marker)
    cat = load_catalog(yaml_file)
    for target in ("vocals", "instrumental"):
        (cat.models / target).mkdir(parents=True)
        for name in ("best.pt", "last.pt"):
            (cat.models / target / name).write_bytes((tmp_path / "ckpt" / "zip.pt").read_bytes())
    mixture = sorted(cat.eval_set.audio_root.glob("*.mixture.wav"))[0]
    for args in (["separate", str(mixture)], ["evaluate", "--models", "unet", "--serial", "--no-oracle"]):
        res = rb.run_cli(yaml_file, args, timeout=240)
        assert res.returncode == 1, (args, res.stderr[-500:])
        assert "Traceback" not in res.stderr, res.stderr[-2000:]
        assert res.stderr.strip().splitlines()[-1].startswith("error: "), res.stderr
        assert "refused to load checkpoint" in res.stderr
    assert not marker.exists()
