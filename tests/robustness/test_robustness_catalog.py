"""Property-based tests of the catalog reader (mining.ingest) and the title/artist normaliser.

Hostile catalogs (arbitrary Unicode, huge fields, embedded newlines, quotes and
delimiters, BOMs, wrong delimiters, empty files) give rows (valid, or rejected
with a reason) or one CatalogError, never another exception, and no data row
is lost. The properties live in vocalmine/testing/catalog_fuzz.py;
bench/robustness.py runs them with more examples.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from vocalmine.core.errors import CatalogError
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.ingest import ingest
from vocalmine.mining.normalize import normalize_title
from vocalmine.testing.catalog_fuzz import (
    BYTES, BYTES_ANYWHERE, EXAMPLES, MARKER, RAW, TITLES, WELLFORMED, fuzz_bytes, fuzz_bytes_anywhere, fuzz_marker,
    fuzz_normalise, fuzz_raw_text, fuzz_wellformed_csv, fuzz_workdir, track_catalog,
)

_ci = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
test_wellformed_csv = pytest.mark.slow(_ci(given(**WELLFORMED)(fuzz_wellformed_csv)))
test_raw_text = _ci(given(**RAW)(fuzz_raw_text))
test_bytes = _ci(given(**BYTES)(fuzz_bytes))
test_bytes_anywhere = _ci(given(**BYTES_ANYWHERE)(fuzz_bytes_anywhere))
test_normalise = pytest.mark.slow(_ci(given(**TITLES)(fuzz_normalise)))
test_marker = _ci(given(**MARKER)(fuzz_marker))


# -- explicit cases --------------------------------------------------------------------------

HEADER = "track_id,artist,title,duration,audio_path\n"


def _ingest_text(tmp_path: Path, text: str | bytes, **kw):
    folder = fuzz_workdir()
    path = folder / "catalog.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return ingest(track_catalog(path, **kw), config=MiningConfig())


@pytest.mark.parametrize("text, match", [
    ("", "empty, no header row"),
    ("\n\n", "empty, no header row"),
    (HEADER.replace(",", ";") + "T1;A;S;3;a.wav\n", "missing column 'track_id'"),
    (b"track_id,artist\x00,title\n", "binary content"),
    (HEADER.encode() + b"T1,\xff\xfe,S,3,a.wav\n", "invalid UTF8"),
])
def test_unusable_file_is_one_catalog_error(tmp_path, text, match):
    with pytest.raises(CatalogError, match=match):
        _ingest_text(tmp_path, text)


def test_header_only_gives_no_rows(tmp_path):
    valid, rejects, n = _ingest_text(tmp_path, HEADER)
    assert (len(valid), len(rejects), n) == (0, 0, 0)


def test_bom_and_crlf_and_quoted_newlines(tmp_path):
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + 'T1,"Art, ""The"" Ist","Line\r\nbreak (Instrumental)",2:05,a.wav\r\n'
    valid, rejects, n = _ingest_text(tmp_path, text)
    assert n == 1 and rejects.empty
    assert valid.iloc[0]["artist"] == 'Art, "The" Ist' and valid.iloc[0]["title"] == "Line\r\nbreak (Instrumental)"
    assert valid.iloc[0]["duration_s"] == 125.0


def test_huge_fields(tmp_path):
    """A 1 MB title is a row; a 20 MB field (beyond the reader's block) is one clear error, not a crash."""
    valid, rejects, n = _ingest_text(tmp_path, HEADER + f"T1,A,{'x' * (1 << 20)},3,a.wav\nT2,,S,3,a.wav\n")
    assert n == 2 and len(valid) == 1 and list(rejects["reason"]) == [R.MISSING_ARTIST]
    assert len(valid.iloc[0]["title"]) == 1 << 20
    try:
        valid, rejects, n = _ingest_text(tmp_path, HEADER + f"T1,A,{'y' * (20 << 20)},3,a.wav\n")
    except CatalogError as exc:
        assert "catalog.csv" in str(exc)
    else:
        assert n == 1 and len(valid) + len(rejects) == 1


def test_huge_title_normalises():
    base, flag = normalize_title("Ünïcode " * 100_000 + "(Instrumental)")
    assert flag and base.startswith("unicode unicode")


def test_duplicate_mapped_column_is_a_catalog_error(tmp_path):
    """Regression: a repeated mapped column crashed validate_rows with AttributeError."""
    with pytest.raises(CatalogError, match="artist"):
        _ingest_text(tmp_path, "track_id,artist,artist,title,duration,audio_path\nT1,A,B,S,3,a.wav\n")


def test_header_with_unicode_line_separator_keeps_ids_as_strings(tmp_path):
    """Regression: the header was split with str.splitlines(), so ids lost their string type ('007' -> 7)."""
    valid, rejects, n = _ingest_text(tmp_path, "notes\u2028x,track_id,artist,title,duration,audio_path\n"
                                               "n,007,A,S,3,a.wav\nn,7,A,T,3,a.wav\n")
    assert n == 2 and rejects.empty
    assert list(valid["track_id"]) == ["007", "7"]


def test_non_utf8_header_is_a_catalog_error(tmp_path):
    """Regression: a Latin-1 header name raised UnicodeDecodeError outside the parse-error handler."""
    with pytest.raises(CatalogError, match="catalog.csv"):
        _ingest_text(tmp_path, "track_id,artist,title,duration,audio_path,t\xedtulo\nT1,A,S,3,a.wav,x\n".encode("latin-1"))


def test_ragged_rows_are_rejects_and_the_rest_goes_on(tmp_path):
    """A row with a wrong field count is a malformed_row reject keeping its text; the other rows go on."""
    valid, rejects, n = _ingest_text(tmp_path, HEADER + "T1,A,S,3,a.wav\nT2,A,S\nT3,A,S,3,a.wav,extra\nT4,A,T,3,a.wav\n")
    assert n == 4 and list(valid["track_id"]) == ["T1", "T4"]
    assert list(rejects["reason"]) == [R.MALFORMED_ROW] * 2
    assert [json.loads(r) for r in rejects["row"]] == [{"raw": "T2,A,S"}, {"raw": "T3,A,S,3,a.wav,extra"}]
    assert "row 3: 3 fields where the header has 5" in rejects["detail"].iloc[0]


def test_numeric_edge_durations_are_rejected_not_crashing(tmp_path):
    text = HEADER + "".join(f"T{i},A,S{i},{d},a.wav\n" for i, d in enumerate(["1e400", "nan", "-0", "inf", "0x10", "١٢٣", "1:٢٣", "99:99"]))
    valid, rejects, n = _ingest_text(tmp_path, text)
    assert n == 8 and len(valid) + len(rejects) == 8
    # with an audio column, an unusable duration is left to the decoded audio (NaN here, decided at `mine`)
    assert set(rejects["reason"]) <= {R.BAD_DURATION}
    assert (np.isfinite(valid["duration_s"]) | valid["duration_s"].isna()).all()
    assert (valid["duration_s"].dropna() > 0).all()
