"""Catalogs in every language: the shipped marker vocabulary, ambiguous words by position, titles that differ
only in width or script, and a catalog's own markers (a smaller set than bench/bench_markers.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from vocalmine.cli import cli
from vocalmine.core.contract.pairs import PAIRS_SCHEMA
from vocalmine.core.errors import ConfigError
from vocalmine.core.tables import read_metadata, read_table
from vocalmine.mining.config import MiningConfig
from vocalmine.mining.engines import match_tracks
from vocalmine.mining.markers import FAMILIES, MarkerGroup, load_markers, shipped
from vocalmine.mining.matching import split_decisions
from vocalmine.mining.normalize import analyze_titles, normalize_artists


def tracks(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """(track_id, artist, title, duration_s) rows as valid tracks."""
    ids, artists, titles, seconds = zip(*rows)
    return pd.DataFrame({"track_id": ids, "artist": artists, "title": titles, "duration_s": map(float, seconds),
                         "audio_path": ""})


def pairs_of(rows, config: MiningConfig = MiningConfig(), engine: str = "pandas") -> set[tuple[str, str]]:
    pairs, _ = split_decisions(match_tracks(tracks(rows), config=config, engine=engine))
    return set(zip(pairs["original_id"], pairs["instrumental_id"]))


# (artist, original, instrumental, family): spellings of each market's labels, stores and karaoke catalogs
SPELLINGS = [
    ("Toto", "Africa", "Africa (Inst.)", "instrumental"),
    ("Queen", "Bohemian Rhapsody", "Bohemian Rhapsody - Karaoke Version", "karaoke"),
    ("LiSA", "紅蓮華", "紅蓮華 (オリジナル・カラオケ)", "karaoke"),
    ("LiSA", "紅蓮華", "紅蓮華 -instrumental-", "instrumental"),
    ("AKB48", "恋するフォーチュンクッキー", "恋するフォーチュンクッキー (オフボーカル)", "off_vocal"),
    ("μ's", "Snow halation", "Snow halation ～off vocal～", "off_vocal"),
    ("아이유", "좋은 날", "좋은 날 (MR)", "instrumental"),
    ("아이유", "좋은 날", "좋은 날 (반주)", "instrumental"),
    ("周杰伦", "晴天", "晴天 (伴奏版)", "instrumental"),
    ("陈奕迅", "十年", "十年 (卡拉OK版)", "karaoke"),
    ("Helene Fischer", "Atemlos durch die Nacht", "Atemlos durch die Nacht (Instrumentalversion)", "instrumental"),
    ("Helene Fischer", "Atemlos durch die Nacht", "Atemlos durch die Nacht (Playback)", "backing_track"),
    ("Stromae", "Alors on danse", "Alors on danse (Version instrumentale)", "instrumental"),
    ("Luis Fonsi", "Despacito", "Despacito (Versión Instrumental)", "instrumental"),
    ("Juanes", "La Camisa Negra", "La Camisa Negra (Pista)", "backing_track"),
    ("Aline Barros", "Ressuscita-me", "Ressuscita-me (Versão Instrumental)", "instrumental"),
    ("Laura Pausini", "La solitudine", "La solitudine (Strumentale)", "instrumental"),
    ("Laura Pausini", "La solitudine", "La solitudine (Base musicale)", "backing_track"),
    ("Marco Borsato", "Dromen zijn bedrog", "Dromen zijn bedrog (Instrumentaal)", "instrumental"),
    ("Kult", "Arahja", "Arahja (Wersja instrumentalna)", "instrumental"),
    ("Maryla Rodowicz", "Małgośka", "Małgośka (Podkład)", "backing_track"),
    ("Кино", "Группа крови", "Группа крови (Минус)", "minus_one"),
    ("Кино", "Группа крови", "Группа крови (Инструментал)", "instrumental"),
    ("Tarkan", "Şımarık", "Şımarık (Enstrümantal)", "instrumental"),
    ("Tarkan", "Şımarık", "Şımarık (Altyapı)", "backing_track"),
]


@pytest.mark.parametrize("artist, original, instrumental, family", SPELLINGS)
def test_each_market_spelling_pairs_with_its_family(artist, original, instrumental, family):
    (info,) = analyze_titles([instrumental])
    assert (info.instrumental, info.family) == (True, family)
    assert pairs_of([("O", artist, original, 200), ("I", artist, instrumental, 201)]) == {("O", "I")}


def test_shipped_vocabulary_covers_every_language_and_family_and_reads_each_term_as_its_family():
    vocab = shipped()
    languages = {code.strip() for g in vocab.groups for code in g.language.split(",")}
    assert languages >= {"en", "ja", "ko", "zh", "de", "fr", "es", "pt", "it", "nl", "pl", "ru", "tr"}
    assert {g.family for g in vocab.groups} == set(FAMILIES)
    assert all(g.source for g in vocab.groups)  # every group says where its terms come from
    for group in vocab.groups:
        for term in group.terms:
            (info,) = analyze_titles([f"Salt Road ({term})"])
            assert (info.core, info.family) == ("salt road", group.family), (term, info)


# Real song titles holding a word that is a marker elsewhere: none is an instrumental.
SONG_TITLES = [
    "Mr. Blue Sky", "Mr. Brightside", "Mr. Saxobeat", "Mr. Chu (On Stage Ver.)", "MR. TAXI",
    "Being for the Benefit of Mr. Kite!", "Wear It Out (Mr Vasovski Remix)",  # "Mr" inside a bracket, not all of it
    "All About That Bass", "Base Camp", "Never Come Down (Q-base 2012 Live Edit)", "The Boxer (Base Camp Demo)",
    "Playback", "Playback meines Lebens", "Rewind (Playback Edit)",
    "La Pista", "Pista de Baile", "Installation Nine", "Instruments Of Rain",
    "Karaoke", "Karaoke Queen", "カラオケ行こ!", "Минус сорок", "Altyapı Sorunu", "晴天 (钢琴伴奏版)",
    "좋은 날 (MR Removed)", "거짓말 (MR 제거)", "Rolling in the Deep (Acapella)", "光年之外 (清唱版)",
]


@pytest.mark.parametrize("title", SONG_TITLES)
def test_ambiguous_words_outside_brackets_or_not_alone_are_no_marker(title):
    (info,) = analyze_titles([title])
    assert not info.instrumental, info


@pytest.mark.parametrize("title, family", [
    ("Mr. Chu (MR)", "instrumental"), ("Mr. Simple - MR", "instrumental"), ("거짓말 (MR Ver.)", "instrumental"),
    ("Song [Playback]", "backing_track"), ("Song - Playback-Version", "backing_track"),
    ("La Pista (Pista)", "backing_track"),
    ("Azzurro - Base", "backing_track"), ("Конь (Минус)", "minus_one"), ("Araba (ALTYAPI)", "backing_track"),
])
def test_ambiguous_words_count_as_the_whole_bracket_or_dash_part(title, family):
    (info,) = analyze_titles([title])
    assert (info.instrumental, info.family) == (True, family)


@pytest.mark.parametrize("artist, original, inst_artist, instrumental", [
    ("Perfume", "ポリリズム", "Perfume", "ﾎﾟﾘﾘｽﾞﾑ (ｵﾘｼﾞﾅﾙ･ｶﾗｵｹ)"),  # half-width katakana, half-width middle dot
    ("モーニング娘。", "LOVEマシーン", "モーニング娘。", "ＬＯＶＥマシーン (Instrumental)"),  # full-width Latin
    ("周杰倫", "說好不哭", "周杰伦", "说好不哭 (伴奏)"),  # traditional against simplified, title and artist
    ("五月天", "倔強", "五月天", "倔强 (纯伴奏)"),
    ("小田和正", "ラブ・ストーリーは突然に", "小田和正", "ラブストーリーは突然に (Instrumental)"),  # middle dot dropped
    ("AKB48", "ポーカーフェイス", "AKB48", "ポ-カ-フェイス (off vocal)"),  # long-vowel mark typed as a dash
    ("Tarkan", "Şımarık", "Tarkan", "Simarik (Instrumental)"),  # dotless ı written plain
])
def test_titles_differing_only_in_width_or_script_pair(artist, original, inst_artist, instrumental):
    assert pairs_of([("O", artist, original, 240), ("I", inst_artist, instrumental, 240)]) == {("O", "I")}


def test_width_and_script_variants_fold_to_one_spelling():
    (a, b, c, d) = analyze_titles(["ポリリズム", "ﾎﾟﾘﾘｽﾞﾑ", "ロマンス・ロマンス", "ロマンス･ロマンス"])
    assert a.core == b.core and c.core == d.core
    assert analyze_titles(["ロマンスロマンス"])[0].core == c.core
    assert normalize_artists(["周杰倫", "周杰伦", "ＹＯＡＳＯＢＩ"]).tolist() == ["周杰伦", "周杰伦", "yoasobi"]


def test_a_remix_or_live_instrumental_never_pairs_with_the_original_mix():
    rows = [("O", "Luis Fonsi", "Despacito", 229),
            ("I1", "Luis Fonsi", "Despacito (Remix) (Versión Instrumental)", 229),
            ("I2", "LiSA", "紅蓮華 (Remix) -instrumental-", 240), ("O2", "LiSA", "紅蓮華", 240),
            ("I3", "陈奕迅", "十年 (Live) (伴奏)", 205), ("O3", "陈奕迅", "十年", 205)]
    assert pairs_of(rows) == set()


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_catalogs_own_marker_pairs_rows_that_did_not_pair_without_it(tmp_path):
    rows = [("O1", "Harbour Lights", "Night Ferry", 241), ("I1", "Harbour Lights", "Night Ferry [BGM]", 242),
            ("O2", "Harbour Lights", "Salt Road", 199),
            ("I2", "Harbour Lights", "Salt Road (Guide Melody Version)", 200),
            ("O3", "Harbour Lights", "BGM Forever", 180)]
    assert pairs_of(rows) == set()
    groups = load_markers(_write(tmp_path / "markers.yaml", (
        "markers:\n"
        "  - {family: instrumental, position: alone, terms: [bgm]}\n"
        "  - family: karaoke\n    position: segment\n    terms: [guide melody]\n    source: our house style\n")))
    config = MiningConfig(markers=groups)
    assert pairs_of(rows, config) == {("O1", "I1"), ("O2", "I2")}  # "BGM Forever" stays a song: bgm counts alone
    assert pairs_of(rows, config, engine="dask") == {("O1", "I1"), ("O2", "I2")}
    (info,) = analyze_titles(["Salt Road (Guide Melody Version)"], groups)
    assert (info.family, info.marker) == ("karaoke", "guide melody version")


def test_mine_markers_option_pairs_and_records_the_markers(tmp_path):
    csv = _write(tmp_path / "tracks.csv", "id,artist,title,seconds\n1,Harbour Lights,Night Ferry,241\n"
                                          "2,Harbour Lights,Night Ferry [BGM],242\n3,Harbour Lights,Salt Road,199\n")
    yaml_file = _write(tmp_path / "catalog.yaml", f"tracks:\n  path: {csv}\n"
                       "  columns: {track_id: id, artist: artist, title: title, duration: seconds}\n")
    markers = _write(tmp_path / "house.yaml", "markers:\n  - {family: instrumental, position: alone, terms: [bgm]}\n")
    result = CliRunner().invoke(cli, ["--catalog", str(yaml_file), "mine", "--markers", str(markers)])
    assert result.exit_code == 0, result.output
    pairs_file = tmp_path / "data" / "work" / "pairs.parquet"
    pairs = read_table(pairs_file, PAIRS_SCHEMA)
    assert pairs[["original_id", "instrumental_id", "marker_family"]].values.tolist() == [["1", "2", "instrumental"]]
    assert read_metadata(pairs_file).settings["markers"][0]["terms"] == ["bgm"]
    result = CliRunner().invoke(cli, ["--catalog", str(yaml_file), "mine"])  # the shipped vocabulary alone: no pair
    assert result.exit_code == 1 and "no (original, instrumental) pair remains" in result.output


def test_malformed_markers_file_is_one_config_error_naming_every_problem(tmp_path):
    bad = _write(tmp_path / "bad.yaml", (
        "markers:\n"
        "  - {family: karaok, position: middle, terms: [bgm], colour: red}\n"
        "  - {family: karaoke, terms: []}\n"
        "  - {family: karaoke, position: alone, terms: [bgm]}\n"
        "  - not a group\n"
        "extra: 1\n"))
    with pytest.raises(ConfigError) as err:
        load_markers(bad)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{bad}: 7 problems: ")
    for part in ("unknown key 'extra'", "unknown key 'markers[0].colour'", "'markers[0].family' must be one of",
                 "'markers[0].position' must be one of end, segment, alone", "missing key 'markers[1].position'",
                 "'markers[1].terms' must be a non-empty list", "'markers[3]' must be a mapping"):
        assert part in message
    conflict = _write(tmp_path / "conflict.yaml", "markers:\n  - {family: karaoke, position: alone, terms: [bgm]}\n"
                                                  "  - {family: instrumental, position: alone, terms: [BGM]}\n")
    with pytest.raises(ConfigError, match=r"term 'BGM' of 'markers\[1\]' is also in 'markers\[0\]' as karaoke/alone"):
        load_markers(conflict)
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_markers(_write(tmp_path / "broken.yaml", "markers: [\n"))
    with pytest.raises(ConfigError, match="markers file not found"):
        load_markers(tmp_path / "missing.yaml")
    result = CliRunner().invoke(cli, ["mine", "--markers", str(bad)])
    assert result.exit_code == 1 and result.output.count("\n") == 1 and result.output.startswith("error: ")


def test_marker_groups_are_checked_when_made_in_code():
    with pytest.raises(ConfigError, match="'markers.family' must be one of"):
        MarkerGroup("vocal", "alone", ("bgm",))
    with pytest.raises(ConfigError, match="markers must be a tuple of MarkerGroup"):
        MiningConfig(markers=({"family": "karaoke"},))
    assert MarkerGroup("karaoke", "segment", ["sing along"]).terms == ("sing along",)
