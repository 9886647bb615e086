"""On generated demo corpora: pairs equal truth_pairs.csv, every mining trap is rejected as expected, every row accounted for."""

from __future__ import annotations

import pandas as pd
import pytest

from vocalmine.core.catalog import catalog_for_corpus, load_catalog
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.demo import plan as P
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.mine import mine
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, UNPAIRED_SCHEMA

MINING_STAGES = ("ingest", "pairing", "content")
OTHER_SEED = 2027  # a corpus the matcher was not written against (the session corpus uses seed 7)


def _read_truth(corpus, name: str) -> pd.DataFrame:
    return pd.read_csv(corpus / name, dtype=str, keep_default_na=False)


def _precision_recall(catalog, corpus) -> tuple[float, float, set, set]:
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    truth = _read_truth(corpus, "truth_pairs.csv")
    found = set(zip(pairs["original_id"], pairs["instrumental_id"]))
    expected = set(zip(truth["original_id"], truth["instrumental_id"]))
    hits = len(found & expected)
    return hits / max(len(found), 1), hits / len(expected), found - expected, expected - found


def _check_spelling_traps(catalog, corpus) -> None:
    """Each spelling trap of the corpus ends where it should: in a pair, or (truncated audio) in the rejects."""
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)
    unpaired = read_table(catalog.unpaired, UNPAIRED_SCHEMA)
    tracks = _read_truth(corpus, "truth_tracks.csv")
    paired = set(pairs["original_id"]) | set(pairs["instrumental_id"])
    for trap in (P.EDIT_ONE_SIDE, P.CREDIT, P.UNDATED):
        ids = set(tracks.loc[tracks["trap"] == trap, "track_id"])
        assert ids and ids <= paired, (trap, ids - paired)
    cut = tracks.loc[tracks["trap"] == P.TRUNCATED, "track_id"].tolist()
    row = rejects[rejects["track_id"].isin(cut) & (rejects["stage"] == "content")]
    assert row["reason"].tolist() == [R.DURATION_MISMATCH] and "decoded audio lasts" in row["detail"].iloc[0]
    # every pair names its marker and family; the corpus holds each family
    assert (pairs["marker"] != "").all() and set(pairs["marker_family"]) >= {"instrumental", "karaoke", "off_vocal"}
    # every row in exactly one place (also asserted inside mine)
    n_rows = len(tracks)
    row_level = rejects[rejects["stage"].isin(("ingest", "content"))]
    assert 2 * len(pairs) + len(unpaired) + len(row_level) == n_rows
    orphans = tracks.loc[tracks["trap"].isin([P.ORPHAN, P.OTHER_ARTIST]), "track_id"]
    assert set(unpaired.loc[unpaired["reason"] == R.NO_ORIGINAL, "track_id"]) >= set(orphans)


@pytest.mark.slow
def test_demo_corpus_precision_recall_and_traps(demo_catalog, demo_corpus):
    summary = mine(catalog=demo_catalog, scheduler="sync")
    pairs = read_table(demo_catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(demo_catalog.rejects, REJECTS_SCHEMA)
    precision, recall, extra, lost = _precision_recall(demo_catalog, demo_corpus)
    assert (precision, recall) == (1.0, 1.0), (extra, lost)
    assert pairs["pair_id"].is_unique and (pairs["original_fingerprint"] != pairs["instrumental_fingerprint"]).all()

    tracks = _read_truth(demo_corpus, "truth_tracks.csv")
    got = {(s, r, t if isinstance(t, str) else "") for s, r, t in zip(rejects["stage"], rejects["reason"], rejects["track_id"])}
    traps = tracks[tracks["expected_stage"].isin(MINING_STAGES)]
    assert len(traps) >= 12
    missing = [(s, r, t) for s, r, t in zip(traps["expected_stage"], traps["expected_reason"], traps["track_id"]) if (s, r, t) not in got]
    assert missing == []
    # Ingest and content rejects name only trap tracks (pairing candidates may name a paired instrumental).
    trap_rows = set(zip(traps["expected_stage"], traps["expected_reason"], traps["track_id"]))
    stray = [g for g in got if g[0] in ("ingest", "content") and g not in trap_rows]
    assert stray == []
    content = traps[traps["expected_stage"] == "content"]
    assert summary.pairs == len(pairs) and summary.rejected["content"] == content["expected_reason"].value_counts().to_dict()
    _check_spelling_traps(demo_catalog, demo_corpus)

    # The dask.dataframe engine gives the same tables; fingerprints now come from the cache.
    unpaired = read_table(demo_catalog.unpaired, UNPAIRED_SCHEMA)
    again = mine(catalog=demo_catalog, engine="dask", scheduler="sync")
    assert again.files_decoded == 0 and again.files_cached == summary.files_decoded
    pd.testing.assert_frame_equal(read_table(demo_catalog.pairs, PAIRS_SCHEMA), pairs)
    pd.testing.assert_frame_equal(read_table(demo_catalog.rejects, REJECTS_SCHEMA), rejects)
    pd.testing.assert_frame_equal(read_table(demo_catalog.unpaired, UNPAIRED_SCHEMA), unpaired)
    # its artist partitions' unpaired parts (settled with the content stage's outcome) are gone
    from vocalmine.core.tables import parts_folder

    assert not parts_folder(demo_catalog.unpaired).exists()


@pytest.fixture(scope="module")
def other_corpus(tmp_path_factory):
    from vocalmine.demo.corpus import generate_corpus

    out = tmp_path_factory.mktemp("demo_other_seed")
    generate_corpus(out, songs=P.MIN_SONGS, eval_songs=2, seed=OTHER_SEED, song_seconds=(5.0, 7.0))
    return out


@pytest.mark.slow
def test_other_seed_corpus_precision_recall(other_corpus, tmp_path):
    yaml_file = tmp_path / "data_catalog.yaml"
    yaml_file.write_text(catalog_for_corpus(yaml_file, other_corpus, tmp_path / "work"), encoding="utf-8")
    catalog = load_catalog(yaml_file)
    mine(catalog=catalog, scheduler="sync")
    precision, recall, extra, lost = _precision_recall(catalog, other_corpus)
    assert (precision, recall) == (1.0, 1.0), (extra, lost)
    _check_spelling_traps(catalog, other_corpus)
