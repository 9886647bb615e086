"""Content dedupe of pairs, pure: undecodable, same_content, duplicate_recording."""

from __future__ import annotations

import json

import pandas as pd

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.fingerprint import FileSummary
from vocalmine.mining.matching import sorted_by_ids

STAGE = "content"


def _reject(pair: pd.Series, reason: str, track_id: str, detail: str) -> dict:
    row = {k: pair[k]
           for k in ("original_id", "instrumental_id", "original_path", "instrumental_path", "original_fingerprint",
                     "instrumental_fingerprint")}
    return {"stage": STAGE, "reason": reason, "track_id": track_id, "pair_id": pair["pair_id"], "detail": detail,
            "row": json.dumps(row, ensure_ascii=False)}


def dedupe_pairs(pairs: pd.DataFrame, *, summaries: dict[str, FileSummary],
                 canonical: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set aside pairs decided on decoded audio.

    Args:
        pairs: (n rows) pairs with original_path / instrumental_path.
        summaries: path -> FileSummary (error set when undecodable).
        canonical: path -> hex fingerprint, equal for files of the same content.

    Returns:
        kept pairs (fingerprint columns filled, sorted by original_id, instrumental_id),
        content rejects (REJECTS columns). A pair with an undecodable file is
        recorded on that file's track (the instrumental when both fail); a
        mislabelled instrumental and a re-released pair on the instrumental.
    """
    pairs = sorted_by_ids(pairs.assign(
        original_fingerprint=[canonical.get(p, "") for p in pairs["original_path"]],
        instrumental_fingerprint=[canonical.get(p, "") for p in pairs["instrumental_path"]],
    ), ["original_id", "instrumental_id"])
    rejects: list[dict] = []
    keep: list[int] = []
    seen: dict[tuple[str, str], str] = {}
    for _, pair in pairs.iterrows():
        bad_i = summaries[pair["instrumental_path"]].error
        bad_o = summaries[pair["original_path"]].error
        if bad_i or bad_o:
            track = pair["instrumental_id"] if bad_i else pair["original_id"]
            rejects.append(_reject(pair, R.UNDECODABLE, track, bad_i or bad_o))
            continue
        if pair["original_fingerprint"] == pair["instrumental_fingerprint"]:
            detail = (f"instrumental {pair['instrumental_id']} decodes to the same audio as original "
                      f"{pair['original_id']} (fingerprint {pair['original_fingerprint']})")
            rejects.append(_reject(pair, R.SAME_CONTENT, pair["instrumental_id"], detail))
            continue
        content = (pair["original_fingerprint"], pair["instrumental_fingerprint"])
        if content in seen:
            rejects.append(_reject(pair, R.DUPLICATE_RECORDING, pair["instrumental_id"],
                                   f"same recordings as the kept pair {seen[content]}"))
            continue
        # Sorted by (original_id, instrumental_id): the first of a content group is kept.
        seen[content] = f"{pair['original_id']} + {pair['instrumental_id']}"
        keep.append(pair.name)
    kept = pairs.loc[keep].reset_index(drop=True)
    return kept, pd.DataFrame(rejects, columns=["stage", "reason", "track_id", "pair_id", "detail", "row"])
