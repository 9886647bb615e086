"""Hypothesis properties of catalog ingest and the title/artist normaliser.

Hostile catalogs (arbitrary Unicode, huge fields, embedded newlines, quotes and
delimiters, BOMs, wrong delimiters, empty files) give rows (valid, or rejected
with a reason) or one CatalogError, never another exception, and no data row
is lost. tests/robustness runs each property with a few examples;
bench/robustness.py runs them with many (FUZZ_TARGETS, run_with_examples).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocalmine.core.catalog import ColumnMap, TrackCatalog
from vocalmine.core.errors import CatalogError
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.ingest import ingest
from vocalmine.mining.normalize import normalize_artists, normalize_title, qualifier_masks, split_titles

MAPPED = ("track_id", "artist", "title", "duration", "audio_path")
COLUMNS = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration", audio_path="audio_path")
EXAMPLES = 40  # per property in CI; the bench runs more
COUNTERS: dict[str, dict[str, int]] = {}

# Text cells: any Unicode but lone surrogates (not encodable) and NUL (a binary-file signal, tested apart).
_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_special = st.sampled_from([
    "", " ", '"', '""', "'", "\n", "\r\n", "\r", ",", ";", "\t", "|", "\ufeff", "a\nb", '"quoted, with comma"',
    "Song (Instrumental)", "  padded  ", "2:05", "3:61", "1:02:03", "-1", "0", "1e400", "nan", "inf", "180000",
    "١٢٣", "../../etc/passwd", "/etc/passwd", "a.wav", "sub/b.wav", "é" * 100, "\u2028", "\x85", "\x1c", "NA", "null",
])
CELL = st.one_of(st.text(_chars, max_size=30), _special)
DURATION = st.one_of(CELL, st.sampled_from(["3", "2:05", "180.5", "240000", " 61 "]))
AUDIO = st.one_of(CELL, st.sampled_from(["a.wav", "sub/b.wav", " a.wav "]))
# Header names without line breaks: a quoted name holding one is refused by the reader (one CatalogError).
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
EXTRA_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00" + _LINE_BREAKS),
                     min_size=1, max_size=12).filter(lambda s: s.strip() not in MAPPED and s.strip() != "")


_WORKDIR: list[tempfile.TemporaryDirectory] = []


def fuzz_workdir() -> Path:
    """One folder per process (hypothesis forbids function-scoped fixtures); catalog.csv is rewritten each time."""
    if not _WORKDIR:
        _WORKDIR.append(tempfile.TemporaryDirectory(prefix="rb-catalog-"))
        folder = Path(_WORKDIR[0].name)
        (folder / "sub").mkdir()
        (folder / "a.wav").write_bytes(b"RIFF")  # ingest checks existence only
        (folder / "sub" / "b.wav").write_bytes(b"RIFF")
    return Path(_WORKDIR[0].name)


def track_catalog(path: Path, *, delimiter: str = ",", unit: str = "auto") -> TrackCatalog:
    return TrackCatalog(path=path, audio_root=path.parent, columns=COLUMNS, duration_unit=unit, delimiter=delimiter)


def _count(name: str, **add: int) -> None:
    c = COUNTERS.setdefault(name, {"n": 0, "errors": 0, "rows": 0, "rejects": 0})
    for k, v in add.items():
        c[k] += v


def check_outputs(valid, rejects, n_rows: int) -> None:
    """What every successful ingest must give, whatever the input."""
    assert len(valid) + len(rejects) == n_rows, f"{n_rows} rows read, {len(valid)} valid + {len(rejects)} rejected"
    assert list(valid.columns) == ["track_id", "artist", "title", "duration_s", "audio_path"]
    assert set(rejects["reason"]) <= set(R.INGEST_REASONS + R.PARSE_REASONS), set(rejects["reason"])
    assert (rejects["stage"] == "ingest").all()
    assert all(isinstance(d, str) and d for d in rejects["detail"])
    for row in rejects["row"]:
        assert isinstance(json.loads(row), dict)
    assert valid["track_id"].map(lambda s: isinstance(s, str) and s != "").all()
    assert not valid["track_id"].duplicated().any()
    # NaN: no usable catalog duration, left to the decoded audio at `mine` (mining/audio_check.py)
    assert ((valid["duration_s"] > 0) | valid["duration_s"].isna()).all()
    assert valid["audio_path"].map(lambda p: Path(p).is_file()).all()


def csv_line(cells: list[str], delimiter: str) -> str:
    """RFC 4180 quoting (Python's csv writer leaves a lone "\\r" unquoted when the line ends with "\\n")."""
    special = (delimiter, '"', "\r", "\n")
    return delimiter.join('"' + c.replace('"', '""') + '"' if any(ch in c for ch in special) else c for c in cells)


# -- properties (plain functions: the tests and the bench wrap them with given/settings) -------

WELLFORMED = dict(
    rows=st.lists(st.tuples(CELL, CELL, CELL, DURATION, AUDIO), max_size=12),
    extra=st.lists(EXTRA_NAME, max_size=3, unique_by=lambda s: s.strip()),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
    crlf=st.booleans(),
    order=st.permutations(range(5)),
    unit=st.sampled_from(["auto", "s", "ms", "m:ss"]),
)


def fuzz_wellformed_csv(rows, extra, delimiter, bom, crlf, order, unit) -> None:
    """A correctly quoted CSV of hostile cells: no error at all, every row accounted for, cells kept."""
    folder = fuzz_workdir()
    header = [MAPPED[i] for i in order] + extra
    lines = [header] + [[cells[i] for i in order] + ["x" * (k + 1) for k in range(len(extra))] for cells in rows]
    text = "".join(csv_line(cells, delimiter) + ("\r\n" if crlf else "\n") for cells in lines)
    path = folder / "catalog.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    valid, rejects, n = ingest(track_catalog(path, delimiter=delimiter, unit=unit), config=MiningConfig())
    _count("fuzz_wellformed_csv", n=1, rows=len(rows), rejects=len(rejects))
    assert n == len(rows), f"{len(rows)} rows written, ingest read {n}"
    check_outputs(valid, rejects, n)
    by_id: dict[str, tuple] = {}
    for cells in rows:  # a duplicate id keeps its first row
        by_id.setdefault(cells[0].strip(), cells)
    for track_id, artist, title in zip(valid["track_id"], valid["artist"], valid["title"]):
        assert track_id in by_id, f"valid track id {track_id!r} is not one of the ids written"
        cells = by_id[track_id]
        assert (artist, title) == (cells[1].strip(), cells[2].strip())


RAW = dict(
    pieces=st.lists(st.one_of(st.sampled_from([
        "track_id,artist,title,duration,audio_path", "track_id;artist;title;duration;audio_path", ",", ";", "\t",
        "\n", "\r\n", "\r", '"', '""', "\ufeff", "T1", "a.wav", "3", "2:05", "Song (Instrumental)", " ", "é",
    ]), st.text(_chars, max_size=8)), max_size=40),
    delimiter=st.sampled_from([",", ";"]),
)


def fuzz_raw_text(pieces, delimiter) -> None:
    """Arbitrary text from CSV-ish pieces: one CatalogError, or outputs that account for every row read."""
    folder = fuzz_workdir()
    path = folder / "catalog.csv"
    path.write_bytes("".join(pieces).encode("utf-8"))
    try:
        valid, rejects, n = ingest(track_catalog(path, delimiter=delimiter), config=MiningConfig())
    except CatalogError as exc:
        _count("fuzz_raw_text", n=1, errors=1)
        assert str(path) in str(exc)
        return
    _count("fuzz_raw_text", n=1, rows=n, rejects=len(rejects))
    check_outputs(valid, rejects, n)


BYTES = dict(data=st.binary(max_size=300), prefix=st.sampled_from([
    b"track_id,artist,title,duration,audio_path\n", b"\xef\xbb\xbftrack_id,artist,title,duration,audio_path\r\n",
    b"track_id,artist,title,duration,audio_path,notes\n"]))
BYTES_ANYWHERE = dict(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"\xef\xbb\xbf", b"track_id,"]))


def _ingest_bytes(counter: str, content: bytes) -> None:
    """Write ``content`` as the catalog and ingest it: one CatalogError or consistent outputs."""
    path = fuzz_workdir() / "catalog.csv"
    path.write_bytes(content)
    try:
        valid, rejects, n = ingest(track_catalog(path), config=MiningConfig())
    except CatalogError:
        _count(counter, n=1, errors=1)
        return
    _count(counter, n=1, rows=n, rejects=len(rejects))
    check_outputs(valid, rejects, n)


def fuzz_bytes(data, prefix) -> None:
    """Arbitrary bytes (invalid UTF-8, NUL, BOM) in the rows: one CatalogError or consistent outputs."""
    _ingest_bytes(fuzz_bytes.__name__, prefix + data)


def fuzz_bytes_anywhere(data, prefix) -> None:
    """Arbitrary bytes, the header included: one CatalogError or consistent outputs."""
    _ingest_bytes(fuzz_bytes_anywhere.__name__, prefix + data)


TITLES = dict(values=st.lists(st.one_of(st.text(_chars, max_size=60), _special), min_size=1, max_size=20))


def fuzz_normalise(values) -> None:
    """Any titles and artists: str bases, bool flags, one per input, and each equal to the one-title call."""
    _count("fuzz_normalise", n=1)
    base, inst = split_titles(values)
    assert base.shape == inst.shape == (len(values),) and inst.dtype == bool
    assert all(isinstance(b, str) and b == b.strip() for b in base)
    masks = qualifier_masks(base)
    assert masks.shape == (len(values),)
    artists = normalize_artists(values)
    assert all(isinstance(a, str) for a in artists)
    for value, b, flag in zip(values, base, inst):
        assert normalize_title(value) == (b, bool(flag))


_WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1, max_size=8)
MARKER = dict(words=st.lists(_WORD, min_size=1, max_size=5),
              marker=st.sampled_from(["(Instrumental)", "[Instrumental Version]", "- Instrumental Mix", "(Inst.)",
                                      "(Off Vocal)"]))
_SPECIAL_WORDS = {"instrumental", "instrumentals", "inst", "off", "offvocal", "vocal", "feat", "ft", "featuring",
                  "with",
                  "version", "mix", "ver", "remaster", "remastered", "album", "original", "lp", "single", "dirty",
                  "clean",
                  "explicit", "main", "and", "digital", "digitally"}


def fuzz_marker(words, marker) -> None:
    """A plain title with an instrumental marker appended: flagged, and the same base as the title alone."""
    folded = [w.casefold() for w in words]
    if any(w in _SPECIAL_WORDS for w in folded):
        return
    _count("fuzz_marker", n=1)
    title = " ".join(words)
    base, flag = normalize_title(title)
    assert not flag
    assert normalize_title(f"{title} {marker}") == (base, True)


FUZZ_TARGETS = [
    ("fuzz_wellformed_csv",
     "hostile cells in a well-formed CSV (Unicode, quotes, newlines, BOM, 4 delimiters, CRLF, column order, units)"),
    ("fuzz_raw_text", "CSV-ish random text (broken quoting, wrong delimiter, ragged rows, empty)"),
    ("fuzz_bytes", "random bytes in the rows of a catalog (invalid UTF-8, NUL, BOM)"),
    ("fuzz_bytes_anywhere", "random bytes as a whole catalog file, header included"),
    ("fuzz_normalise", "arbitrary Unicode titles/artists through the normaliser and marker detector"),
    ("fuzz_marker", "plain title + instrumental marker spelling"),
]
_STRATEGIES = {"fuzz_wellformed_csv": WELLFORMED, "fuzz_raw_text": RAW, "fuzz_bytes": BYTES,
               "fuzz_bytes_anywhere": BYTES_ANYWHERE, "fuzz_normalise": TITLES, "fuzz_marker": MARKER}


def run_with_examples(fn, examples: int) -> None:
    """Run a property with ``examples`` hypothesis examples (used by bench/robustness.py)."""
    wrapped = given(**_STRATEGIES[fn.__name__])(fn)
    settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(wrapped)()
