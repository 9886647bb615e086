"""Content dedupe of pairs, pure: undecodable, same_content, duplicate_recording."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.fingerprint import FileSummary
from vocalmine.mining.matching import sorted_by_ids

STAGE = "content"


ROW_FIELDS = ("original_id", "instrumental_id", "original_path", "instrumental_path", "original_fingerprint",
              "instrumental_fingerprint")  # what a content reject's row keeps of its pair


def _reject(pair, reason: str, track_id: str, detail: str) -> dict:
    """A content reject of ``pair`` (a mapping of pair_id and ROW_FIELDS: a row or a dict)."""
    row = {k: pair[k] for k in ROW_FIELDS}
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
    # Column-wise, not row by row: a catalog with audio has up to millions of pairs (iterrows: ~40 µs a row)
    error_o = np.array([summaries[p].error for p in pairs["original_path"]], dtype=object)
    error_i = np.array([summaries[p].error for p in pairs["instrumental_path"]], dtype=object)
    bad_o, bad_i = error_o.astype(bool), error_i.astype(bool)
    originals = pairs["original_id"].to_numpy(dtype=object)
    instrumentals = pairs["instrumental_id"].to_numpy(dtype=object)
    fingerprints = pairs[["original_fingerprint", "instrumental_fingerprint"]]
    undecodable = bad_o | bad_i
    same = ~undecodable & (fingerprints["original_fingerprint"] == fingerprints["instrumental_fingerprint"]).to_numpy()
    rest = ~undecodable & ~same
    # Sorted by (original_id, instrumental_id): the first pair of a content group is kept, the others name it.
    duplicate = np.zeros(len(pairs), dtype=bool)
    duplicate[rest] = fingerprints[rest].duplicated(keep="first").to_numpy()
    label = pd.Series(originals + " + " + instrumentals, index=pairs.index)
    kept_label = label[rest].groupby([fingerprints.loc[rest, c] for c in fingerprints.columns],
                                     sort=False).transform("first")
    rejects = []
    columns = {k: pairs[k].to_numpy(dtype=object) for k in ("pair_id", *ROW_FIELDS)}
    for k in np.flatnonzero(undecodable | same | duplicate).tolist():
        o, i = originals[k], instrumentals[k]
        if undecodable[k]:
            reason, track, detail = R.UNDECODABLE, (i if bad_i[k] else o), (error_i[k] if bad_i[k] else error_o[k])
        elif same[k]:
            reason, track = R.SAME_CONTENT, i
            detail = (f"instrumental {i} decodes to the same audio as original {o} "
                      f"(fingerprint {fingerprints.iat[k, 0]})")
        else:
            reason, track, detail = R.DUPLICATE_RECORDING, i, f"same recordings as the kept pair {kept_label[k]}"
        rejects.append(_reject({key: values[k] for key, values in columns.items()}, reason, track, detail))
    kept = pairs[~(undecodable | same | duplicate)].reset_index(drop=True)
    return kept, pd.DataFrame(rejects, columns=["stage", "reason", "track_id", "pair_id", "detail", "row"])
