"""The track CSV as records: the header row, and blocks of rows with malformed records set apart.

Every column is read as str (arrow's serial reader, so that invalid records keep
their numbers). A record whose field count is not the header's is set apart with
its text, never lost; a file that is not a UTF-8 CSV or has a broken header row
raises CatalogError naming the file. Both mining engines read through here.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vocalmine.core.errors import CatalogError

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
        raise CatalogError(f"{path}: the header row does not end within the first {_HEAD_BYTES // 1024} KiB (an "
                           f"unclosed quote?)")
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

    # (n_ok rows) columns as str, "" for empty cells; index: data-row numbers (0 = first after the header)
    raw: pd.DataFrame
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
            return CsvBlock(_string_frame(empty, names, np.zeros(0, np.int64)), np.zeros(0, np.int64), (),
                            np.zeros(0, np.int64), 0)
        source = pa.BufferReader(source)
    try:
        table = pacsv.read_csv(
            source,
            # serial: the invalid-row handler gets record numbers only from the serial reader
            read_options=pacsv.ReadOptions(block_size=1 << 24, column_names=generated, use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                             invalid_row_handler=on_invalid),
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
            raise CatalogError(f"{path}: the header row cannot be parsed consistently (read {names}, then {bad[0][2]} "
                               f"fields)")
        first = [str(v).strip() for v in table.slice(0, 1).to_pylist()[0].values()] if table.num_rows else []
        if first != names:
            raise CatalogError(f"{path}: the header row cannot be parsed consistently (read {names} and {first})")
        table = table.slice(1)
    n_records = table.num_rows + len(bad)
    local = np.array([number - 1 - skip for number, _, _ in bad], dtype=np.int64)  # record 1 is the first of the source
    if len(local) and local[-1] == n_records - 1 and _open_quote(bad[-1][1], delimiter):
        if block is None:
            raise CatalogError(f"{path}: not a CSV file that can be parsed (row {local[-1] + 2}: a quoted field is "
                               f"never closed)")
        raise CatalogError(f"{path}: not a CSV file that can be parsed (a quoted field in dask block {block} is never "
                           f"closed "
                           "before the block ends; a quoted line break cannot cross blocks: raise dask_blocksize "
                           "or use the pandas engine)")
    ok = np.setdiff1d(np.arange(n_records, dtype=np.int64), local, assume_unique=True) + first_row
    fields = np.array([n for _, _, n in bad], dtype=np.int64)
    return CsvBlock(_string_frame(table, names, ok), local + first_row, tuple(t for _, t, _ in bad), fields, n_records)
