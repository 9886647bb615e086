"""Marker benchmark: catalogs in thirteen languages, pairs judged by a person.

For each language, well-known songs of that market and their instrumental
releases, spelled the ways its labels, stores and karaoke catalogs spell them:
"(Instrumental)", "(Inst.)", "(MR)", "(伴奏版)", "-instrumental-", "(オリジナル・カラオケ)",
"(Versión Instrumental)", "(Playback)", "(Base musicale)", "(Минус)", "(Altyapı)"...
Each instrumental release comes with its own copy of the original (the single
or album it is on), so every spelling can pair; some spell the title or artist
in another width or script than their original (full-width Latin, half-width
katakana, traditional against simplified Chinese, the long-vowel mark typed as a
dash, a dropped middle dot, "Şımarık" against "Simarik").

Traps, which must end in no pair:

- ``song``: a song whose title holds a marker word ("Mr. Blue Sky", "La Pista",
  "カラオケ行こ!", "Mr. Chu (On Stage Ver.)"): must not be read as an instrumental;
- ``vocal``: the voice-only release ("(Acapella)", "(MR Removed)", "(清唱版)"): not an instrumental;
- ``version``: the instrumental of a remix, live take or TV-size edit whose own
  original is not in the catalog: it must not pair with the original mix.

Every case was written and judged by hand: a person would pair each listed
spelling with its song, and none of the traps. The catalog is mined with the
product's library function (``vocalmine.mining.mine.mine``, metadata only), and
the bench prints, per language, precision and recall of the pairs, then every
miss and every trap that failed. Exits 1 when a language has precision below
1.0 or recall below 0.95, or a trap fails.

    .venv/bin/python bench/bench_markers.py [--work DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

RECALL_FLOOR = 0.95


@dataclass(frozen=True)
class Song:
    """A song and its instrumental releases as spelled in that market's catalogs."""

    artist: str
    title: str
    instrumentals: tuple  # titles, or (artist, title) where the release spells the artist its own way


@dataclass(frozen=True)
class Trap:
    """A row that a person would leave unpaired."""

    kind: str  # song | vocal | version (see the module doc)
    artist: str
    title: str
    why: str


LANGUAGES = {
    "en": "English",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "ru": "Russian",
    "tr": "Turkish",
}

SONGS: dict[str, list[Song]] = {
    "en": [
        Song("Queen", "Bohemian Rhapsody", (
            "Bohemian Rhapsody (Instrumental)", "Bohemian Rhapsody - Instrumental",
            "Bohemian Rhapsody [Instrumental Version]", "Bohemian Rhapsody (Karaoke Version)")),
        Song("Adele", "Rolling in the Deep", (
            "Rolling in the Deep (Backing Track)", "Rolling In The Deep - Instrumental Mix",
            "Rolling in the Deep (Karaoke)")),
        Song("The Killers", "Mr. Brightside", ("Mr. Brightside (Instrumental)", "Mr. Brightside - Karaoke Version")),
        Song("Electric Light Orchestra", "Mr. Blue Sky", ("Mr. Blue Sky (Instrumental)",)),
        Song("Toto", "Africa", ("Africa (Inst.)", "Africa (Instr.)", "Africa Instrumental", "Africa (Minus One)")),
        Song("Drake", "Karaoke", ("Karaoke (Instrumental)",)),
        Song("Mark Ronson", "Uptown Funk (feat. Bruno Mars)", (
            "Uptown Funk (Instrumental)", "Uptown Funk - No Vocals", "Uptown Funk (feat. Bruno Mars) [Instrumental]")),
        Song("Journey", "Don't Stop Believin'", (
            "Don’t Stop Believin’ (Music Only)", "Don't Stop Believin' (Backing Track)")),
        Song("Whitney Houston", "I Wanna Dance with Somebody (Who Loves Me)", (
            "I Wanna Dance with Somebody (Who Loves Me) (Instrumental)",)),
        Song("Hillsong Worship", "What a Beautiful Name", (
            "What a Beautiful Name (Performance Track)", "What A Beautiful Name (Accompaniment Track)")),
        Song("Dua Lipa", "Levitating", ("Levitating (Instrumental)", "Levitating - Off Vocal")),
        Song("Dua Lipa", "Levitating (The Blessed Madonna Remix)", (
            "Levitating (The Blessed Madonna Remix) [Instrumental]",)),
    ],
    "ja": [
        Song("LiSA", "紅蓮華", ("紅蓮華 (Instrumental)", "紅蓮華 -instrumental-", "紅蓮華 (オリジナル・カラオケ)", "紅蓮華（インストゥルメンタル）")),
        Song("米津玄師", "Lemon", ("Lemon (Instrumental)", "Lemon -Instrumental-", "Lemon（カラオケ）")),
        Song("YOASOBI", "夜に駆ける", ("夜に駆ける (Instrumental)", "夜に駆ける (off vocal)", "夜に駆ける - Instrumental")),
        Song("Official髭男dism", "Pretender", (
            "Pretender (Instrumental)", "Pretender (オリジナル・カラオケ)", "Pretender (オリジナルカラオケ)",
            "Pretender (インストゥルメンタル・バージョン)")),
        Song("宇多田ヒカル", "First Love", ("First Love (Original Karaoke)", "First Love (Instrumental)")),
        Song("AKB48", "恋するフォーチュンクッキー", (
            "恋するフォーチュンクッキー (off vocal ver.)", "恋するフォーチュンクッキー (Off Vocal Ver.)", "恋するフォ-チュンクッキ- (オフボーカル)")),
        Song("Perfume", "ポリリズム", ("ポリリズム (Original Instrumental)", "ﾎﾟﾘﾘｽﾞﾑ (ｵﾘｼﾞﾅﾙ･ｶﾗｵｹ)")),
        Song("きゃりーぱみゅぱみゅ", "つけまつける", ("つけまつける (Instrumental)", "つけまつける (カラオケ)")),
        Song("μ's", "Snow halation", (
            "Snow halation (Off Vocal)", "Snow halation（Off Vocal）", "Snow halation ～off vocal～")),
        Song("モーニング娘。", "LOVEマシーン", ("ＬＯＶＥマシーン (Instrumental)", "LOVEマシーン (オフ・ヴォーカル)")),
        Song("小田和正", "ラブ・ストーリーは突然に", ("ラブストーリーは突然に (オリジナル・カラオケ)", "ラブ･ストーリーは突然に (Instrumental)")),
        Song("星野源", "恋", ("恋 (Instrumental)", "恋 -off vocal-", "恋 (TV Karaoke)")),
    ],
    "ko": [
        Song("BTS", "Dynamite", ("Dynamite (Instrumental)", "Dynamite (Inst.)")),
        Song("아이유", "좋은 날", ("좋은 날 (Inst.)", "좋은 날 (MR)", "좋은 날 (Instrumental)")),
        Song("BIGBANG", "거짓말", ("거짓말 (Inst.)", "거짓말 (MR Ver.)")),
        Song("BLACKPINK", "뚜두뚜두 (DDU-DU DDU-DU)", ("뚜두뚜두 (DDU-DU DDU-DU) (Instrumental)",)),
        Song("TWICE", "CHEER UP", ("CHEER UP (Inst.)", "CHEER UP (반주)")),
        Song("소녀시대", "소원을 말해봐 (Genie)", ("소원을 말해봐 (Genie) (Inst.)", "소원을 말해봐 (Genie) (노래방 버전)")),
        Song("Apink", "Mr. Chu", ("Mr. Chu (Inst.)", "Mr. Chu (MR)")),
        Song("SUPER JUNIOR", "Mr. Simple", ("Mr. Simple (Instrumental)", "Mr. Simple - MR")),
        Song("임영웅", "이제 나만 믿어요", ("이제 나만 믿어요 (MR)", "이제 나만 믿어요 (반주)")),
        Song("NewJeans", "Hype Boy", ("Hype Boy (Instrumental)", "Hype Boy (Inst.)")),
    ],
    "zh": [
        Song("周杰伦", "晴天", ("晴天 (伴奏)", "晴天 (伴奏版)", "晴天 (纯音乐版)", ("周杰倫", "晴天 (伴奏)"))),
        Song("周杰倫", "說好不哭", (("周杰伦", "说好不哭 (伴奏)"), "說好不哭 (伴奏版)")),
        Song("邓紫棋", "光年之外", ("光年之外 (伴奏)", "光年之外 (Instrumental)", "光年之外 (伴奏版本)")),
        Song("林俊杰", "江南", ("江南 (伴奏)", "江南 (KTV版)")),
        Song("陈奕迅", "十年", ("十年 (伴奏)", "十年 (卡拉OK版)", "十年 (消音版)")),
        Song("田馥甄", "小幸運", ("小幸運 (演奏版)", "小幸运 (伴奏)")),
        Song("五月天", "倔強", ("倔強 (伴奏版)", "倔强 (纯伴奏)")),
        Song("毛不易", "消愁", ("消愁 (伴奏)", "消愁 (原版伴奏)")),
        Song("王菲", "红豆", ("紅豆 (伴奏)", "红豆 (和声伴奏)")),
        Song("张学友", "吻别", ("吻別 (伴奏)", "吻别 (純音樂)")),
    ],
    "de": [
        Song("Helene Fischer", "Atemlos durch die Nacht", (
            "Atemlos durch die Nacht (Instrumental)", "Atemlos durch die Nacht (Instrumentalversion)",
            "Atemlos durch die Nacht (Playback)", "Atemlos durch die Nacht - Karaoke-Version")),
        Song("Nena", "99 Luftballons", (
            "99 Luftballons (Instrumental)", "99 Luftballons (Instrumental-Version)",
            "99 Luftballons (Karaoke Version)")),
        Song("Herbert Grönemeyer", "Männer", ("Männer (Instrumentalfassung)", "Maenner - Instrumental")),
        Song("Andrea Berg", "Du hast mich tausendmal belogen", (
            "Du hast mich tausendmal belogen (Playback)", "Du hast mich tausendmal belogen (Halbplayback)")),
        Song("Peter Fox", "Haus am See", ("Haus am See (Instrumental)", "Haus am See (ohne Gesang)")),
        Song("Die Toten Hosen", "Tage wie diese", (
            "Tage wie diese (Instrumental Version)", "Tage wie diese (Playback-Version)")),
        Song("Rammstein", "Sonne", ("Sonne (Instrumental)",)),
        Song("Wolfgang Petry", "Wahnsinn", ("Wahnsinn (Playback)", "Wahnsinn (Karaoke)")),
    ],
    "fr": [
        Song("Stromae", "Alors on danse", (
            "Alors on danse (Version instrumentale)", "Alors on danse (Instrumental)",
            "Alors on danse - Instrumentale")),
        Song("Édith Piaf", "La Vie en rose", ("La vie en rose (Version karaoké)", "La Vie En Rose (Instrumental)")),
        Song("Indila", "Dernière danse", ("Dernière danse (Version instrumentale)", "Derniere Danse (Instrumental)")),
        Song("Christine and the Queens", "Christine", ("Christine (Instrumentale)",)),
        Song("Zaz", "Je veux", ("Je veux (Version Instrumentale)", "Je veux (Sans paroles)")),
        Song("Angèle", "Balance ton quoi", ("Balance ton quoi (Instrumental)", "Balance ton quoi (Version karaoké)")),
        Song("Jacques Brel", "Ne me quitte pas", (
            "Ne me quitte pas (Instrumental)", "Ne me quitte pas - Version Instrumentale")),
    ],
    "es": [
        Song("Luis Fonsi", "Despacito (feat. Daddy Yankee)", (
            "Despacito (Versión Instrumental)", "Despacito (Instrumental)", "Despacito (Pista)",
            "Despacito - Pista Musical")),
        Song("Shakira", "La Tortura", ("La Tortura (Versión Instrumental)", "La Tortura (Karaoke Version)")),
        Song("Juanes", "La Camisa Negra", ("La Camisa Negra (Pista)", "La Camisa Negra (Instrumental)")),
        Song("Marc Anthony", "Vivir Mi Vida", ("Vivir Mi Vida (Pista Musical)", "Vivir mi vida (Versión Karaoke)")),
        Song("Maná", "Rayando el Sol", ("Rayando el Sol (Pista de acompañamiento)", "Rayando El Sol (Instrumental)")),
        Song("Rosalía", "Malamente", ("Malamente (Instrumental)", "Malamente (Sin voz)")),
        Song("Los Ángeles Azules", "Nunca Es Suficiente", (
            "Nunca Es Suficiente (Pista)", "Nunca es suficiente - Versión Instrumental")),
    ],
    "pt": [
        Song("Anitta", "Show das Poderosas", ("Show das Poderosas (Instrumental)", "Show das Poderosas (Playback)")),
        Song("Anitta", "Show das Poderosas (Ao Vivo)", ("Show das Poderosas (Ao Vivo) (Playback)",)),
        Song("Aline Barros", "Ressuscita-me", ("Ressuscita-me (Playback)", "Ressuscita-me (Versão Instrumental)")),
        Song("Tom Jobim", "Garota de Ipanema", (
            "Garota de Ipanema (Instrumental)", "Garota de Ipanema (Versão Instrumental)")),
        Song("Marília Mendonça", "Infiel", ("Infiel (Playback)", "Infiel (Karaokê)")),
        Song("Jorge & Mateus", "Propaganda", ("Propaganda (Instrumental)", "Propaganda - Playback")),
        Song("Fernandinho", "Uma Nova História", ("Uma Nova História (Playback)", "Uma Nova Historia (Playback)")),
        Song("Harpa Cristã", "Porque Ele Vive", ("Porque Ele Vive (Playback)", "Porque Ele Vive (Sem voz)")),
    ],
    "it": [
        Song("Laura Pausini", "La solitudine", (
            "La solitudine (Strumentale)", "La solitudine (Base musicale)", "La Solitudine (Instrumental)")),
        Song("Eros Ramazzotti", "Più bella cosa", ("Più bella cosa (Versione strumentale)", "Piu bella cosa (Base)")),
        Song("Domenico Modugno", "Nel blu dipinto di blu", (
            "Nel blu dipinto di blu (Base)", "Nel blu, dipinto di blu (Strumentale)")),
        Song("Måneskin", "Zitti e buoni", ("Zitti e buoni (Strumentale)", "Zitti e buoni (Instrumental)")),
        Song("Adriano Celentano", "Azzurro", ("Azzurro (Base karaoke)", "Azzurro - Base")),
        Song("Mahmood", "Soldi", ("Soldi (Strumentale)", "Soldi - Base musicale", "Soldi (Senza voce)")),
    ],
    "nl": [
        Song("Marco Borsato", "Dromen zijn bedrog", (
            "Dromen zijn bedrog (Instrumentaal)", "Dromen Zijn Bedrog (Instrumental)",
            "Dromen zijn bedrog (Karaoke versie)")),
        Song("André Hazes", "Zij gelooft in mij", (
            "Zij gelooft in mij (Instrumentaal)", "Zij Gelooft In Mij (Karaoke)")),
        Song("Doe Maar", "Smoorverliefd", ("Smoorverliefd (Instrumentale versie)",)),
        Song("Snelle", "Reünie", ("Reünie (Instrumentaal)", "Reunie (Instrumental)")),
        Song("Frans Bauer", "Heb je even voor mij", (
            "Heb je even voor mij (Zonder zang)", "Heb Je Even Voor Mij (Instrumentaal)")),
        Song("Suzan & Freek", "Als het avond is", ("Als het avond is (Instrumentaal)",)),
    ],
    "pl": [
        Song("Dawid Podsiadło", "Małomiasteczkowy", (
            "Małomiasteczkowy (Instrumental)", "Małomiasteczkowy (Wersja instrumentalna)",
            "Malomiasteczkowy (Podkład)")),
        Song("sanah", "Szampan", ("Szampan (Instrumental)", "Szampan (Podkład muzyczny)")),
        Song("Maryla Rodowicz", "Małgośka", ("Małgośka (Podkład)", "Malgoska (Karaoke)")),
        Song("Kult", "Arahja", ("Arahja (Wersja instrumentalna)",)),
        Song("Perfect", "Autobiografia", ("Autobiografia (Instrumentalna)", "Autobiografia (Bez wokalu)")),
        Song("Zenek Martyniuk", "Przez twe oczy zielone", (
            "Przez twe oczy zielone (Podkład)", "Przez twe oczy zielone - Wersja Instrumentalna")),
    ],
    "ru": [
        Song("Кино", "Группа крови", (
            "Группа крови (Инструментал)", "Группа крови (Минус)", "Группа крови (Инструментальная версия)")),
        Song("Алла Пугачёва", "Миллион алых роз", (
            "Миллион алых роз (Минусовка)", "Миллион алых роз (Караоке)",
            ("Алла Пугачева", "Миллион Алых Роз (Instrumental)"))),
        Song("Земфира", "Хочешь?", ("Хочешь? (Инструментал)", "Хочешь? (Без вокала)")),
        Song("Руки Вверх", "Крошка моя", ("Крошка моя (Минус)", "Крошка моя (Instrumental)")),
        Song("Баста", "Сансара", ("Сансара (Инструментал)", "Сансара - Минус")),
        Song("Любэ", "Конь", ("Конь (Минусовка)", "Конь (Инструментальная версия)")),
    ],
    "tr": [
        Song("Tarkan", "Şımarık", ("Şımarık (Enstrümantal)", "Şımarık (Instrumental)", "Simarik (Altyapı)")),
        Song("Tarkan", "Şımarık (Remix)", ("Şımarık (Remix) (Enstrümantal)",)),
        Song("Sezen Aksu", "Gülümse", ("Gülümse (Enstrümantal)", "Gülümse (Karaoke)")),
        Song("Barış Manço", "Dağlar Dağlar", ("Dağlar Dağlar (Enstrümental)", "Daglar Daglar (Altyapı)")),
        Song("Sertab Erener", "Aşk", ("Aşk (Enstrümantal)", "Aşk (ALTYAPI)")),
        Song("Mustafa Sandal", "Araba", ("Araba (Enstrumantal)", "Araba (Altyapı)")),
        Song("Sıla", "Vaziyetler", ("Vaziyetler (Enstrümantal Versiyon)", "Vaziyetler (Instrumental)")),
    ],
}

TRAPS: dict[str, list[Trap]] = {
    "en": [
        Trap("song", "The Chordettes", "Mr. Sandman", "a song; 'Mr' is no marker in the main title"),
        Trap("song", "Alexandra Stan", "Mr. Saxobeat", "a song"),
        Trap("song", "Catatonia", "Karaoke Queen", "a song; 'Karaoke' opens the title"),
        Trap("song", "Meghan Trainor", "All About That Bass", "a song"),
        Trap("song", "The Beatles", "Being for the Benefit of Mr. Kite!", "'Mr.' in the middle of a title"),
        Trap("song", "Fantastic Plastic Machine", "Playback", "a song called Playback: no bracket, no dash"),
        Trap("song", "Riddim Crew", "Wear It Out (Mr Vasovski Remix)", "'Mr' inside a bracket but not the whole of it"),
        Trap("song", "Simon & Garfunkel", "The Boxer (Base Camp Demo)",
             "'Base' inside a bracket but not the whole of it"),
        Trap("vocal", "Adele", "Rolling in the Deep (Acapella)", "the voice alone"),
        Trap("vocal", "Queen", "Bohemian Rhapsody (Vocals Only)", "the voice alone"),
        Trap("version", "Dua Lipa", "Levitating (Moonlight Club Remix) [Instrumental]",
             "a remix's instrumental, whose remix is not in the catalog, against the original mix"),
        Trap("version", "Toto", "Africa (Live) (Instrumental)",
             "a live take's instrumental against the studio recording"),
    ],
    "ja": [
        Trap("song", "あいみょん", "カラオケ行こ!", "a song: 'karaoke' starts the title"),
        Trap("song", "LiSA", "紅蓮華 (TV size)", "the TV edit, no marker"),
        Trap("vocal", "米津玄師", "Lemon (アカペラ)", "the voice alone"),
        Trap("version", "LiSA", "紅蓮華 (Remix) -instrumental-", "a remix's instrumental"),
        Trap("version", "YOASOBI", "夜に駆ける (Piano ver.) (Instrumental)", "a piano version's instrumental"),
    ],
    "ko": [
        Trap("song", "Apink", "Mr. Chu (On Stage Ver.)", "another version of the song, no marker"),
        Trap("song", "소녀시대", "MR. TAXI", "a song: 'MR' opens the title"),
        Trap("vocal", "아이유", "좋은 날 (MR Removed)", "MR removed: the voice alone"),
        Trap("vocal", "BIGBANG", "거짓말 (MR 제거)", "MR removed: the voice alone"),
        Trap("version", "BTS", "Dynamite (Tropical Remix) (Instrumental)", "a remix's instrumental"),
    ],
    "zh": [
        Trap("song", "周杰伦", "晴天 (钢琴伴奏版)", "a piano arrangement, not the song's own accompaniment"),
        Trap("song", "林俊杰", "江南 (演奏会 Live)", "'演奏' inside a bracket but not the whole of it: a concert"),
        Trap("vocal", "邓紫棋", "光年之外 (清唱版)", "the voice alone"),
        Trap("version", "陈奕迅", "十年 (Live) (伴奏)", "a live take's accompaniment"),
        Trap("version", "邓紫棋", "光年之外 (Remix) (伴奏)", "a remix's accompaniment"),
    ],
    "de": [
        Trap("song", "Tocotronic", "Playback meines Lebens", "'Playback' opens a title"),
        Trap("song", "Helene Fischer", "Atemlos durch die Nacht (Live aus Berlin)", "a live take, no marker"),
        Trap("version", "Helene Fischer", "Atemlos durch die Nacht (Remix) (Instrumental)", "a remix's instrumental"),
        Trap("vocal", "Nena", "99 Luftballons (A cappella)", "the voice alone"),
    ],
    "fr": [
        Trap("song", "Stromae", "Alors on danse (Remix)", "a remix, no marker"),
        Trap("version", "Indila", "Dernière danse (Remix) (Version instrumentale)", "a remix's instrumental"),
        Trap("version", "Édith Piaf", "La Vie en rose (Live à l'Olympia) (Instrumental)", "a live take's instrumental"),
    ],
    "es": [
        Trap("song", "Los Tigres del Norte", "La Pista", "a song called La Pista"),
        Trap("song", "Grupo Niche", "Pista de Baile", "'Pista' opens a title"),
        Trap("song", "Juanes", "La Camisa Negra (En Vivo)", "a live take, no marker"),
        Trap("version", "Luis Fonsi", "Despacito (Remix) (Instrumental)", "a remix's instrumental"),
    ],
    "pt": [
        Trap("version", "Anitta", "Show das Poderosas (Acústico) (Playback)", "an acoustic take's backing track"),
        Trap("song", "Ivete Sangalo", "Base do Samba", "'Base' opens a title"),
    ],
    "it": [
        Trap("song", "Cesare Cremonini", "La Base", "a song called La Base"),
        Trap("song", "Laura Pausini", "La solitudine (Live)", "a live take, no marker"),
        Trap("version", "Mahmood", "Soldi (Remix) (Strumentale)", "a remix's instrumental"),
    ],
    "nl": [
        Trap("song", "Marco Borsato", "Dromen zijn bedrog (Live)", "a live take, no marker"),
        Trap("version", "Snelle", "Reünie (Remix) (Instrumentaal)", "a remix's instrumental"),
    ],
    "pl": [
        Trap("song", "Dawid Podsiadło", "Małomiasteczkowy (Akustycznie)", "an acoustic take, no marker"),
        Trap("version", "sanah", "Szampan (Remix) (Podkład)", "a remix's backing track"),
    ],
    "ru": [
        Trap("song", "Сплин", "Минус сорок", "'минус' opens a title"),
        Trap("song", "Кино", "Группа крови (Live)", "a live take, no marker"),
        Trap("version", "Баста", "Сансара (Remix) (Инструментал)", "a remix's instrumental"),
    ],
    "tr": [
        Trap("version", "Tarkan", "Şımarık (Kiss Kiss Remix) (Enstrümantal)", "another remix's instrumental"),
        Trap("song", "Duman", "Altyapı Sorunu", "'Altyapı' opens a title"),
    ],
}


def build_catalog() -> tuple[pd.DataFrame, dict[str, tuple[str, int]], dict[str, tuple[str, Trap]]]:
    """The catalog rows, the song of each instrumental row and the trap of each trap row.

    Each instrumental release gets its own copy of the original (seconds apart, as on an album and a
    single); every instrumental lasts 0.8 s longer than its copy, a version trap as long as the original.
    """
    rows, truth, traps = [], {}, {}
    for lang, songs in SONGS.items():
        for s, song in enumerate(songs):
            base = 180.0 + 7.0 * s
            for j, spelling in enumerate(song.instrumentals):
                artist, title = spelling if isinstance(spelling, tuple) else (song.artist, spelling)
                rows.append((f"{lang}-{s:02d}-o{j}", song.artist, song.title, base + 0.4 * j))
                rows.append((f"{lang}-{s:02d}-i{j}", artist, title, base + 0.4 * j + 0.8))
                truth[f"{lang}-{s:02d}-i{j}"] = (lang, s)
        for k, trap in enumerate(TRAPS.get(lang, [])):
            same = next((s for s, song in enumerate(songs) if song.artist == trap.artist), None)
            duration = 180.0 + 7.0 * same if same is not None else 200.0 + k
            rows.append((f"{lang}-t{k:02d}", trap.artist, trap.title, duration))
            traps[f"{lang}-t{k:02d}"] = (lang, trap)
    frame = pd.DataFrame(rows, columns=["track_id", "artist", "title", "duration"])
    return frame, truth, traps


def mine_catalog(frame: pd.DataFrame, work: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mine the catalog with the product's library function; (pairs, unpaired)."""
    from vocalmine.core.catalog import load_catalog
    from vocalmine.core.contract.pairs import PAIRS_SCHEMA, UNPAIRED_SCHEMA
    from vocalmine.core.tables import read_table
    from vocalmine.mining.config import MiningConfig
    from vocalmine.mining.mine import mine

    work.mkdir(parents=True, exist_ok=True)
    frame.to_csv(work / "tracks.csv", index=False)
    (work / "data_catalog.yaml").write_text(
        "tracks:\n  path: tracks.csv\n"
        "  columns: {track_id: track_id, artist: artist, title: title, duration: duration}\n",
        encoding="utf-8")
    catalog = load_catalog(work / "data_catalog.yaml")
    mine(catalog=catalog, scheduler="sync", config=MiningConfig())
    return read_table(catalog.pairs, PAIRS_SCHEMA), read_table(catalog.unpaired, UNPAIRED_SCHEMA)


def judge(frame: pd.DataFrame, pairs: pd.DataFrame, unpaired: pd.DataFrame, truth: dict, traps: dict
          ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Per-language precision and recall, the misses and the failed traps, as a person reads them."""
    title = dict(zip(frame["track_id"], frame["title"]))
    marked = set(pairs["instrumental_id"]) | set(unpaired.loc[unpaired["role"] == "instrumental", "track_id"])
    why = dict(zip(unpaired["track_id"], unpaired["reason"] + ": " + unpaired["detail"].fillna("")))
    paired_with = dict(zip(pairs["instrumental_id"], pairs["original_id"]))
    stats = {lang: {"instrumentals": 0, "pairs": 0, "correct": 0} for lang in LANGUAGES}
    misses, failed = [], []
    for inst, orig in paired_with.items():
        lang = inst.split("-")[0]
        stats[lang]["pairs"] += 1
        good = inst in truth and orig.startswith(f"{lang}-{truth[inst][1]:02d}-o")
        stats[lang]["correct"] += good
        if not good and inst in truth:
            misses.append(f"{lang} WRONG PAIR  {title[inst]!r} <-> {title[orig]!r}")
    for inst, (lang, _) in truth.items():
        stats[lang]["instrumentals"] += 1
        if inst not in paired_with:
            state = "not read as an instrumental" if inst not in marked else why.get(inst, "content stage")
            misses.append(f"{lang} MISSED      {title[inst]!r}: {state}")
    originals_marked = sorted(t for t in marked if "-o" in t)
    misses += [f"{t.split('-')[0]} ORIGINAL MARKED {title[t]!r}" for t in originals_marked]
    for tid, (lang, trap) in traps.items():
        in_pair = tid in paired_with or tid in set(pairs["original_id"])
        bad = in_pair or (trap.kind in ("song", "vocal") and tid in marked)
        if bad:
            what = "paired" if in_pair else "marked as an instrumental"
            failed.append(f"{lang} {trap.kind:<7} {trap.title!r} {what} ({trap.why})")
    table = pd.DataFrame([
        {"language": f"{code} {LANGUAGES[code]}", "songs": len(SONGS[code]), "instrumentals": s["instrumentals"],
         "pairs": s["pairs"], "correct": s["correct"], "precision": s["correct"] / max(s["pairs"], 1),
         "recall": s["correct"] / max(s["instrumentals"], 1), "traps": len(TRAPS.get(code, []))}
        for code, s in stats.items()
    ])
    return table, misses, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None,
                        help="where the catalog and outputs go (a temp folder if left out)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    frame, truth, traps = build_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        pairs, unpaired = mine_catalog(frame, args.work or Path(tmp))
    table, misses, failed = judge(frame, pairs, unpaired, truth, traps)
    print(f"# marker benchmark: {len(frame)} rows, {len(truth)} instrumental releases of "
          f"{sum(map(len, SONGS.values()))} songs in {len(LANGUAGES)} languages, {len(traps)} traps\n")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    kinds = pd.Series([t.kind for _, t in traps.values()]).value_counts()
    print(f"\ntraps: {len(traps)} ({', '.join(f'{k} {n}' for k, n in kinds.items())}), failed {len(failed)}")
    for line in failed:
        print("  TRAP", line)
    print(f"misses: {len(misses)}")
    for line in misses:
        print("  ", line)
    ok = bool((table["precision"] == 1.0).all() and (table["recall"] >= RECALL_FLOOR).all() and not failed)
    print(f"\nevery language precision 1.0 and recall >= {RECALL_FLOOR}, no trap failed: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
