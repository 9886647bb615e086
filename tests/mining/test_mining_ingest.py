"""Ingest: column mapping, duration parsing, row rejects, file-level errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocalmine.core.catalog import ColumnMap, TrackCatalog
from vocalmine.core.errors import CatalogError
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.ingest import ingest, parse_durations

COLS = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration", audio_path="audio_path")


def _catalog(tmp_path: Path, text: str, columns: ColumnMap = COLS, unit: str = "auto") -> TrackCatalog:
    csv = tmp_path / "catalog.csv"
    csv.write_text(text, encoding="utf-8")
    return TrackCatalog(path=csv, audio_root=tmp_path / "audio", columns=columns, duration_unit=unit)


def test_parse_durations_units():
    values = pd.Series(["4:45", "1:02:03", "215.5", " 3:07 ", "", "abc", "4:75", "-3", "196707"])
    auto = parse_durations(values, unit="auto")
    np.testing.assert_allclose(auto[:4], [285.0, 3723.0, 215.5, 187.0])
    assert np.isnan(auto[4:7]).all()
    assert auto[7] == -3.0 and auto[8] == 196707.0
    np.testing.assert_allclose(parse_durations(pd.Series(["196707", "2:00"]), unit="ms"), [196.707, np.nan])
    np.testing.assert_allclose(parse_durations(pd.Series(["6:11", "371"]), unit="m:ss"), [371.0, np.nan])


def test_rejects_each_malformed_row_with_reason_and_original_row(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        (audio / name).write_bytes(b"x")
    (tmp_path / "outside.wav").write_bytes(b"x")
    text = (
        "track_id,artist,title,duration,audio_path\n"
        "T1,Peace Division,Got 2 Get (Vocal),5:36,a.wav\n"
        "T2,Peace Division,,200,b.wav\n"
        "T3,,Got 2 Get (Instrumental),200,b.wav\n"
        "T4,Peace Division,Freaky,soon,b.wav\n"
        "T5,Peace Division,Bodysonic,0,b.wav\n"
        "T1,Peace Division,Into The Music,200,c.wav\n"
        "T6,Peace Division,Shake Your Faith,200,\n"
        "T7,Peace Division,Burnin',200,../outside.wav\n"
        "T8,Peace Division,Gotta Have You,200,missing.wav\n"
        ",Peace Division,Livin' My Music,200,c.wav\n"
        "T9,Peace Division,We Glad You Funk,3:01,c.wav\n"
    )
    valid, rejects, n = ingest(_catalog(tmp_path, text), config=MiningConfig())
    assert n == 11
    # With audio mapped, an unusable duration ("soon", 0) is left to the decoded audio (mining/audio_check.py).
    assert list(valid["track_id"]) == ["T1", "T4", "T5", "T9"]
    np.testing.assert_array_equal(valid["duration_s"], [336.0, np.nan, np.nan, 181.0])
    assert valid["audio_path"].iloc[0] == str((audio / "a.wav").resolve())
    expected = {
        "T2": R.MISSING_TITLE, "T3": R.MISSING_ARTIST,
        "T1": R.DUPLICATE_ID, "T6": R.MISSING_AUDIO_PATH, "T7": R.PATH_ESCAPES_ROOT, "T8": R.AUDIO_NOT_FOUND, None: R.MISSING_ID,
    }
    got = {(t if isinstance(t, str) else None): r for t, r in zip(rejects["track_id"], rejects["reason"])}
    assert got == expected
    assert set(rejects["stage"]) == {"ingest"}
    row = json.loads(rejects.loc[rejects["track_id"] == "T6", "row"].iloc[0])
    assert row == {"track_id": "T6", "artist": "Peace Division", "title": "Shake Your Faith", "duration": "200", "audio_path": ""}


def test_bad_duration_of_a_metadata_only_catalog_names_the_value(tmp_path):
    cols = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration")
    text = "track_id,artist,title,duration\nT4,Peace Division,Freaky,soon\nT5,Peace Division,Bodysonic,0\nT6,Peace Division,Lowdown,n/a\n"
    valid, rejects, _ = ingest(_catalog(tmp_path, text, cols), config=MiningConfig())
    assert len(valid) == 0 and rejects["reason"].tolist() == [R.BAD_DURATION] * 3
    row = json.loads(rejects["row"].iloc[0])
    assert row == {"track_id": "T4", "artist": "Peace Division", "title": "Freaky", "duration": "soon"}
    assert "soon" in rejects["detail"].iloc[0] and "--missing-duration keep" in rejects["detail"].iloc[2]


@pytest.mark.parametrize("cell", ["", "n/a", "N/A", "?", "-", "--:--", "  "])
def test_missing_duration_keep_reads_placeholders_as_missing(tmp_path, cell):
    cols = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration")
    text = f"track_id,artist,title,duration\nK1,Moth Parade,Lantern Hours,{cell}\nK2,Moth Parade,Tin Harbour,abc\n"
    valid, rejects, _ = ingest(_catalog(tmp_path, text, cols), config=MiningConfig(missing_duration="keep"))
    assert valid["track_id"].tolist() == ["K1"] and np.isnan(valid["duration_s"].iloc[0])
    assert rejects["track_id"].tolist() == ["K2"] and rejects["reason"].tolist() == [R.BAD_DURATION]


def test_missing_duration_policy_keep(tmp_path):
    cols = ColumnMap(track_id="release_id+position", artist="artist", title="track_title", duration="duration")
    text = "release_id,position,artist,track_title,duration\n76,A1,Peace Division,Got 2 Get (Vocal),\n76,A2,Peace Division,Got 2 Get (Instrumental),x\n"
    valid, rejects, _ = ingest(_catalog(tmp_path, text, cols, unit="m:ss"), config=MiningConfig(missing_duration="keep"))
    assert valid["track_id"].tolist() == ["76:A1"] and np.isnan(valid["duration_s"].iloc[0])
    assert rejects["reason"].tolist() == [R.BAD_DURATION]  # "x" is not empty: still rejected
    _, rejects, _ = ingest(_catalog(tmp_path, text, cols, unit="m:ss"), config=MiningConfig())
    assert rejects["reason"].tolist() == [R.BAD_DURATION, R.BAD_DURATION]


def test_spotify_style_mapping_in_milliseconds(tmp_path):
    cols = ColumnMap(track_id="uri", artist="artist", title="track", duration="duration_ms")
    text = 'track,artist,uri,duration_ms\nLucky Man,Montgomery Gentry,spotify:track:4GiX,196707\n"Heavy Metal, Raise Hell!",Zwartketterij,spotify:track:2IjB,255667\n'
    valid, rejects, _ = ingest(_catalog(tmp_path, text, cols, unit="ms"), config=MiningConfig())
    assert valid["title"].tolist() == ["Lucky Man", "Heavy Metal, Raise Hell!"]
    np.testing.assert_allclose(valid["duration_s"], [196.707, 255.667])
    assert valid["audio_path"].tolist() == ["", ""] and len(rejects) == 0


def test_repeated_column_names_keep_every_value_in_the_reject_row(tmp_path):
    cols = ColumnMap(track_id="uri", artist="artist", title="track", duration="duration_ms")
    text = "track,artist,uri,duration_ms,decade,decade\nLucky Man,,spotify:track:4GiX,196707,2000,00s\n"
    valid, rejects, _ = ingest(_catalog(tmp_path, text, cols, unit="ms"), config=MiningConfig())
    assert len(valid) == 0 and rejects["reason"].tolist() == [R.MISSING_ARTIST]
    assert "00s" in rejects["row"].iloc[0] and "spotify:track:4GiX" in rejects["row"].iloc[0]


def test_missing_mapped_column_names_file_and_column(tmp_path):
    with pytest.raises(CatalogError, match=r"catalog\.csv: missing column 'duration'"):
        ingest(_catalog(tmp_path, "track_id,artist,title,audio_path\nT1,A,B,a.wav\n"), config=MiningConfig())


def test_not_a_csv(tmp_path):
    catalog = _catalog(tmp_path, "")
    catalog.path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(CatalogError, match=r"catalog\.csv: not a CSV file"):
        ingest(catalog, config=MiningConfig())
    catalog.path.write_text('track_id,artist,title,duration,audio_path\n"T1,unterminated\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"catalog\.csv: not a CSV file"):
        ingest(catalog, config=MiningConfig())


def test_header_is_one_csv_record_and_every_column_stays_a_string(tmp_path):
    # U+2028, \x0c and a quoted newline inside header names do not end the header row
    header = '"notes\nmore",x\u2028y,z\x0cw, track_id ,artist,title,duration\n'
    text = header + "n,a,b,007,A,S,3\nn,a,b,7,A,T,3\n"
    cols = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration")
    valid, rejects, n = ingest(_catalog(tmp_path, text, cols), config=MiningConfig())
    assert n == 2 and rejects.empty
    assert valid["track_id"].tolist() == ["007", "7"]


def test_duplicate_mapped_column_is_a_catalog_error(tmp_path):
    text = "track_id,artist,artist,title,duration,audio_path\nT1,A,B,S,3,a.wav\n"
    with pytest.raises(CatalogError, match=r"catalog\.csv: column 'artist' \(mapped to artist\) appears 2 times"):
        ingest(_catalog(tmp_path, text), config=MiningConfig())


def test_non_utf8_header_names_file_and_column(tmp_path):
    catalog = _catalog(tmp_path, "")
    catalog.path.write_bytes("track_id,artist,title,duration,audio_path,t\xedtulo\nT1,A,S,3,a.wav,x\n".encode("latin-1"))
    with pytest.raises(CatalogError, match=r"catalog\.csv: the header row is not UTF-8 \(column name b't\\xedtulo'\)"):
        ingest(catalog, config=MiningConfig())


def test_overlong_file_name_is_audio_not_found(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"x")
    text = f"track_id,artist,title,duration,audio_path\nT1,A,S,3,{'x' * 300}.wav\nT2,A,T,3,a.wav\n"
    valid, rejects, n = ingest(_catalog(tmp_path, text), config=MiningConfig())
    assert n == 2 and valid["track_id"].tolist() == ["T2"]
    assert rejects["reason"].tolist() == [R.AUDIO_NOT_FOUND] and "not readable (File name too long)" in rejects["detail"].iloc[0]


def test_padded_header_names_map_in_both_engines(tmp_path):
    from vocalmine.mining.engines import pair_catalog

    cols = ColumnMap(track_id="track_id", artist="artist", title="title", duration="duration")
    catalog = _catalog(tmp_path, "track_id, artist ,title,duration\nT1,A,S,3\nT2,A,S (Instrumental),3\n", cols)
    for engine in ("pandas", "dask"):
        paired = pair_catalog(catalog, config=MiningConfig(), engine=engine, scheduler="sync")
        assert paired.rejects.empty, engine


RAGGED = (
    "track_id,artist,title,duration,audio_path\n"
    "T1,A,Song,3,a.wav\n"
    "T2,A,Song (Instrumental),3,a.wav,stray\n"  # a stray delimiter: 6 fields
    'T3,A,"Two\nlines",3,a.wav\n'  # a quoted line break: one record, still row 4
    "T4,A,Other\n"  # too few fields
    "\n"  # blank lines are no records
    "T1,B,Dup,3,a.wav\n"
    "T5,A,Other (Instrumental),3,a.wav\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("blocksize", [1 << 20, 40, 1])
def test_ragged_rows_are_malformed_row_rejects_in_both_engines(tmp_path, blocksize):
    from vocalmine.mining.engines import pair_catalog

    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"x")
    catalog = _catalog(tmp_path, RAGGED.replace('"Two\nlines"', "Two lines") if blocksize < 100 else RAGGED)
    valid, rejects, n = ingest(catalog, config=MiningConfig())
    assert n == 6 == len(valid) + len(rejects) and valid["track_id"].tolist() == ["T1", "T3", "T5"]
    assert rejects["reason"].tolist() == [R.MALFORMED_ROW, R.MALFORMED_ROW, R.DUPLICATE_ID]
    assert rejects["track_id"].isna()[:2].all()
    assert [json.loads(r) for r in rejects["row"][:2]] == [{"raw": "T2,A,Song (Instrumental),3,a.wav,stray"}, {"raw": "T4,A,Other"}]
    assert rejects["detail"].tolist()[:2] == [
        "row 3: 6 fields where the header has 5 (a stray delimiter or quote?)",
        "row 5: 3 fields where the header has 5 (a stray delimiter or quote?)",
    ]
    assert rejects["detail"].iloc[2].startswith("row 6: ")
    config = MiningConfig(dask_blocksize=blocksize, dask_partitions=2)
    paired = {e: pair_catalog(catalog, config=config, engine=e, scheduler="sync") for e in ("pandas", "dask")}
    for engine, p in paired.items():
        assert (p.n_rows, p.n_valid) == (6, 3), engine
        pd.testing.assert_frame_equal(p.rejects, rejects, obj=engine)
    pd.testing.assert_frame_equal(paired["dask"].decisions, paired["pandas"].decisions)


def test_broken_header_or_unclosed_quote_is_still_one_catalog_error(tmp_path):
    catalog = _catalog(tmp_path, 'track_id,artist,"title,duration,audio_path\nT1,A,S,3,a.wav\n')
    with pytest.raises(CatalogError, match=r"catalog\.csv: missing column 'title'"):  # the quote swallowed the file
        ingest(catalog, config=MiningConfig())
    catalog = _catalog(tmp_path, 'track_id,artist,title,duration,audio_path\nT1,A,S,3,a.wav\nT2,"A,S\nT3,A,S,3,a.wav\n')
    with pytest.raises(CatalogError, match=r"catalog\.csv: not a CSV file that can be parsed \(row 3: a quoted field is never closed\)"):
        ingest(catalog, config=MiningConfig())


def test_symlink_loop_is_audio_not_found(tmp_path):
    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "a.wav").write_bytes(b"x")
    (tmp_path / "audio" / "loop.wav").symlink_to(tmp_path / "audio" / "loop.wav")
    text = "track_id,artist,title,duration,audio_path\nT1,A,S,3,loop.wav\nT2,A,T,3,a.wav\nT3,A,U,3,../outside.wav\n"
    valid, rejects, n = ingest(_catalog(tmp_path, text), config=MiningConfig())
    assert n == 3 and valid["track_id"].tolist() == ["T2"]
    assert rejects["reason"].tolist() == [R.AUDIO_NOT_FOUND, R.PATH_ESCAPES_ROOT]
    assert "'loop.wav' cannot be resolved" in rejects["detail"].iloc[0] and "oop" in rejects["detail"].iloc[0]


def test_missing_duration_cells_read_in_re2_as_pythons_re_reads_them():
    import re

    from vocalmine.mining.ingest import MISSING_DURATION, missing_durations

    cells = ["", " ", "n/a", "N/A", "na", "?", "???", "-", "---", ":", "-:-", " - : - ", "--:--:--", "none", "NULL",
             "NaN", "Unknown", "un\u212anown", "tbd", "\u00a0", "-\u00a0:\u00a0-", "\u3000n/a\u3000", "-\u2003:", "\x1c:",
             "n/a\n", "\tnull\t", "3:45", "0", "245000", "n / a", "nana", "??a", "1:-", "\u200b", "x"]
    expected = [re.fullmatch(MISSING_DURATION, c, flags=re.IGNORECASE) is not None for c in cells]
    assert missing_durations(pd.Series(cells, dtype=object)).tolist() == expected
    assert 0 < sum(expected) < len(cells)  # both kinds are present
