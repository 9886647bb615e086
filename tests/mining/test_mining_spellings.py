"""Real-catalog spellings, with titles of our own: markers and their families, edit vs version qualifiers,
credits and translations in any bracket style, and what each does to a pair."""

from __future__ import annotations

import pandas as pd
import pytest

from vocalmine.core.contract import mining_reasons as R
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.engines import match_tracks
from vocalmine.mining.matching import PAIRED, split_decisions
from vocalmine.mining.normalize import analyze_titles


def tracks(rows: list[tuple[str, str, float]], artist: str = "Moth Parade") -> pd.DataFrame:
    return pd.DataFrame({
        "track_id": [r[0] for r in rows], "artist": artist, "title": [r[1] for r in rows],
        "duration_s": [float(r[2]) for r in rows], "audio_path": "",
    })


def verdicts(decisions: pd.DataFrame) -> dict[tuple, str]:
    return {(o if isinstance(o, str) else None, i): s for o, i, s in zip(decisions["original_id"], decisions["instrumental_id"], decisions["status"])}


@pytest.mark.parametrize("title, core, family", [
    ("Paper Lanterns (Instr.)", "paper lanterns", "instrumental"),
    ("Paper Lanterns (Inst)", "paper lanterns", "instrumental"),
    ("Paper Lanterns [Instrumental Version]", "paper lanterns", "instrumental"),
    ("Paper Lanterns - Instrumental Mix", "paper lanterns", "instrumental"),
    ("Paper Lanterns (Music Only)", "paper lanterns", "instrumental"),
    ("Paper Lanterns (No Vocals)", "paper lanterns", "instrumental"),
    ("Paper Lanterns Instrumental", "paper lanterns", "instrumental"),  # trailing, unbracketed
    ("Velvet Crane (Off Vocal Ver.)", "velvet crane", "off_vocal"),
    ("Velvet Crane (Off Vocal Version)", "velvet crane", "off_vocal"),
    ("Velvet Crane （オフボーカル）", "velvet crane", "off_vocal"),
    ("Tin Harbour (Karaoke)", "tin harbour", "karaoke"),
    ("Tin Harbour (Karaoke Version)", "tin harbour", "karaoke"),
    ("Tin Harbour (TV Karaoke)", "tin harbour", "karaoke"),
    ("Tin Harbour (Original Karaoke)", "tin harbour", "karaoke"),
    ("Tin Harbour [Backing Track]", "tin harbour", "backing_track"),
    ("Tin Harbour - Minus One", "tin harbour", "minus_one"),
    ("Tin Harbour Karaoke", "tin harbour", "karaoke"),
    ("Glass Orchard (Night Drive Mix Instrumental)", "glass orchard night drive mix", "instrumental"),
    ("Glass Orchard (Night Drive Mix Vocal)", "glass orchard night drive mix", ""),
    # words that only contain the marker, and a marker that opens a medley or a genre label
    ("Instruments Of Rain", "instruments of rain", ""),
    ("The Instrumentalist", "the instrumentalist", ""),
    ("Instrumental / Ferry Song", "instrumental ferry song", ""),
    ("Classical Instrumental: Dawn Raga", "classical instrumental dawn raga", ""),
    ("Installation Nine", "installation nine", ""),
    ("Karaoke Queen", "karaoke queen", ""),
])
def test_marker_vocabulary_and_family(title, core, family):
    (info,) = analyze_titles([title])
    assert (info.core, info.family, info.instrumental) == (core, family, bool(family))


@pytest.mark.parametrize("title, core, other, edits", [
    ("Salt Road (Radio Edit)", "salt road", "", "radio edit"),
    ("Salt Road (Album Version)", "salt road", "", "album version"),
    ("Salt Road (Single Version)", "salt road", "", "single version"),
    ("Salt Road (Original Mix)", "salt road", "", "original mix"),
    ("Salt Road (Extended)", "salt road", "", "extended"),
    ("Salt Road - 2009 Remaster", "salt road", "", "2009 remaster"),
    ("Salt Road (Mono Version)", "salt road", "", "mono version"),
    ("Salt Road (Clean)", "salt road", "", "clean"),
    ("Salt Road (Live)", "salt road live", "", ""),
    ("Salt Road (Harbour Dub Remix)", "salt road harbour dub remix", "", ""),
    ("Salt Road (Acoustic)", "salt road acoustic", "", ""),
    ("Salt Road - En Vivo", "salt road en vivo", "", ""),
    ("Salt Road (Glasshouse Extended Instrumental)", "salt road glasshouse extended", "", ""),  # a named mix
    ("Night Ferry （青い灯）", "night ferry", "青い灯", ""),
    ("Night Ferry [Lantern Unit]", "night ferry", "lantern unit", ""),
    ("Night Ferry (Ночной паром)", "night ferry", "ночнои паром", ""),
    ("(Wait For Me) Night Ferry", "wait for me night ferry", "", ""),  # a leading bracket is part of the title
])
def test_edit_version_and_other_bracketed_text(title, core, other, edits):
    (info,) = analyze_titles([title])
    assert (info.core, info.other, info.edits) == (core, other, edits)


@pytest.mark.parametrize("edit", ["(Radio Edit)", "(Album Version)", "(Single Version)", "(Original Mix)", "- 2009 Remaster",
                                  "(Explicit)"])
def test_edit_qualifier_on_one_side_durations_decide(edit):
    same = tracks([("O1", f"Salt Road {edit}", 212.0), ("I1", "Salt Road (Instrumental)", 213.0)])
    assert verdicts(match_tracks(same, config=MiningConfig())) == {("O1", "I1"): PAIRED}
    longer = tracks([("O1", f"Salt Road {edit}", 212.0), ("I1", "Salt Road (Instrumental)", 290.0)])
    assert verdicts(match_tracks(longer, config=MiningConfig())) == {("O1", "I1"): R.DURATION_MISMATCH}


def test_version_qualifiers_must_agree():
    df = tracks([
        ("L1", "Salt Road (Live)", 200), ("R1", "Salt Road (Harbour Dub Remix)", 200), ("A1", "Salt Road (Acoustic)", 200),
        ("I1", "Salt Road (Instrumental)", 200), ("R2", "Salt Road (Harbour Dub Remix) [Instrumental]", 200),
    ])
    got = verdicts(match_tracks(df, config=MiningConfig()))
    assert got[("R1", "R2")] == PAIRED
    for o in ("L1", "A1"):
        assert got[(o, "I1")] == R.TITLE_MISMATCH
    assert got.get(("R1", "I1")) in (None, R.TITLE_MISMATCH)  # too far apart to be a candidate at all


@pytest.mark.parametrize("credit", ["（青い灯）", "（Team 灯台）", "[Lantern Unit]", "(Northern Choir)", "(Ночной паром)"])
def test_credit_or_translation_on_one_side_never_blocks(credit):
    df = tracks([("O1", f"Night Ferry {credit}", 240), ("I1", "Night Ferry (Off Vocal Ver.)", 240)])
    pairs, _ = split_decisions(match_tracks(df, config=MiningConfig()))
    assert pairs[["original_id", "instrumental_id", "marker", "marker_family"]].values.tolist() == [
        ["O1", "I1", "off vocal ver.", "off_vocal"]]


def test_bracketed_text_still_counts_in_the_score():
    # one instrumental, two originals that differ only by a credit: the plain title is the better match
    df = tracks([("O1", "Night Ferry (Lantern Unit)", 240), ("O2", "Night Ferry", 240), ("I1", "Night Ferry (Instrumental)", 240)])
    got = verdicts(match_tracks(df, config=MiningConfig()))
    assert got[("O2", "I1")] == PAIRED and got[("O1", "I1")] == R.LOST_TO_BETTER_MATCH
    # credits on both sides count: the instrumental of one unit's version pairs with that version
    df = tracks([("O1", "Night Ferry (Harbour Unit)", 240), ("O2", "Night Ferry (Lantern Unit)", 240),
                 ("I2", "Night Ferry (Lantern Unit) (Instrumental)", 240)])
    assert verdicts(match_tracks(df, config=MiningConfig()))[("O2", "I2")] == PAIRED


def test_mix_vocal_pairs_with_mix_instrumental_and_engines_agree():
    df = tracks([("V1", "Glass Orchard (Night Drive Mix Vocal)", 301), ("V2", "Glass Orchard (Night Drive Mix Instrumental)", 301),
                 ("V3", "Glass Orchard (Radio Mix)", 205), ("K1", "Tin Harbour", 180), ("K2", "Tin Harbour (Karaoke Version)", 181)])
    pandas = match_tracks(df, config=MiningConfig())
    assert {k for k, v in verdicts(pandas).items() if v == PAIRED} == {("V1", "V2"), ("K1", "K2")}
    pairs, _ = split_decisions(pandas)
    assert dict(zip(pairs["instrumental_id"], pairs["marker_family"])) == {"V2": "instrumental", "K2": "karaoke"}
    pd.testing.assert_frame_equal(match_tracks(df, config=MiningConfig(), engine="dask"), pandas)
