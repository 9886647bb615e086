"""The fast paths of title reading (a main text and one segment, or two bracket groups, split for the whole
column at once) give exactly what the general reader gives."""

from __future__ import annotations

import itertools

import pyarrow.compute as pc

from vocalmine.mining.fold import as_arrow, fold
from vocalmine.mining.markers import shipped, vocabulary
from vocalmine.mining.normalize import (
    _NEEDS_READING, TITLE_FIELDS, _analyze, _split_one_part, _split_two_brackets, title_columns,
)

MAINS = [
    "Love Me", "Östermalm", "Mr. Blue Sky", "Instrumental / Eat At Home", "Song feat. Guest", "Song Ft. Guest",
    "Song -Three Star-", "Song ～", "Light Foot Mix Instrumental", "Re-Run", "Jay-Z Song", "夜に駆ける", "後來",
    "Canción de amor", "Song Karaoke", "Off Vocal", "  ", "Love & Hate", "Song -", "with Friends", "Song featuring",
]
SEGMENTS = [
    "Radio Edit", "Live", "Remix", "feat. Guest", "with Someone", "Rio Club Mix Instrumental", "Rio Club Mix Vocal",
    "Original Instrumental", "Album Version", "Instrumental Edit", "I Wanna Do It", "Remastered 2011", "MR", "Playback",
    "Inst.", "Off Vocal Ver.", "Acappella", "Instrumental", "Backing Track", "Minus One", "英語版", "Extended Mix",
    "Dirty", "", "instrumentals", "Bust & Beaver Extended Instrumental", "Karaoke Version", "Live - Instrumental",
]
SHAPES = ["{m} ({s})", "{m} [{s}]", "{m} - {s}", "{m} – {s}", "{m} 【{s}】", "{m}（{s}）", "{m} ({s}) ", "{m} -{s}-",
          "({s}) {m}", "{m} ({s}) (Live)", "{m} - {s} - Live", "{m} ~{s}~", "{m} ({s}", "{m}",
          "{m} (Live) ({s})", "{m} ({s}) [Inst.]", "{m} 【{s}】（feat. Guest） ", "{m}({s})(Remix)", "{m} ({s}) x (Live)",
          "{m} (Radio Edit) ({s}) (Live)", "{m} ((Live) {s})"]


def titles() -> list[str]:
    terms = [t for group in shipped().groups for t in group.terms]
    segments = SEGMENTS + terms
    out = [shape.format(m=m, s=s) for shape, m, s in itertools.product(SHAPES, MAINS, SEGMENTS)]
    out += [shape.format(m=m, s=s) for shape, m, s in itertools.product(SHAPES[:4], MAINS[:3], segments)]
    return out


def _split(texts: list[str]) -> dict[str, bool]:
    vocab = vocabulary()
    folded = pc.fill_null(fold(as_arrow(texts)), "")
    split, _, _ = _split_one_part(folded, _NEEDS_READING + "|" + vocab.trailing_words)
    return dict(zip(folded.to_pylist(), split.tolist()))


def test_fast_path_takes_most_one_segment_titles_and_leaves_the_others_to_the_general_reader():
    split = _split(titles())
    one_segment = [t for t in split if " (" in t and t.count("(") == 1 and t.endswith(")")]
    assert sum(split[t] for t in one_segment) > 0.6 * len(one_segment)
    # the shapes it must leave to the general reader
    for title, taken in _split(["hello feat (inst)", "(intro) song", "song (live) (instrumental)", "song -off vocal-",
                                "song (inst", "song -\u2028(inst)"]).items():
        assert not taken, title
    assert all(_split(["song (radio edit)", "song - instrumental"]).values())


def test_title_columns_agree_with_the_general_reader_row_by_row():
    values = titles()
    columns = title_columns(values)
    vocab = vocabulary()
    folded = pc.fill_null(fold(as_arrow(values)), "").to_pylist()
    for k, text in enumerate(folded):
        info = _analyze(text, vocab)
        assert tuple(columns[f][k] for f in TITLE_FIELDS) == tuple(getattr(info, f) for f in TITLE_FIELDS), text


def test_two_bracket_path_takes_two_trailing_groups_and_leaves_the_others():
    vocab = vocabulary()
    texts = ["song (live) (instrumental)", "song [feat. x] (inst.)", "song (a) (b) (c)", "song (a) x (b)",
             "song - live (inst)", "(intro) (inst)", "song feat. x (live) (inst)", "song (live)"]
    folded = pc.fill_null(fold(as_arrow(texts)), "")
    split, main, first, second = _split_two_brackets(folded, _NEEDS_READING + "|" + vocab.trailing_words)
    assert split.tolist() == [True, True, False, False, False, False, False, False]
    assert (main[0], first[0], second[0]) == ("song ", "live", "instrumental")
