"""Catalog ingest: read the track CSV through the column mapping and validate rows.

A malformed row never stops the run: it becomes a reject (stage "ingest") with
its reason and the original row as JSON; a record whose field count is not the
header's is a malformed_row reject holding its text ({"raw": ...}). A file that
is not a UTF-8 CSV, has a broken header row, or lacks a mapped column, raises
CatalogError naming the file and the column.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vocalmine.core.catalog import TrackCatalog
from vocalmine.core.errors import CatalogError
from vocalmine.core.paths import resolve_under
from vocalmine.mining import reasons as R
from vocalmine.mining.config import MiningConfig

log = logging.getLogger(__name__)

STAGE = "ingest"
# Columns of the valid-track frame handed to matching.
TRACK_COLUMNS = ("track_id", "artist", "title", "duration_s", "audio_path")
_MMSS = r"^\s*(?:(\d+):)?(\d+):(\d{1,2}(?:\.\d*)?)\s*$"
# Duration cells that mean "unknown" rather than a wrong value (--missing-duration keep keeps their rows).
MISSING_DURATION = r"\s*(?:|n/?a|\?+|-+|[-\s]*:[-\s]*(?::[-\s]*)?|none|null|nan|unknown|tbd)\s*"


_HEAD_BYTES = 1 << 16  # the header row must end within the file's first 64 KiB


def read_header(path: Path, *, delimiter: str = ",") -> list[str]:
    """Column names of a CSV file: its first record, parsed as a CSV record (quotes respected).

    Only "\\r" and "\\n" end the record (not the other code points str.splitlines
    breaks at, such as U+2028 or "\\x0c"); names are stripped of surrounding blanks.

    Raises:
        CatalogError: when the file is missing, binary, has no header row, or a
            header that is not UTF-8 or does not end within its first 64 KiB.
    """
    if not path.is_file():
        raise CatalogError(f"{path}: track catalog not found")
    try:
        with path.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
            more = bool(fh.read(1))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the track catalog ({exc})") from exc
    if b"\x00" in head:
        raise CatalogError(f"{path}: not a CSV file (binary content)")
    # surrogateescape keeps a non-UTF-8 byte visible (a lone surrogate) instead of a silent U+FFFD
    text = head.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    buffer = io.StringIO(text, newline="")
    try:
        record = next(csv.reader(buffer, delimiter=delimiter), [])
    except csv.Error as exc:
        raise CatalogError(f"{path}: not a CSV file (header row: {exc})") from exc
    if more and buffer.tell() >= len(text) and not text.endswith(("\n", "\r")):
        raise CatalogError(f"{path}: the header row does not end within the first {_HEAD_BYTES // 1024} KiB (an unclosed quote?)")
    if not record or (len(record) == 1 and not record[0].strip()):
        raise CatalogError(f"{path}: not a CSV file (empty, no header row)")
    names = [n.strip() for n in record]
    for name in names:
        if any("\udc80" <= ch <= "\udcff" for ch in name):
            raw = name.encode("utf-8", errors="surrogateescape")
            raise CatalogError(f"{path}: the header row is not UTF-8 (column name {raw!r}); save the catalog as UTF-8")
    return names


@dataclass(frozen=True)
class CsvBlock:
    """The records of a CSV file or block: well-formed rows, and the malformed ones set apart."""

    raw: pd.DataFrame  # (n_ok rows) columns as str, "" for empty cells; index: data-row numbers (0 = first after the header)
    bad_rows: np.ndarray  # (n_bad,) int64 data-row numbers of the records whose field count is not the header's
    bad_text: tuple[str, ...]  # (n_bad,) their text as read (no line end)
    bad_fields: np.ndarray  # (n_bad,) int64 their field counts
    n_records: int  # n_ok + n_bad: every data record read, none lost


_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"(?!")')  # a closed quoted field ("" inside is a quote)


def _open_quote(text: str, delimiter: str) -> bool:
    """Whether a record's text ends inside a quoted field (arrow opens quotes only at a field's start)."""
    pos = 0
    while True:
        if text.startswith('"', pos):
            match = _QUOTED.match(text, pos)
            if match is None:
                return True
            pos = match.end()
        pos = text.find(delimiter, pos)
        if pos < 0:
            return False
        pos += 1


def _check_utf8(source, *, path: Path) -> None:
    """Raise CatalogError unless the file or bytes are UTF-8 (arrow cannot hand a non-UTF-8 malformed row over)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        if isinstance(source, (bytes, bytearray)):
            decoder.decode(source, final=True)
            return
        with open(source, "rb") as fh:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
                offset += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: not a CSV file that can be parsed (invalid UTF8 near byte {offset + exc.start}; "
                           "save the catalog as UTF-8)") from exc
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the track catalog ({exc})") from exc


def _string_frame(table: pa.Table, names: list[str], rows: np.ndarray) -> pd.DataFrame:
    return table.rename_columns(names).to_pandas().fillna("").set_axis(pd.Index(rows, dtype=np.int64), axis=0)


def read_csv_block(source, *, names: list[str], path: Path, delimiter: str = ",", header: bool = True,
                   first_row: int = 0, block: int | None = None) -> CsvBlock:
    """Parse CSV records with every column as str; a record with another field count than the header is set apart.

    Args:
        source: a file path, or the bytes of a block of whole lines.
        names: the column names (read_header); records must have len(names) fields.
        path: the catalog file, named in errors.
        delimiter: field delimiter.
        header: whether the first record is the header row (checked against names, not returned).
        first_row: data-row number of the first data record (a block's offset in the file).
        block: the dask block number, named in errors (None: the whole file).

    Raises:
        CatalogError: when the data cannot be parsed (invalid UTF-8, a field beyond the reader's
            block), the header row parses differently, or a quote opened on the last record is never closed.
    """
    generated = [f"f{i}" for i in range(len(names))]
    bad: list[tuple[int | None, str, int]] = []

    def on_invalid(row) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    _check_utf8(source, path=path)
    if isinstance(source, (bytes, bytearray)):
        if not source.strip(b"\r\n"):
            empty = pa.table({n: pa.array([], pa.string()) for n in generated})
            return CsvBlock(_string_frame(empty, names, np.zeros(0, np.int64)), np.zeros(0, np.int64), (), np.zeros(0, np.int64), 0)
        source = pa.BufferReader(source)
    try:
        table = pacsv.read_csv(
            source,
            # serial: the invalid-row handler gets record numbers only from the serial reader
            read_options=pacsv.ReadOptions(block_size=1 << 24, column_names=generated, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in generated},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a CSV file that can be parsed ({str(exc).splitlines()[0]})") from exc
    assert all(number is not None for number, _, _ in bad), "arrow's serial reader numbers invalid rows"
    skip = int(header)
    if header:
        # Positional names typed as strings: arrow's own header parse never decides a column's type,
        # and the header comes back as row 0 to check that both parsers agree on it.
        if bad and bad[0][0] == 1:
            raise CatalogError(f"{path}: the header row cannot be parsed consistently (read {names}, then {bad[0][2]} fields)")
        first = [str(v).strip() for v in table.slice(0, 1).to_pylist()[0].values()] if table.num_rows else []
        if first != names:
            raise CatalogError(f"{path}: the header row cannot be parsed consistently (read {names} and {first})")
        table = table.slice(1)
    n_records = table.num_rows + len(bad)
    local = np.array([number - 1 - skip for number, _, _ in bad], dtype=np.int64)  # record 1 is the first of the source
    if len(local) and local[-1] == n_records - 1 and _open_quote(bad[-1][1], delimiter):
        if block is None:
            raise CatalogError(f"{path}: not a CSV file that can be parsed (row {local[-1] + 2}: a quoted field is never closed)")
        raise CatalogError(f"{path}: not a CSV file that can be parsed (a quoted field in dask block {block} is never closed "
                           "before the block ends; a quoted line break cannot cross blocks: raise dask_blocksize or use the pandas engine)")
    ok = np.setdiff1d(np.arange(n_records, dtype=np.int64), local, assume_unique=True) + first_row
    fields = np.array([n for _, _, n in bad], dtype=np.int64)
    return CsvBlock(_string_frame(table, names, ok), local + first_row, tuple(t for _, t, _ in bad), fields, n_records)


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
    numbers = pd.to_numeric(text.where(~text.str.contains(":", regex=False), ""), errors="coerce").to_numpy(dtype=np.float64)
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
                    f"{tracks.path}: column {part!r} (mapped to {field}) appears {names.count(part)} times in the header; "
                    "rename or remove the extra ones"
                )


RAW = "raw:"  # prefix of the original CSV columns inside a validated frame


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
    cols = tracks.columns
    n = len(raw)
    rows = raw.index.to_numpy(dtype=np.int64)
    raw = raw.reset_index(drop=True)
    ids = track_ids(raw, cols.track_id)
    artist = raw[cols.artist].str.strip()
    title = raw[cols.title].str.strip()
    dur_text = raw[cols.duration].str.strip()
    duration = parse_durations(dur_text, unit=tracks.duration_unit)
    early = np.full(n, "", dtype=object)
    early_detail = np.full(n, "", dtype=object)
    late = np.full(n, "", dtype=object)
    late_detail = np.full(n, "", dtype=object)

    def flag(reason, detail, mask: np.ndarray, code: str, message) -> None:
        mask = mask & (reason == "")
        if mask.any():
            reason[mask] = code
            detail[mask] = [message(i) for i in np.flatnonzero(mask)] if callable(message) else message

    flag(early, early_detail, (ids == "").to_numpy(), R.MISSING_ID, f"empty track id (column {cols.track_id!r})")
    flag(early, early_detail, (title == "").to_numpy(), R.MISSING_TITLE, f"empty title (column {cols.title!r})")
    flag(early, early_detail, (artist == "").to_numpy(), R.MISSING_ARTIST, f"empty artist (column {cols.artist!r})")
    missing_dur = dur_text.str.fullmatch(MISSING_DURATION, case=False).to_numpy(dtype=bool)
    unusable = ~(np.isfinite(duration) & (duration > 0))
    if cols.audio_path is not None:
        # The audio decides: an unusable duration is replaced by the decoded one at `mine` (mining/audio_check.py).
        bad = np.zeros(n, dtype=bool)
    elif config.missing_duration == "keep":
        bad = unusable & ~missing_dur
    else:
        bad = unusable
    flag(early, early_detail, bad, R.BAD_DURATION, lambda i: (
        f"duration {dur_text.iat[i]!r} is not a positive {tracks.duration_unit} duration"
        + (" (--missing-duration keep keeps rows whose duration is missing)" if missing_dur[i] else "")))
    empty_dur = unusable  # NaN from here on: missing, or left to the decoded audio

    paths = np.full(n, "", dtype=object)
    if cols.audio_path is not None:
        rel = raw[cols.audio_path].str.strip()
        flag(late, late_detail, (rel == "").to_numpy(), R.MISSING_AUDIO_PATH, f"empty audio path (column {cols.audio_path!r})")
        for i in np.flatnonzero((early == "") & (late == "")):
            try:
                resolved = resolve_under(tracks.audio_root, rel.iat[i])
            except CatalogError as exc:
                if exc.__cause__ is not None:  # "cannot be resolved": a symlink loop, a name too long
                    late[i], late_detail[i] = R.AUDIO_NOT_FOUND, f"audio path {rel.iat[i]!r} cannot be resolved ({exc.__cause__})"
                else:
                    late[i], late_detail[i] = R.PATH_ESCAPES_ROOT, f"audio path {rel.iat[i]!r} resolves outside {tracks.audio_root}"
                continue
            try:
                found, why = resolved.is_file(), "not found"
            except OSError as exc:  # Path.is_file only swallows "not found": ENAMETOOLONG, EACCES, EIO raise
                found, why = False, f"not readable ({exc.strerror or exc})"
            if not found:
                late[i], late_detail[i] = R.AUDIO_NOT_FOUND, f"audio file {str(resolved)!r} {why}"
                continue
            paths[i] = str(resolved)
    # object columns: matching works on Python strings (pandas 3 would convert to Arrow and back)
    frame = pd.DataFrame(
        {
            "_row": rows,
            "track_id": pd.Series(ids.to_numpy(dtype=object), dtype=object),
            "artist": pd.Series(artist.to_numpy(dtype=object), dtype=object),
            "title": pd.Series(title.to_numpy(dtype=object), dtype=object),
            "duration_s": np.where(empty_dur, np.nan, duration),
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
    detail[dup] = [f"track id {t!r} already used on an earlier row" for t in frame["track_id"].to_numpy(dtype=object)[dup]]
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
    log.info("ingest: %d rows read, %d valid, %d rejected (%d malformed)", block.n_records, len(valid), len(rejects), len(block.bad_rows))
    return valid, rejects, block.n_records


def _id_parts(column: str) -> list[str]:
    # "release_id+position" builds ids from several columns (Discogs has no track id).
    return column.split("+")


def track_ids(raw: pd.DataFrame, column: str) -> pd.Series:
    """Track ids as str: the mapped column, or several joined by ':' ("release_id+position"); "" when any part is empty."""
    parts = _id_parts(column)
    ids = raw[parts[0]].str.strip()
    for part in parts[1:]:
        other = raw[part].str.strip()
        ids = (ids + ":" + other).where((ids != "") & (other != ""), "")
    return ids
