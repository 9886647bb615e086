"""On the generated demo corpus: pairs equal truth_pairs.csv, every mining trap is rejected as expected."""

from __future__ import annotations

import pandas as pd

from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.mining.pipeline import mine
from vocalmine.mining.schema import PAIRS_SCHEMA

MINING_STAGES = ("ingest", "pairing", "content")


def _read_truth(corpus, name: str) -> pd.DataFrame:
    return pd.read_csv(corpus / name, dtype=str, keep_default_na=False)


def test_demo_corpus_precision_recall_and_traps(demo_catalog, demo_corpus):
    summary = mine(catalog=demo_catalog, scheduler="sync")
    pairs = read_table(demo_catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(demo_catalog.rejects, REJECTS_SCHEMA)
    truth = _read_truth(demo_corpus, "truth_pairs.csv")
    found = set(zip(pairs["original_id"], pairs["instrumental_id"]))
    expected = set(zip(truth["original_id"], truth["instrumental_id"]))
    true_positives = len(found & expected)
    precision = true_positives / len(found)
    recall = true_positives / len(expected)
    assert (precision, recall) == (1.0, 1.0), (found - expected, expected - found)
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
    assert summary.pairs == len(expected) and summary.rejected["content"] == {
        r: int((traps["expected_reason"] == r).sum()) for r in traps.loc[traps["expected_stage"] == "content", "expected_reason"].unique()
    }

    # The dask.dataframe engine gives the same tables; fingerprints now come from the cache.
    again = mine(catalog=demo_catalog, engine="dask", scheduler="sync")
    assert again.files_decoded == 0 and again.files_cached == summary.files_decoded
    pd.testing.assert_frame_equal(read_table(demo_catalog.pairs, PAIRS_SCHEMA), pairs)
    pd.testing.assert_frame_equal(read_table(demo_catalog.rejects, REJECTS_SCHEMA), rejects)
