"""Content dedupe decisions (mining/dedupe.py) on a hand-made set of pairs."""

from __future__ import annotations

import json

import pandas as pd

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.dedupe import dedupe_pairs
from vocalmine.mining.fingerprint import FileSummary


def summary(error: str = "") -> FileSummary:
    return FileSummary(duration_s=3.0, error=error, signature=None, digest="")


def test_each_reason_names_its_track_and_a_re_release_names_the_pair_kept_before_it():
    # rows out of id order: the decisions follow (original_id, instrumental_id) order
    pairs = pd.DataFrame({
        "pair_id": ["p5", "p1", "p4", "p2", "p3", "p6"],
        "original_id": ["O5", "O1", "O4", "O2", "O3", "O6"],
        "instrumental_id": ["I5", "I1", "I4", "I2", "I3", "I6"],
        "original_path": ["o5", "o1", "o4", "o2", "o3", "o6"],
        "instrumental_path": ["i5", "i1", "i4", "i2", "i3", "i6"],
    })
    summaries = {p: summary() for p in [*pairs["original_path"], *pairs["instrumental_path"]]}
    summaries["o2"] = summary("o2: cannot decode audio")
    summaries["i6"] = summary("i6: cannot decode audio")
    canonical = {"o1": "A", "i1": "B", "o3": "C", "i3": "C", "o4": "A", "i4": "B", "o5": "A", "i5": "B",
                 "o2": "D", "i2": "E", "o6": "F", "i6": "G"}
    kept, rejects = dedupe_pairs(pairs, summaries=summaries, canonical=canonical)
    assert kept["pair_id"].tolist() == ["p1"]
    assert kept[["original_fingerprint", "instrumental_fingerprint"]].values.tolist() == [["A", "B"]]
    assert rejects[["pair_id", "reason", "track_id"]].values.tolist() == [
        ["p2", R.UNDECODABLE, "O2"],
        ["p3", R.SAME_CONTENT, "I3"],
        ["p4", R.DUPLICATE_RECORDING, "I4"],
        ["p5", R.DUPLICATE_RECORDING, "I5"],
        ["p6", R.UNDECODABLE, "I6"],
    ]
    details = dict(zip(rejects["pair_id"], rejects["detail"]))
    assert details["p2"] == "o2: cannot decode audio"
    assert details["p3"] == "instrumental I3 decodes to the same audio as original O3 (fingerprint C)"
    assert details["p4"] == details["p5"] == "same recordings as the kept pair O1 + I1"
    assert json.loads(rejects["row"].iloc[2]) == {
        "original_id": "O4", "instrumental_id": "I4", "original_path": "o4", "instrumental_path": "i4",
        "original_fingerprint": "A", "instrumental_fingerprint": "B"}
    assert set(rejects.columns) == {"stage", "reason", "track_id", "pair_id", "detail", "row"}
    assert (rejects["stage"] == "content").all()
