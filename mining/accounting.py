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

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vocalmine.core.contract import mining_reasons as R
from vocalmine.core.atomic import atomic_path
from vocalmine.core.tables import REJECTS_SCHEMA
from vocalmine.mining.matching import PAIRED
from vocalmine.core.contract.pairs import UNPAIRED_SCHEMA, pair_id_for

ROW_STAGES = ("ingest", "content")  # reject stages whose rows are row fates


def _ids(values) -> pd.Index:
    # object, not pandas' Arrow strings: their isin and reindex go through Python lists (4 s per 10^6 rows)
    return pd.Index(np.asarray(values, dtype=object), dtype=object)


def unpaired_rows(tracks: pd.DataFrame, decisions: pd.DataFrame, pairs: pd.DataFrame,
                  rejects: pd.DataFrame, *, sort: bool = True) -> pd.DataFrame:
    """The valid rows that are in no written pair and carry no row-level reject.

    Args:
        tracks: (n rows) tracks that went into pairing, with what their titles said (engines.KEPT_COLUMNS).
        decisions: matching.DECISION_COLUMNS frame of the same run.
        pairs: the written pairs (after content dedupe).
        rejects: every reject of the run (REJECTS columns).

    Returns:
        UNPAIRED_SCHEMA frame, sorted by track_id unless ``sort`` is False (in the order of ``tracks``);
        the nearest candidate is the best ranked one (title score, full-title score, |duration delta|, id).
    """
    placed = np.concatenate([pairs["original_id"].to_numpy(dtype=object),
                             pairs["instrumental_id"].to_numpy(dtype=object),
                             # ingest rejects are rows that never became tracks (a duplicate_id reject shares its id)
                             rejects.loc[rejects["stage"] == "content", "track_id"].dropna().to_numpy(dtype=object)])
    track_ids = tracks["track_id"].to_numpy(dtype=object)
    # hash joins throughout: a catalog of 10^7 rows leaves millions of rows unpaired
    left = tracks[~_ids(track_ids).isin(placed)]
    left = (left.sort_values("track_id", kind="mergesort") if sort else left).reset_index(drop=True)
    ids = left["track_id"].to_numpy(dtype=object)
    is_inst = left["is_instrumental"].to_numpy(dtype=bool)

    cand = decisions[decisions["original_id"].notna()]
    sides = []
    for me, other, other_title in (("original_id", "instrumental_id", "instrumental_title"),
                                   ("instrumental_id", "original_id", "original_title")):
        sides.append(pd.DataFrame({
            "track_id": cand[me].to_numpy(dtype=object), "nearest_id": cand[other].to_numpy(dtype=object),
            "nearest_title": cand[other_title].to_numpy(dtype=object),
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
    nearest_title = np.where(has_nearest, got["nearest_title"].to_numpy(dtype=object), None).astype(object)
    return pd.DataFrame({
        "track_id": pd.Series(ids, dtype=object),
        "role": pd.Series(np.where(is_inst, "instrumental", "original"), dtype=object),
        "artist": pd.Series(left["artist"].to_numpy(dtype=object), dtype=object),
        "title": pd.Series(left["title"].to_numpy(dtype=object), dtype=object),
        "duration_s": left["duration_s"].to_numpy(dtype=np.float64),
        "marker": pd.Series(left["marker"].to_numpy(dtype=object), dtype=object),
        "marker_family": pd.Series(left["marker_family"].to_numpy(dtype=object), dtype=object),
        "reason": pd.Series(reason, dtype=object),
        "nearest_id": pd.Series(nearest, dtype=object),
        "nearest_title": pd.Series(nearest_title, dtype=object),
        "nearest_score": got["nearest_score"].to_numpy(dtype=np.float64),
        "detail": pd.Series(detail, dtype=object),
    })[UNPAIRED_SCHEMA.names]


def write_unpaired_part(folder: Path, number: int, tracks: pd.DataFrame, decisions: pd.DataFrame) -> None:
    """One artist partition's unpaired rows as if each of its matched pairs were kept (atomic).

    An uncompressed Arrow IPC file, not Parquet: the part lives for one run and :func:`settle_unpaired` maps it
    without decoding (reading 66 Parquet parts of 10^7 rows' unpaired tracks took 2.5 s of the client's time).
    """
    folder.mkdir(parents=True, exist_ok=True)
    matched = decisions[decisions["status"] == PAIRED]
    rows = unpaired_rows(tracks, decisions, matched, pd.DataFrame(columns=REJECTS_SCHEMA.names), sort=False)
    # sorted in Arrow, not in pandas: a third of the cost, and settle_unpaired's sort of every part together
    # runs 4x faster on sorted runs
    table = pa.Table.from_pandas(rows, schema=UNPAIRED_SCHEMA, preserve_index=False)
    table = table.take(pc.sort_indices(table, [("track_id", "ascending")]))
    with atomic_path(folder / f"part-{number:05d}.arrow") as tmp, pa.OSFile(str(tmp), "wb") as sink, \
            pa.ipc.new_file(sink, UNPAIRED_SCHEMA) as writer:
        writer.write_table(table)


def settle_unpaired(folder: Path, decisions: pd.DataFrame, pairs: pd.DataFrame, rejects: pd.DataFrame) -> pa.Table:
    """The unpaired table from the partitions' parts, with the rows of the matched pairs content dedupe set aside.

    Equal to :func:`unpaired_rows` over every track (a row's fate depends only on its own candidates,
    all in its artist partition), without any process holding every track.

    Args:
        folder: the parts (:func:`write_unpaired_part`).
        decisions: every decision of the run; pairs: the written pairs; rejects: every reject.

    Returns:
        UNPAIRED_SCHEMA table sorted by track_id.
    """
    matched = decisions[decisions["status"] == PAIRED]
    # a pair set aside by content dedupe leaves both of its tracks (one may carry a content reject)
    dropped = matched[~_ids(matched["original_id"]).isin(pairs["original_id"].to_numpy(dtype=object))]
    tables = [pa.ipc.open_file(pa.memory_map(str(part))).read_all()
              for part in sorted(Path(folder).glob("part-*.arrow"))]
    if len(dropped):
        sides = [pd.DataFrame({"track_id": dropped["original_id"], "artist": dropped["artist"],
                               "title": dropped["original_title"], "duration_s": dropped["original_duration_s"],
                               "is_instrumental": False, "marker": "", "marker_family": ""}),
                 pd.DataFrame({"track_id": dropped["instrumental_id"], "artist": dropped["instrumental_artist"],
                               "title": dropped["instrumental_title"], "duration_s": dropped["instrumental_duration_s"],
                               "is_instrumental": True, "marker": dropped["marker"],
                               "marker_family": dropped["marker_family"]})]
        tracks = pd.concat(sides, ignore_index=True).astype({c: object for c in ("track_id", "artist", "title")})
        ids = tracks["track_id"].to_numpy(dtype=object)
        involved = (_ids(decisions["original_id"]).isin(ids) | _ids(decisions["instrumental_id"]).isin(ids))
        rows = unpaired_rows(tracks, decisions[involved], pairs, rejects)
        tables.append(pa.Table.from_pandas(rows, schema=UNPAIRED_SCHEMA, preserve_index=False))
    # taken from the parts' chunks as they are: combining them first ran faster in a warm process, but in
    # `mine`'s it took 7-9 s against 6-7 s at 10^7 rows (two fresh copies of the table to fault in)
    table = pa.concat_tables(tables) if tables else UNPAIRED_SCHEMA.empty_table()
    return table.take(pc.sort_indices(table, [("track_id", "ascending")]))


def remove_parts(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def reason_counts(reasons) -> dict[str, int]:
    """reason -> rows, of a pandas or Arrow column."""
    counts = pc.value_counts(_arrow_strings(reasons))
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))


def _arrow_strings(values) -> pa.ChunkedArray:
    if isinstance(values, pa.ChunkedArray):
        return values.cast(pa.string())
    return pa.chunked_array([pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)])


def check_accounting(*, n_rows: int, pairs: pd.DataFrame, unpaired: pd.DataFrame | pa.Table,
                     rejects: pd.DataFrame) -> None:
    """Assert that every data row ends in exactly one of: a pair, the unpaired list, a row-level reject."""
    row_level = rejects[rejects["stage"].isin(ROW_STAGES)]
    content = rejects.loc[rejects["stage"] == "content", "track_id"]
    placed = pa.chunked_array([chunk for values in (pairs["original_id"], pairs["instrumental_id"],
                                                    unpaired["track_id"], content)
                               for chunk in _arrow_strings(values).chunks], type=pa.string())
    # unique runs in half the time of value_counts (0.5 s against 1.1 s on 1.5 M ids); counts only name offenders
    if len(pc.unique(placed)) < len(placed):
        counts = pc.value_counts(placed)
        twice = counts.filter(pc.greater(counts.field("counts"), 1))
        raise AssertionError(f"rows in more than one place: {twice.field('values')[:5].to_pylist()}")
    total = 2 * len(pairs) + len(unpaired) + len(row_level)
    assert total == n_rows, (f"{n_rows} rows read but {2 * len(pairs)} in pairs + {len(unpaired)} unpaired "
                             f"+ {len(row_level)} rejected = {total}")
