"""Every catalog row accounted for: pairs, unpaired rows with their nearest candidate, rejects.

Each data row of the track CSV ends in exactly one place:

- a pair (pairs.parquet: two rows per pair);
- a row-level reject (rejects.parquet, stage ingest or content: one row, one reason);
- the unpaired list (unpaired.parquet): a valid row with no partner, with the
  nearest candidate considered and why it lost.

Rejects of stage "pairing" are candidate verdicts (an (original, instrumental)
combination that was considered and set aside), not row fates: they are the
"why it lost" behind the unpaired list. :func:`check_accounting` asserts the
partition at the end of every `mine`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.matching import PAIRED
from vocalmine.core.contract.pairs import UNPAIRED_SCHEMA, pair_id_for

ROW_STAGES = ("ingest", "content")  # reject stages whose rows are row fates


def _ids(values) -> pd.Index:
    # object, not pandas' Arrow strings: their isin and reindex go through Python lists (4 s per 10^6 rows)
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


def unpaired_rows(tracks: pd.DataFrame, decisions: pd.DataFrame, pairs: pd.DataFrame,
                  rejects: pd.DataFrame) -> pd.DataFrame:
    """The valid rows that are in no written pair and carry no row-level reject.

    Args:
        tracks: (n rows) tracks that went into pairing, with what their titles said (engines.KEPT_COLUMNS).
        decisions: matching.DECISION_COLUMNS frame of the same run.
        pairs: the written pairs (after content dedupe).
        rejects: every reject of the run (REJECTS columns).

    Returns:
        UNPAIRED_SCHEMA frame sorted by track_id; the nearest candidate is the best
        ranked one (title score, full-title score, |duration delta|, id).
    """
    placed = np.concatenate([pairs["original_id"].to_numpy(dtype=object),
                             pairs["instrumental_id"].to_numpy(dtype=object),
                             # ingest rejects are rows that never became tracks (a duplicate_id reject shares its id)
                             rejects.loc[rejects["stage"] == "content", "track_id"].dropna().to_numpy(dtype=object)])
    track_ids = tracks["track_id"].to_numpy(dtype=object)
    # hash joins throughout: a catalog of 10^7 rows leaves millions of rows unpaired
    left = tracks[~_ids(track_ids).isin(placed)]
    left = left.sort_values("track_id", kind="mergesort").reset_index(drop=True)
    ids = left["track_id"].to_numpy(dtype=object)
    is_inst = left["is_instrumental"].to_numpy(dtype=bool)

    cand = decisions[decisions["original_id"].notna()]
    sides = []
    for me, other in (("original_id", "instrumental_id"), ("instrumental_id", "original_id")):
        sides.append(pd.DataFrame({
            "track_id": cand[me].to_numpy(dtype=object), "nearest_id": cand[other].to_numpy(dtype=object),
            "nearest_score": cand["title_score"].to_numpy(dtype=np.float64),
            "_full": cand["full_score"].to_numpy(dtype=np.float64),
            "_delta": np.abs(cand["duration_delta_s"].to_numpy(dtype=np.float64)),
            "reason": cand["status"].to_numpy(dtype=object),
            "detail": cand["detail"].to_numpy(dtype=object),
        }))
    near = pd.concat(sides, ignore_index=True)
    near = near[_ids(near["track_id"].to_numpy(dtype=object)).isin(ids)]
    near = near.assign(_delta=near["_delta"].fillna(np.inf)).sort_values(
        ["track_id", "nearest_score", "_full", "_delta", "nearest_id"], ascending=[True, False, False, True, True],
        kind="mergesort")
    near = near.drop_duplicates("track_id", keep="first").set_index("track_id")
    got = near.reindex(ids)
    reason = got["reason"].to_numpy(dtype=object)
    detail = got["detail"].to_numpy(dtype=object)
    nearest = got["nearest_id"].to_numpy(dtype=object)
    none = pd.isna(reason)
    reason = np.where(none, np.where(is_inst, R.NO_ORIGINAL, R.NO_INSTRUMENTAL), reason).astype(object)
    lonely = decisions[decisions["original_id"].isna()]
    lonely = pd.Series(lonely["detail"].to_numpy(dtype=object), index=_ids(lonely["instrumental_id"]))
    no_cand = np.where(is_inst, lonely.reindex(ids).fillna("no original by the same artist with a close title")
                       .to_numpy(dtype=object), "no instrumental by the same artist with a close title").astype(object)
    detail = np.where(none, no_cand, detail).astype(object)
    content = rejects[rejects["stage"] == "content"]
    pair_fate = {pid: f"{reason}: {detail}" for pid, reason, detail in
                 zip(content["pair_id"], content["reason"], content["detail"])}
    for k in np.flatnonzero(reason == PAIRED).tolist():
        o, i = (ids[k], nearest[k]) if not is_inst[k] else (nearest[k], ids[k])
        reason[k] = R.PAIR_REJECTED
        detail[k] = f"its pair with {nearest[k]} was set aside: " + pair_fate.get(pair_id_for(o, i), "content stage")
    has_nearest = ~pd.isna(nearest)
    nearest = np.where(has_nearest, nearest, None).astype(object)
    titles = pd.Series(tracks["title"].to_numpy(dtype=object), index=_ids(track_ids))
    nearest_title = np.where(has_nearest, titles.reindex(nearest).to_numpy(dtype=object), None).astype(object)
    return pd.DataFrame({
        "track_id": pd.Series(ids, dtype=object),
        "role": pd.Series(np.where(is_inst, "instrumental", "original"), dtype=object),
        "artist": left["artist"].to_numpy(dtype=object),
        "title": left["title"].to_numpy(dtype=object),
        "duration_s": left["duration_s"].to_numpy(dtype=np.float64),
        "marker": pd.Series(left["marker"].to_numpy(dtype=object), dtype=object),
        "marker_family": pd.Series(left["marker_family"].to_numpy(dtype=object), dtype=object),
        "reason": pd.Series(reason, dtype=object),
        "nearest_id": pd.Series(nearest, dtype=object),
        "nearest_title": pd.Series(nearest_title, dtype=object),
        "nearest_score": got["nearest_score"].to_numpy(dtype=np.float64),
        "detail": pd.Series(detail, dtype=object),
    })[UNPAIRED_SCHEMA.names]


def check_accounting(*, n_rows: int, pairs: pd.DataFrame, unpaired: pd.DataFrame, rejects: pd.DataFrame) -> None:
    """Assert that every data row ends in exactly one of: a pair, the unpaired list, a row-level reject."""
    row_level = rejects[rejects["stage"].isin(ROW_STAGES)]
    placed = [*pairs["original_id"], *pairs["instrumental_id"], *unpaired["track_id"],
              *rejects.loc[rejects["stage"] == "content", "track_id"]]
    counts = pd.Series(placed, dtype=object).value_counts()
    twice = counts[counts > 1]
    assert twice.empty, f"rows in more than one place: {twice.index[:5].tolist()}"
    total = 2 * len(pairs) + len(unpaired) + len(row_level)
    assert total == n_rows, (f"{n_rows} rows read but {2 * len(pairs)} in pairs + {len(unpaired)} unpaired "
                             f"+ {len(row_level)} rejected = {total}")
