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
from vocalmine.mining.markers import MarkerGroup
from vocalmine.mining.matching import PAIRED
from vocalmine.mining.normalize import analyze_titles
from vocalmine.core.contract.pairs import UNPAIRED_SCHEMA, pair_id_for

ROW_STAGES = ("ingest", "content")  # reject stages whose rows are row fates


def unpaired_rows(tracks: pd.DataFrame, decisions: pd.DataFrame, pairs: pd.DataFrame, rejects: pd.DataFrame,
                  markers: tuple[MarkerGroup, ...] = ()) -> pd.DataFrame:
    """The valid rows that are in no written pair and carry no row-level reject.

    Args:
        tracks: (n rows) tracks that went into pairing (ingest.TRACK_COLUMNS).
        decisions: matching.DECISION_COLUMNS frame of the same run.
        pairs: the written pairs (after content dedupe).
        rejects: every reject of the run (REJECTS columns).
        markers: the catalog's own marker groups the run paired with (MiningConfig.markers).

    Returns:
        UNPAIRED_SCHEMA frame sorted by track_id; the nearest candidate is the best
        ranked one (title score, full-title score, |duration delta|, id).
    """
    placed = set(pairs["original_id"]) | set(pairs["instrumental_id"])
    # ingest rejects are rows that never became tracks (a duplicate_id reject shares its id with a valid row)
    placed |= set(rejects.loc[rejects["stage"] == "content", "track_id"].dropna())
    left = tracks[~tracks["track_id"].isin(placed)].sort_values("track_id", kind="mergesort").reset_index(drop=True)
    infos = analyze_titles(left["title"].to_numpy(dtype=object), markers) if len(left) else []
    is_inst = np.array([i.instrumental for i in infos], dtype=bool)

    cand = decisions[decisions["original_id"].notna()]
    titles = dict(zip(tracks["track_id"], tracks["title"]))
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
    near = near[near["track_id"].isin(set(left["track_id"]))]
    near = near.assign(_delta=near["_delta"].fillna(np.inf)).sort_values(
        ["track_id", "nearest_score", "_full", "_delta", "nearest_id"], ascending=[True, False, False, True, True],
        kind="mergesort")
    near = near.drop_duplicates("track_id", keep="first").set_index("track_id")
    lonely = decisions[decisions["original_id"].isna()].set_index("instrumental_id")["detail"]
    content = rejects[rejects["stage"] == "content"]
    pair_fate = {}
    for pid, reason, detail in zip(content["pair_id"], content["reason"], content["detail"]):
        pair_fate[pid] = f"{reason}: {detail}"

    ids = left["track_id"].to_numpy(dtype=object)
    got = near.reindex(ids)
    reason = got["reason"].to_numpy(dtype=object)
    detail = got["detail"].to_numpy(dtype=object)
    nearest = got["nearest_id"].to_numpy(dtype=object)
    none = pd.isna(reason)
    reason = np.where(none, np.where(is_inst, R.NO_ORIGINAL, R.NO_INSTRUMENTAL), reason).astype(object)
    no_cand = [lonely.get(t, "no original by the same artist with a close title") if inst else
               "no instrumental by the same artist with a close title" for t,
               inst in zip(ids.tolist(), is_inst.tolist())]
    detail = np.where(none, np.array(no_cand + [None], dtype=object)[:-1], detail).astype(object)
    for k in np.flatnonzero(reason == PAIRED).tolist():
        o, i = (ids[k], nearest[k]) if not is_inst[k] else (nearest[k], ids[k])
        reason[k] = R.PAIR_REJECTED
        detail[k] = f"its pair with {nearest[k]} was set aside: " + pair_fate.get(pair_id_for(o, i), "content stage")
    return pd.DataFrame({
        "track_id": pd.Series(ids, dtype=object),
        "role": pd.Series(np.where(is_inst, "instrumental", "original"), dtype=object),
        "artist": left["artist"].to_numpy(dtype=object),
        "title": left["title"].to_numpy(dtype=object),
        "duration_s": left["duration_s"].to_numpy(dtype=np.float64),
        "marker": pd.Series([i.marker for i in infos], dtype=object),
        "marker_family": pd.Series([i.family for i in infos], dtype=object),
        "reason": pd.Series(reason, dtype=object),
        "nearest_id": pd.Series([None if pd.isna(x) else x for x in nearest], dtype=object),
        "nearest_title": pd.Series([None if pd.isna(x) else titles.get(x) for x in nearest], dtype=object),
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
