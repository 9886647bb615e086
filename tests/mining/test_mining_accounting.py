"""Decoded audio against the catalog, every row accounted for (a hypothesis property), and the summary's advice."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocalmine.core.audio import write_audio
from vocalmine.core.catalog import load_catalog
from vocalmine.core.errors import NothingUsableError
from vocalmine.core.tables import REJECTS_SCHEMA, read_table
from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.accounting import check_accounting
from vocalmine.mining.audio_check import annotate_audio, audio_rejects
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.mine import mine
from vocalmine.core.contract.pairs import PAIRS_SCHEMA, UNPAIRED_SCHEMA

SR = 22050


def _yaml(root: Path, columns: str) -> Path:
    yaml_file = root / "data_catalog.yaml"
    yaml_file.write_text(f"tracks:\n  path: catalog.csv\n  columns:\n{columns}\n", encoding="utf-8")
    return yaml_file


def test_annotate_audio_verdicts():
    valid = pd.DataFrame({
        "track_id": ["A", "B", "C", "D", "E"], "artist": "Moth Parade", "title": ["t1", "t2", "t3", "t4", "t5"],
        "duration_s": [40.0, np.nan, np.nan, 200.0, 30.0], "audio_path": ["/a", "/b", "/c", "/d", "/e"],
    })
    decoded = {"/a": (0.03, ""), "/b": (187.5, ""), "/c": (0.0, "not audio"), "/d": (0.0, "not audio")}
    out = annotate_audio(valid, decoded=decoded, tolerance_s=4.0)
    assert out["_a_reason"].tolist() == [R.DURATION_MISMATCH, "", R.BAD_DURATION, R.UNDECODABLE, ""]
    assert out["_a_stage"].tolist() == ["content", "", "ingest", "content", ""]
    assert out["duration_s"].iloc[1] == 187.5 and out["duration_s"].iloc[4] == 30.0  # E: not decoded, unchanged
    assert "0.0 s" in out["_a_detail"].iloc[0] and "40.0 s" in out["_a_detail"].iloc[0]
    rejects = audio_rejects(out)
    assert rejects["track_id"].tolist() == ["A", "C", "D"] and rejects["pair_id"].isna().all()


def _tone(seconds: float, seed: int, voice: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    y = sum(0.1 / h * np.sin(2 * np.pi * rng.choice([110.0, 146.8, 196.0]) * h * t) for h in (1, 2, 3))
    y = y * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    if voice:
        y = y + 0.08 * np.sin(2 * np.pi * 330.0 * t + 3 * np.sin(2 * np.pi * 5 * t)) * (np.sin(2 * np.pi * 0.7 * t) > 0)
    return y.astype(np.float32)


def test_truncated_rival_is_set_aside_and_missing_duration_is_decoded(tmp_path):
    audio = tmp_path / "audio"
    audio.mkdir()
    write_audio(audio / "orig.wav", _tone(6.0, 1, voice=True), SR)
    write_audio(audio / "inst.wav", _tone(6.0, 1, voice=False), SR)
    write_audio(audio / "cut.wav", _tone(6.0, 1, voice=False), SR)
    (audio / "cut.wav").write_bytes((audio / "cut.wav").read_bytes()[:3000])  # a download cut short
    write_audio(audio / "o2.wav", _tone(5.0, 2, voice=True), SR)
    write_audio(audio / "i2.wav", _tone(5.0, 2, voice=False), SR)
    rows = [
        ("A1", "Quiet Kilns", "Copper Bell", "0:06", "audio/orig.wav"),
        ("A0", "Quiet Kilns", "Copper Bell (Instrumental)", "0:06", "audio/cut.wav"),  # wins every tie without the check
        ("A2", "Quiet Kilns", "Copper Bell (Instr.)", "0:06", "audio/inst.wav"),
        ("B1", "Quiet Kilns", "Slate Garden (Radio Edit)", "", "audio/o2.wav"),  # no duration: the audio says 5 s
        ("B2", "Quiet Kilns", "Slate Garden - Instrumental", "n/a", "audio/i2.wav"),
    ]
    text = "track_id,artist,title,duration,audio_path\n" + "".join(",".join(r) + "\n" for r in rows)
    (tmp_path / "catalog.csv").write_text(text, encoding="utf-8")
    catalog = load_catalog(_yaml(tmp_path, "    track_id: track_id\n    artist: artist\n    title: title\n"
                                            "    duration: duration\n    audio_path: audio_path"))
    summary = mine(catalog=catalog, scheduler="sync")
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)
    assert set(zip(pairs["original_id"], pairs["instrumental_id"])) == {("A1", "A2"), ("B1", "B2")}
    assert pairs.set_index("original_id").loc["B1", "original_duration_s"] == pytest.approx(5.0, abs=0.01)
    cut = rejects[rejects["track_id"] == "A0"]
    assert cut[["stage", "reason"]].values.tolist() == [["content", R.DURATION_MISMATCH]]
    assert "decoded audio lasts 0.1 s but the catalog says 6.0 s" in cut["detail"].iloc[0]
    assert len(read_table(catalog.unpaired, UNPAIRED_SCHEMA)) == 0 and summary.pairs == 2


def test_summary_names_the_option_behind_a_dominant_reason(tmp_path):
    rows = ["K1,Moth Parade,Lantern Hours,", "K2,Moth Parade,Lantern Hours (Instrumental),", "K3,Moth Parade,Tin Harbour,3:10",
            "K4,Moth Parade,Tin Harbour (Karaoke),3:11", "K5,Moth Parade,Glass Orchard,n/a"]
    (tmp_path / "catalog.csv").write_text("track_id,artist,title,duration\n" + "\n".join(rows) + "\n", encoding="utf-8")
    catalog = load_catalog(_yaml(tmp_path, "    track_id: track_id\n    artist: artist\n    title: title\n    duration: duration"))
    text = mine(catalog=catalog).format()
    assert "top reject reasons   bad_duration 3 (60% of rows)" in text
    assert "note: bad_duration rejects 3 of 5 rows (60%)" in text and "--missing-duration keep" in text
    kept = mine(catalog=catalog, config=MiningConfig(missing_duration="keep"))
    assert kept.pairs == 2 and "note:" not in kept.format()
    unpaired = read_table(catalog.unpaired, UNPAIRED_SCHEMA)
    assert unpaired[["track_id", "reason"]].values.tolist() == [["K5", R.NO_INSTRUMENTAL]]


# --- every row accounted for, over generated messy catalogs (metadata only: fast) ---

_ARTISTS = ["Moth Parade", "moth parade", "Quiet Kilns", "The Quiet Kilns feat. Ada Brook", "Ferro & Lune", ""]
_BASES = ["Lantern Hours", "Tin Harbour", "Copper Bell", "Slate Garden", "Night Ferry", "Salt Road", "Glass Orchard"]
_TAILS = ["", "", " (Instrumental)", " (Instr.)", " - Instrumental", " (Off Vocal Ver.)", " (Karaoke)", " Instrumental",
          " (Radio Edit)", " (Live)", " (Harbour Dub Remix)", " （青い灯）", " [Lantern Unit]", " (feat. Ada Brook)",
          " (Harbour Dub Remix) [Instrumental]", " (Album Version)", " Instruments", ""]
_DURATIONS = ["3:10", "3:11", "3:40", "190", "191.5", "", "n/a", "?", "-", "--:--", "abc", "0", "-4", "1:02:03"]
_ROW = st.tuples(st.sampled_from(["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "", "T1"]),
                 st.sampled_from(_ARTISTS), st.sampled_from(_BASES), st.sampled_from(_TAILS), st.sampled_from(_DURATIONS),
                 st.integers(0, 99))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(_ROW, min_size=1, max_size=24), policy=st.sampled_from(["reject", "keep"]))
def test_every_row_ends_in_exactly_one_place(tmp_path_factory, rows, policy):
    root = tmp_path_factory.mktemp("messy")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["track_id", "artist", "title", "duration"])
    for tid, artist, base, tail, duration, salt in rows:
        writer.writerow([f"{tid}{salt}" if tid and salt % 3 else tid, artist, base + tail, duration])
    (root / "catalog.csv").write_text(out.getvalue(), encoding="utf-8")
    catalog = load_catalog(_yaml(root, "    track_id: track_id\n    artist: artist\n    title: title\n    duration: duration"))
    try:
        summary = mine(catalog=catalog, config=MiningConfig(missing_duration=policy))
        n_pairs = summary.pairs
    except NothingUsableError:
        n_pairs = 0
    pairs = read_table(catalog.pairs, PAIRS_SCHEMA)
    rejects = read_table(catalog.rejects, REJECTS_SCHEMA)
    unpaired = read_table(catalog.unpaired, UNPAIRED_SCHEMA)
    row_level = rejects[rejects["stage"].isin(["ingest", "content"])]
    assert len(pairs) == n_pairs
    assert 2 * len(pairs) + len(unpaired) + len(row_level) == len(rows)
    placed = [*pairs["original_id"], *pairs["instrumental_id"], *unpaired["track_id"]]
    assert len(placed) == len(set(placed))
    # an unpaired row says why, and names a nearest candidate whenever it had one
    assert set(unpaired["reason"]) <= set(R.UNPAIRED_REASONS)
    had_candidate = ~unpaired["reason"].isin([R.NO_ORIGINAL, R.NO_INSTRUMENTAL])
    assert unpaired.loc[had_candidate, "nearest_id"].notna().all()
    assert (unpaired.loc[unpaired["role"] == "instrumental", "marker"] != "").all()


def test_the_accounting_check_names_a_row_placed_twice_and_a_row_lost():
    pairs = pd.DataFrame({"original_id": ["o1"], "instrumental_id": ["i1"]})
    unpaired = pd.DataFrame({"track_id": ["u1", "u2"]})
    rejects = pd.DataFrame({"stage": ["ingest", "pairing"], "track_id": ["r1", "i1"]})
    check_accounting(n_rows=5, pairs=pairs, unpaired=unpaired, rejects=rejects)  # a pairing verdict is no row fate
    with pytest.raises(AssertionError, match="more than one place.*i1"):
        check_accounting(n_rows=6, pairs=pairs, unpaired=pd.DataFrame({"track_id": ["u1", "u2", "i1"]}),
                         rejects=rejects)
    with pytest.raises(AssertionError, match="6 rows read but 2 in pairs"):
        check_accounting(n_rows=6, pairs=pairs, unpaired=unpaired, rejects=rejects)
