"""Catalog ingest: the track CSV's records (mining/csv_reader.py) through the column mapping, validated.

A malformed row never stops the run: it becomes a reject (stage "ingest") with
its reason and the original row as JSON; a record whose field count is not the
header's is a malformed_row reject holding its text ({"raw": ...}). A file that
is not a UTF-8 CSV, has a broken header row, or lacks a mapped column, raises
CatalogError naming the file and the column.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vocalmine.core.catalog import TrackCatalog
from vocalmine.core.errors import CatalogError
from vocalmine.core.paths import resolve_under
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.csv_reader import CsvBlock, read_csv_block, read_header

log = logging.getLogger(__name__)

STAGE = "ingest"
# Columns of the valid-track frame handed to matching.
TRACK_COLUMNS = ("track_id", "artist", "title", "duration_s", "audio_path")
_MMSS = r"^\s*(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d*)?)\s*$"
# Duration cells that mean "unknown" rather than a wrong value (--missing-duration keep keeps their rows).
MISSING_DURATION = r"\s*(?:|n/?a|\?+|-+|[-\s]*:[-\s]*(?::[-\s]*)?|none|null|nan|unknown|tbd)\s*"
# The same for RE2, which reads a column at a time (Python's re costs a call per row), with \s spelled as
# Python's re reads it in a str (RE2's \s is ASCII only); the classes first, then the bare \s* at the ends.
_SPACE = r"\s\x0b\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_MISSING_DURATION_RE2 = "^" + MISSING_DURATION.replace(r"[-\s]", f"[-{_SPACE}]").replace(r"\s*", f"[{_SPACE}]*") + "$"


def missing_durations(text: pd.Series) -> np.ndarray:
    """(n,) bool: the duration cells that say "unknown" (MISSING_DURATION, case-insensitive, whole cell)."""
    cells = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    return pc.fill_null(pc.match_substring_regex(cells, _MISSING_DURATION_RE2, ignore_case=True),
                        False).to_numpy(zero_copy_only=False)


def malformed_rows(block: CsvBlock, *, expected: int) -> pd.DataFrame:
    """Rejects malformed_row of a block's malformed records, as finalize_rows frames them (row: {"raw": text})."""
    rows = block.bad_rows
    return pd.DataFrame(
        {
            "_row": rows.astype(np.int64),
            **{c: pd.Series([""] * len(rows), dtype=object) for c in ("track_id", "artist", "title")},
            "duration_s": np.full(len(rows), np.nan),
            "audio_path": pd.Series([""] * len(rows), dtype=object),
            "reason": pd.Series([R.MALFORMED_ROW] * len(rows), dtype=object),
            "detail": pd.Series(
                [f"row {r + 2}: {n} fields where the header has {expected} (a stray delimiter or quote?)"
                 for r, n in zip(rows.tolist(), block.bad_fields.tolist())], dtype=object),
            "row": pd.Series([json.dumps({"raw": t}, ensure_ascii=False) for t in block.bad_text], dtype=object),
        }
    )


def parse_durations(values: pd.Series, *, unit: str) -> np.ndarray:
    """Durations in seconds from strings: numbers (s or ms) or "m:ss" / "h:mm:ss".

    Args:
        values: (n,) strings.
        unit: "auto" (m:ss strings, other numbers as seconds), "s", "ms" or "m:ss".

    Returns:
        (n,) float64 seconds; NaN where empty or unparseable.
    """
    text = values.astype(str).str.strip()
    numbers = pd.to_numeric(text.where(~text.str.contains(":", regex=False), ""),
                            errors="coerce").to_numpy(dtype=np.float64)
    if unit == "ms":
        return numbers / 1000.0
    if unit == "s":
        return numbers
    parts = text.str.extract(_MMSS)
    mmss = (
        pd.to_numeric(parts[0], errors="coerce").fillna(0.0).to_numpy() * 3600.0
        + pd.to_numeric(parts[1], errors="coerce").to_numpy() * 60.0
        + pd.to_numeric(parts[2], errors="coerce").to_numpy()
    )
    seconds_ok = (pd.to_numeric(parts[2], errors="coerce") < 60).to_numpy()
    mmss = np.where(seconds_ok, mmss, np.nan)
    if unit == "m:ss":
        return mmss
    return np.where(np.isnan(mmss), numbers, mmss)


def check_columns(names: list[str], tracks: TrackCatalog) -> None:
    """Raise CatalogError naming the file and every mapped column the CSV lacks, optional ones included."""
    mapped = {field: column for field, column in dataclasses.asdict(tracks.columns).items() if column is not None}
    absent = [f"{part!r} (mapped to {field})" for field, column in mapped.items()
              for part in (_id_parts(column) if field == "track_id" else [column]) if part not in names]
    if absent:
        raise CatalogError(f"{tracks.path}: missing column {', '.join(absent)}; columns are {list(names)}")
    for field, column in mapped.items():
        for part in _id_parts(column) if field == "track_id" else [column]:
            if names.count(part) > 1:
                raise CatalogError(
                    f"{tracks.path}: column {part!r} (mapped to {field}) appears {names.count(part)} times "
                    "in the header; "
                    "rename or remove the extra ones"
                )


RAW = "raw:"  # prefix of the original CSV columns inside a validated frame


@dataclass(frozen=True)
class RowFields:
    """The mapped fields of a block of rows, parsed but not yet judged: (n,) each, positional."""

    track_id: pd.Series  # str ids ("" when any id part is empty), see track_ids
    artist: pd.Series  # str, stripped
    title: pd.Series  # str, stripped
    duration_text: pd.Series  # the duration cell as written, stripped
    duration_s: np.ndarray  # float64 seconds parsed from duration_text; NaN where empty or unparseable


def parse_fields(raw: pd.DataFrame, *, tracks: TrackCatalog) -> RowFields:
    """The mapped fields of CSV rows, through the catalog's column mapping and duration unit.

    Args:
        raw: (n rows) CSV columns as str, positional index.
        tracks: the catalog's track section.
    """
    cols = tracks.columns
    duration_text = raw[cols.duration].str.strip()
    return RowFields(
        track_id=track_ids(raw, cols.track_id),
        artist=raw[cols.artist].str.strip(),
        title=raw[cols.title].str.strip(),
        duration_text=duration_text,
        duration_s=parse_durations(duration_text, unit=tracks.duration_unit),
    )


def _flag(reason: np.ndarray, detail: np.ndarray, mask: np.ndarray, code: str, message) -> None:
    """Set ``code`` and its detail (a str, or a function of the row position) where mask holds and no reason is
    set yet."""
    mask = mask & (reason == "")
    if mask.any():
        reason[mask] = code
        detail[mask] = [message(i) for i in np.flatnonzero(mask)] if callable(message) else message


def unusable_durations(fields: RowFields) -> np.ndarray:
    """(n,) bool: rows whose duration is not a positive number of seconds (empty, unparseable, <= 0)."""
    return ~(np.isfinite(fields.duration_s) & (fields.duration_s > 0))


def field_reasons(fields: RowFields, *, tracks: TrackCatalog, config: MiningConfig) -> tuple[np.ndarray, np.ndarray]:
    """The first failing field check of each row, in order: id, title, artist, duration.

    With an audio column no duration is rejected here: the decoded audio decides at
    `mine` (mining/audio_check.py). Without one, missing_duration="keep" keeps rows
    whose duration cell says "unknown" (MISSING_DURATION).

    Returns:
        (reason, detail): (n,) object arrays, "" where every field check passes.
    """
    cols = tracks.columns
    n = len(fields.title)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    _flag(reason, detail, (fields.track_id == "").to_numpy(), R.MISSING_ID,
          f"empty track id (column {cols.track_id!r})")
    _flag(reason, detail, (fields.title == "").to_numpy(), R.MISSING_TITLE, f"empty title (column {cols.title!r})")
    _flag(reason, detail, (fields.artist == "").to_numpy(), R.MISSING_ARTIST, f"empty artist (column {cols.artist!r})")
    missing = missing_durations(fields.duration_text)
    unusable = unusable_durations(fields)
    if cols.audio_path is not None:
        bad = np.zeros(n, dtype=bool)
    elif config.missing_duration == "keep":
        bad = unusable & ~missing
    else:
        bad = unusable
    _flag(reason, detail, bad, R.BAD_DURATION, lambda i: (
        f"duration {fields.duration_text.iat[i]!r} is not a positive {tracks.duration_unit} duration"
        + (" (--missing-duration keep keeps rows whose duration is missing)" if missing[i] else "")))
    return reason, detail


def check_audio_path(audio_root, relative: str) -> tuple[str, str, str]:
    """One catalog audio path against the audio root.

    Returns:
        (absolute path, "", "") for a file inside the root, else ("", reason, detail) with
        reason path_escapes_root or audio_not_found.
    """
    try:
        resolved = resolve_under(audio_root, relative)
    except CatalogError as exc:
        if exc.__cause__ is not None:  # "cannot be resolved": a symlink loop, a name too long
            return "", R.AUDIO_NOT_FOUND, f"audio path {relative!r} cannot be resolved ({exc.__cause__})"
        return "", R.PATH_ESCAPES_ROOT, f"audio path {relative!r} resolves outside {audio_root}"
    try:
        found, why = resolved.is_file(), "not found"
    except OSError as exc:  # Path.is_file only swallows "not found": ENAMETOOLONG, EACCES, EIO raise
        found, why = False, f"not readable ({exc.strerror or exc})"
    if not found:
        return "", R.AUDIO_NOT_FOUND, f"audio file {str(resolved)!r} {why}"
    return str(resolved), "", ""


def audio_path_reasons(raw: pd.DataFrame, early: np.ndarray, *, tracks: TrackCatalog) -> tuple[np.ndarray, np.ndarray,
                                                                                               np.ndarray]:
    """Resolve the audio path of every row that passed the field checks.

    Args:
        raw: (n rows) CSV columns as str, positional index.
        early: (n,) field-check reasons; rows with one are not looked up.
        tracks: the catalog's track section (audio column and root).

    Returns:
        (reason, detail, path): (n,) object arrays; path is absolute where the file was
        found, "" elsewhere (and everywhere in a metadata-only catalog).
    """
    n = len(raw)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    paths = np.full(n, "", dtype=object)
    column = tracks.columns.audio_path
    if column is None:
        return reason, detail, paths
    rel = raw[column].str.strip()
    _flag(reason, detail, (rel == "").to_numpy(), R.MISSING_AUDIO_PATH, f"empty audio path (column {column!r})")
    for i in np.flatnonzero((early == "") & (reason == "")):
        paths[i], reason[i], detail[i] = check_audio_path(tracks.audio_root, rel.iat[i])
    return reason, detail, paths


def validate_rows(raw: pd.DataFrame, *, tracks: TrackCatalog, config: MiningConfig) -> pd.DataFrame:
    """Row-local checks of a block of CSV rows (every check but duplicate ids).

    Args:
        raw: (n rows) CSV columns as str, "" for empty cells; index: data-row numbers (CsvBlock.raw).
        tracks: the catalog's track section (mapping, unit, audio root).
        config: mining settings (missing_duration).

    Returns:
        (n rows) frame: _row, parsed fields (track_id, artist, title, duration_s,
        audio_path), _early/_early_detail (id, title, artist, duration reasons),
        _late/_late_detail (audio path reasons), and the raw columns prefixed RAW.
    """
    rows = raw.index.to_numpy(dtype=np.int64)
    raw = raw.reset_index(drop=True)
    fields = parse_fields(raw, tracks=tracks)
    early, early_detail = field_reasons(fields, tracks=tracks, config=config)
    late, late_detail, paths = audio_path_reasons(raw, early, tracks=tracks)
    # object columns: matching works on Python strings (pandas 3 would convert to Arrow and back)
    frame = pd.DataFrame(
        {
            "_row": rows,
            "track_id": pd.Series(fields.track_id.to_numpy(dtype=object), dtype=object),
            "artist": pd.Series(fields.artist.to_numpy(dtype=object), dtype=object),
            "title": pd.Series(fields.title.to_numpy(dtype=object), dtype=object),
            # NaN: missing, or left to the decoded audio
            "duration_s": np.where(unusable_durations(fields), np.nan, fields.duration_s),
            "audio_path": pd.Series(paths, dtype=object),
            "_early": pd.Series(early, dtype=object),
            "_early_detail": pd.Series(early_detail, dtype=object),
            "_late": pd.Series(late, dtype=object),
            "_late_detail": pd.Series(late_detail, dtype=object),
        }
    )
    return pd.concat([frame, raw.add_prefix(RAW)], axis=1)


def duplicate_rows(frame: pd.DataFrame) -> np.ndarray:
    """_row numbers whose non-empty track id appeared on an earlier row (any partition holding whole ids)."""
    ids = frame[["track_id", "_row"]]
    ids = ids[ids["track_id"] != ""].sort_values("_row", kind="mergesort")
    return ids.loc[ids["track_id"].duplicated(keep="first"), "_row"].to_numpy(dtype=np.int64)


def finalize_rows(frame: pd.DataFrame, *, duplicates: np.ndarray) -> pd.DataFrame:
    """Final reason per row (priority: early checks, duplicate id, audio path) and JSON of rejected rows.

    Returns:
        frame with TRACK_COLUMNS, _row, reason, detail, row (JSON; "" for valid rows).
    """
    reason = frame["_early"].to_numpy(dtype=object).copy()
    detail = frame["_early_detail"].to_numpy(dtype=object).copy()
    dup = np.isin(frame["_row"].to_numpy(), duplicates) & (reason == "")
    reason[dup] = R.DUPLICATE_ID
    detail[dup] = [f"track id {t!r} already used on an earlier row"
                   for t in frame["track_id"].to_numpy(dtype=object)[dup]]
    late = (reason == "") & (frame["_late"].to_numpy(dtype=object) != "")
    reason[late] = frame["_late"].to_numpy(dtype=object)[late]
    detail[late] = frame["_late_detail"].to_numpy(dtype=object)[late]
    rejected = reason != ""
    # by position: real exports repeat column names (Spotify's "decade,decade")
    raw_pos = [k for k, c in enumerate(frame.columns) if c.startswith(RAW)]
    names = [frame.columns[k][len(RAW):] for k in raw_pos]
    row_json = np.full(len(frame), "", dtype=object)
    if rejected.any():
        values = frame.iloc[np.flatnonzero(rejected), raw_pos].to_numpy(dtype=object).tolist()
        row_json[rejected] = [json.dumps(dict(zip(names, row)), ensure_ascii=False) for row in values]
    rows = frame["_row"].to_numpy()
    detail[rejected] = [f"row {r + 2}: {d}" for r, d in zip(rows[rejected].tolist(), detail[rejected].tolist())]
    out = frame[["_row", *TRACK_COLUMNS]].copy()
    out["reason"] = pd.Series(reason, index=out.index, dtype=object)
    out["detail"] = pd.Series(detail, index=out.index, dtype=object)
    out["row"] = pd.Series(row_json, index=out.index, dtype=object)
    return out


def split_rows(final: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid tracks with TRACK_COLUMNS, ingest rejects with REJECTS columns), in row order."""
    final = final.sort_values("_row", kind="mergesort")
    ok = (final["reason"] == "").to_numpy()
    valid = final.loc[ok, list(TRACK_COLUMNS)].reset_index(drop=True)
    bad = final.loc[~ok]
    rejects = pd.DataFrame(
        {
            "stage": STAGE,
            "reason": bad["reason"].to_numpy(dtype=object),
            "track_id": [t if t else None for t in bad["track_id"].to_numpy(dtype=object)],
            "pair_id": None,
            "detail": bad["detail"].to_numpy(dtype=object),
            "row": bad["row"].to_numpy(dtype=object),
        }
    )
    return valid, rejects


def ingest(tracks: TrackCatalog, *, config: MiningConfig) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read and validate the track catalog (in memory; see engines.pair_catalog for the dask path).

    Returns:
        valid: one row per usable track, columns TRACK_COLUMNS (duration_s float
            seconds, NaN only under missing_duration="keep"; audio_path absolute or "").
        rejects: REJECTS_SCHEMA columns, stage "ingest", in row order (malformed records included).
        n_rows: data records read (len(valid) + len(rejects)).

    Raises:
        CatalogError: not a CSV, a broken header row, or a mapped column is absent (names file and column).
    """
    names = read_header(tracks.path, delimiter=tracks.delimiter)
    check_columns(names, tracks)
    block = read_csv_block(tracks.path, names=names, path=tracks.path, delimiter=tracks.delimiter)
    frame = validate_rows(block.raw, tracks=tracks, config=config)
    final = finalize_rows(frame, duplicates=duplicate_rows(frame))
    if len(block.bad_rows):
        final = pd.concat([final, malformed_rows(block, expected=len(names))], ignore_index=True)
    valid, rejects = split_rows(final)
    log.info("ingest: %d rows read, %d valid, %d rejected (%d malformed)", block.n_records, len(valid), len(rejects),
             len(block.bad_rows))
    return valid, rejects, block.n_records


def _id_parts(column: str) -> list[str]:
    # "release_id+position" builds ids from several columns (Discogs has no track id).
    return column.split("+")


def track_ids(raw: pd.DataFrame, column: str) -> pd.Series:
    """Track ids as str: the mapped column, or several joined by ':' ("release_id+position"); "" when any part is
    empty."""
    parts = _id_parts(column)
    ids = raw[parts[0]].str.strip()
    for part in parts[1:]:
        other = raw[part].str.strip()
        ids = (ids + ":" + other).where((ids != "") & (other != ""), "")
    return ids
