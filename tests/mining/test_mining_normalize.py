"""Normaliser and instrumental-marker detector on real-world spellings (Discogs, Spotify)."""

from __future__ import annotations

import pytest

from vocalmine.mining.normalize import normalize_artists, normalize_title, qualifiers


@pytest.mark.parametrize(
    "title, base, instrumental",
    [
        # Discogs sample spellings
        ("Got 2 Get (Instrumental)", "got 2 get", True),
        ("Got 2 Get (Vocal)", "got 2 get", False),
        ("Messages (Instrumental)", "messages", True),
        ("No Stoppin' (The Hallway Mix) (Instrumental)", "no stoppin the hallway mix", True),
        ("No Stoppin' (The Hallway Mix) (Dirty Version)", "no stoppin the hallway mix", False),
        ("No Stoppin' (The Hallway Mix) (Radio Version)", "no stoppin the hallway mix", False),  # an edit qualifier
        ("I'm In Love (I Wanna Do It) (Instrumental Edit)", "im in love", True),  # subtitle: other bracketed text
        ("Sacrifice (Rio Club Mix Instrumental)", "sacrifice rio club mix", True),
        ("Sacrifice (Rio Club Mix Vocal)", "sacrifice rio club mix", False),
        ("Messages (Main Mix)", "messages", False),
        ("So Long! (Off Vocal Ver.)", "so long", True),
        ("Feels Like The First Time (Acappella)", "feels like the first time acappella", False),
        ("Your Mind (Instrumental Version)", "your mind", True),
        ("Just The Way It Is (Bust & Beaver Extended Instrumental)", "just the way it is bust and beaver extended", True),
        ("Östermalm", "ostermalm", False),
        ("Södermalm", "sodermalm", False),
        ("SWELL!!! (feat. OHTWO FAUST & Adamn Killa)", "swell", False),
        # Spotify hit-predictor spellings
        ("Boughs of Holly - Instrumental", "boughs of holly", True),
        ("Don't Speak (Instrumental)", "dont speak", True),
        ("Only Time - Piano Instrumental", "only time piano", True),
        ("Riverside Lullaby (Instrumental Version)", "riverside lullaby", True),
        ("Naturally Born (feat. Big Noyd, Large Professor & Kool G Rap) - Instrumental", "naturally born", True),
        ("Mamata (Affection) - Instrumental", "mamata", True),  # a translation: other bracketed text
        ("Lazy Afternoon - Remastered 2004", "lazy afternoon", False),
        ("Painting Box - 2010 Remaster", "painting box", False),
        ("(I Left My Heart) In San Francisco - 2007 Remastered Version", "i left my heart in san francisco", False),
        ("In the Sanctuary - Live", "in the sanctuary live", False),
        ("4Play (feat. Ty Dolla $ign)", "4play", False),
        ("Luthers julsång - Instrumental", "luthers julsang", True),
        # other real spellings
        ("Song [Instrumental Version]", "song", True),
        ("Song - Instrumental Mix", "song", True),
        ("Song (Inst.)", "song", True),
        ("Song (Off Vocal)", "song", True),
        ("Straße (Radio Edit)", "strasse", False),
        ("Institute of Sound", "institute of sound", False),
    ],
)
def test_titles(title, base, instrumental):
    assert normalize_title(title) == (base, instrumental)


def test_artists():
    got = normalize_artists(
        [
            "Critical Point Feat. Vikter Duplaix",
            "The Jive All-Stars Featuring Jane Blaze , Kasino & Mic Vandalz",
            "Intro (3)",
            "Benny Benassi The Biz (5)",
            "Moby Featuring Gwen Stefani",
            "Reba McEntire Duet With Kelly Clarkson",
            "BYSON",
            "Beyoncé & JAY-Z",
            "Simon and Garfunkel",
            "Simon & Garfunkel",
        ]
    ).tolist()
    assert got == [
        "critical point", "jive all stars", "intro", "benny benassi the biz", "moby",
        "reba mcentire duet with kelly clarkson", "byson", "beyonce and jay z", "simon and garfunkel", "simon and garfunkel",
    ]


def test_version_qualifiers_stay_in_the_title_edit_qualifiers_do_not():
    assert qualifiers(normalize_title("Song (Radio Edit)")[0]) == frozenset()
    assert qualifiers(normalize_title("Song (Club Edit)")[0]) == {"club", "edit"}
    assert qualifiers(normalize_title("Song (Live)")[0]) == {"live"}
    assert qualifiers(normalize_title("Song (Remix) [Instrumental]")[0]) == {"remix"}
    assert qualifiers(normalize_title("Song (Album Version)")[0]) == frozenset()


def test_fold_takes_the_ascii_shortcut_without_changing_any_text():
    import random

    import pyarrow as pa

    from vocalmine.mining import fold as F

    alphabet = list("abcXYZ 019'`’´‘-()&.ßÉéñüİıłøカラオケﾊﾞ周杰倫ボ-カル・ＬｏｖｅＯ\u00a0\u0301") + ["\U0001F600"]
    rng = random.Random(0)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(3000)]
    texts += ["Don't Stop", "rock `n` roll", "", None]
    values = pa.array(texts, type=pa.string())
    assert F.fold(values).equals(F._fold_unicode(values))
    ascii_only = pa.array(["Don't Stop", "ROCK `N` ROLL", None], type=pa.string())
    assert F.fold(ascii_only).to_pylist() == ["dont stop", "rock n roll", None]
