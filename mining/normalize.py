"""Artist and title normalisation, instrumental marker detection and title qualifiers.

Folding (accents, case, width, Chinese script and kana marks: mining/fold.py) is
vectorised with pyarrow.compute. A title is then read as a main text plus
*segments*: each bracketed group ((), [], {}, 【】, 「」, 『』, 〔〕, 〈〉, 《》, 〖〗,
full-width forms after folding), a trailing " - ..." part (any dash) and a
Japanese "-...-" or "~...~" wrapper at the end that holds a marker. Each segment is one of

- the instrumental **marker** (the vocabulary of mining/markers.py), possibly
  with a mix name before it ("Rio Club Mix Instrumental") or other words after it;
- an **edit qualifier** (radio edit, album/single version, original mix,
  extended, remaster, mono, explicit/clean/dirty, "vocal"...): removed from the
  title; on one side only it never blocks a pair, the durations decide;
- a **version qualifier** (a named remix or mix, live, acoustic, demo, a
  cover...): kept in the title, and its words must agree in a pair;
- **other** text (credits, unit or team names, translations, subtitles, any
  script): kept apart (``full`` title) so that it never blocks a pair on its
  own but still counts in the fuzzy score.

Where a marker counts is its term's position: ``end`` terms also at the end of
the main text ("Light Foot Mix Instrumental") but never at its start
("Instrumental / Eat At Home" is a medley, "Classical Instrumental: ..." a
genre); ``segment`` terms only in a segment; ``alone`` terms ("MR", "Playback",
"Pista", "Base") only as a whole segment ("Mr. Blue Sky", "La Pista" are songs).
A marker is always a whole word ("Instruments", "Instrumentalist" are not
markers). Titles are analysed once per distinct spelling and vocabulary.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vocalmine.mining.fold import as_arrow, fold
from vocalmine.mining.markers import MarkerGroup, Vocabulary, vocabulary

_FEAT_WORD = r"(?:feat\.?|ft\.|featuring)"
_FEAT_BRACKETED = r"[\(\[]\s*(?:" + _FEAT_WORD + r"|with)\s[^\)\]]*[\)\]]"
_FEAT_ARTIST_TAIL = r"\s(?:" + _FEAT_WORD + r"|ft)\s.*$"
# A run of non-word characters, except a run of one plain space, which squashing leaves as it is: the same
# result as replacing every run, with a third fewer replacements to make.
_NON_WORD = r"[^\p{L}\p{N}]*[^\p{L}\p{N} ][^\p{L}\p{N}]*|  +"

_OPEN, _CLOSE = "([{【「『〔〈《〖", ")]}】」』〕〉》〗"
_BRACKETS = re.compile(f"[{re.escape(_OPEN)}]([^{re.escape(_OPEN + _CLOSE)}]*)[{re.escape(_CLOSE)}]")
_DASHES = "\\-\u2010\u2012\u2013\u2014\u2015\u2212"  # hyphen-minus, hyphen, figure, en and em dash, bar, minus
_DASH = re.compile(f"\\s[{_DASHES}]+\\s")
# Japanese releases wrap a version name in dashes or wave dashes: "Song -instrumental-", "Song ～off vocal～"
_WRAPPED = re.compile(r"(?:^|\s)[\-~\u301c]([^\-~\u301c]+)[\-~\u301c]\s*$")
_FEAT_START = re.compile(r"^\s*(?:feat\.?|ft\.?|featuring|with)\s")
_FEAT_MAIN = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s.*$")
_VOCAL_TAIL = re.compile(r"(\S)\s+vocal(?:\s+(?:mix|version))?\s*$")  # "(Rio Club Mix Vocal)": the vocal counterpart
_TOKEN = re.compile(r"[^\W_]+")

# Words of an edit qualifier segment: the whole segment made of these is another edit of the same recording.
EDIT_WORDS = frozenset(
    {
        "radio", "album", "single", "lp", "original", "main", "vocal", "vocals", "dirty", "clean", "explicit",
        "extended",
        "short", "long", "full", "length", "mono", "stereo", "edit", "edited", "version", "ver", "mix", "remaster",
        "remastered", "remasters", "digital", "digitally", "cut", "censored", "uncensored", "inch", "7", "12", "the",
        "edition", "master", "mastered", "re", "new",
    }
)
# Words that make a title another recording of the song; they must agree in a pair.
QUALIFIERS = frozenset(
    {
        "remix", "rmx", "mix", "live", "acoustic", "unplugged", "demo", "reprise", "acapella", "acappella", "cappella",
        "rework", "bootleg", "vip", "cover", "session", "sessions", "orchestral", "piano", "alternate", "alternative",
        "alt", "take", "dub", "club", "house", "edit", "extended", "radio", "remixed", "flip", "refix", "redux",
        "vivo", "directo", "concert", "concerto",  # "En Vivo", "Ao Vivo", "En Directo", "(Live in Concert)"
    }
)
# Words of a version segment that do not name the version by themselves.
_GENERIC = frozenset({"version", "ver", "mix", "edit"})


@dataclass(frozen=True)
class TitleInfo:
    """What a title says, for one title."""

    core: str  # normalised title: marker, edit qualifiers, other bracketed text and feat. credits removed
    full: str  # core plus the other bracketed text (credits, translations), in title order
    other: str  # the other bracketed text alone ("" when none)
    instrumental: bool  # carries an instrumental marker
    marker: str  # the marker as written (folded), e.g. "off vocal ver.", "" when none
    family: str  # one of markers.FAMILIES, "" when none
    edits: str  # edit qualifiers removed, "; "-joined, e.g. "radio edit"


def _squash(text: str) -> str:
    return " ".join(_TOKEN.findall(text.replace("&", " and ")))


def _is_edit(text: str) -> bool:
    words = _squash(text).split()
    return bool(words) and all(w in EDIT_WORDS or (w.isdigit() and len(w) == 4) for w in words)


def _classify(text: str) -> str:
    """'edit', 'version', 'other' or '' (nothing left) for a segment without a marker."""
    squashed = _squash(text)
    if not squashed:
        return ""
    if _is_edit(squashed):
        return "edit"
    words = set(squashed.split())
    if words & (QUALIFIERS | EDIT_WORDS - {"the", "new", "re", "7", "12", "inch"}):
        return "version"
    return "other"


def _blank(text: str, found: list) -> str:
    """``text`` with the matched groups replaced by spaces (positions kept)."""
    out = list(text)
    for m in found:
        out[m.start(): m.end()] = " " * (m.end() - m.start())
    return "".join(out)


def _marker_in(text: str, vocab: Vocabulary) -> bool:
    return bool(vocab.in_segment.pattern.search(text) or vocab.alone.pattern.fullmatch(text))


def analyze_folded(folded: str, vocab: Vocabulary | None = None) -> TitleInfo:
    """Analyse one folded title (see :func:`fold`) with ``vocab`` (the shipped vocabulary when None)."""
    return _analyze(folded, vocab or vocabulary())


@dataclass(frozen=True)
class SegmentReading:
    """What one segment of a title says (see :func:`_read_segment`)."""

    marker: str  # the marker as written (folded), "" when none
    family: str  # its family, "" when none
    kept: tuple[str, ...]  # text kept in the core title (a version qualifier, a mix name before the marker)
    other: tuple[str, ...]  # other text (credits, translations)
    edits: tuple[str, ...]  # squashed edit qualifiers
    kept_squashed: str  # _squash of the kept texts joined
    other_squashed: str  # _squash of the other texts joined


@functools.lru_cache(maxsize=65536)
def _read_segment(text: str, vocab: Vocabulary) -> SegmentReading:
    """One segment read alone: segments repeat across a catalog ("(Radio Edit)", "- Instrumental"), so it is cached."""
    marker = family = ""
    kept: list[str] = []
    other: list[str] = []
    edits: list[str] = []

    def take(part: str) -> None:
        kind = _classify(part)
        if kind == "edit":
            edits.append(_squash(part))
        elif kind == "version":
            kept.append(part)
        elif kind == "other":
            other.append(part)

    if _FEAT_START.match(text):  # "(feat. X)", "(with X)": nothing of the song
        return SegmentReading("", "", (), (), (), "", "")
    hits = list(vocab.in_segment.pattern.finditer(text))
    if not hits:
        alone = vocab.alone.pattern.fullmatch(text)
        if alone:  # "(MR)", "- Playback": the whole segment is the marker
            marker, family = alone.group(0).strip(), vocab.alone.family(alone)
        else:
            vocal = _VOCAL_TAIL.search(text)
            take(text[: vocal.start() + 1] if vocal and not _is_edit(text) else text)
    else:
        marker, family = hits[0].group(0).strip(), vocab.in_segment.family(hits[0])
        before, after = text[: hits[0].start()], text[hits[-1].end():]
        if _squash(before):
            # a name before the marker names the mix: "Rio Club Mix Instrumental"; "Original Instrumental" is an edit
            if _is_edit(before):
                edits.append(_squash(before))
            else:
                kept.append(before)
        take(after)
    return SegmentReading(marker, family, tuple(kept), tuple(other), tuple(edits), _squash(" ".join(kept)),
                          _squash(" ".join(other)))


@functools.lru_cache(maxsize=262144)
def _analyze(folded: str, vocab: Vocabulary) -> TitleInfo:
    segments: list[tuple[int, str]] = []  # (position, text)
    main = folded
    # bracketed groups, innermost first (a nested group is read as its own segment)
    for _ in range(8):
        found = list(_BRACKETS.finditer(main))
        if not found:
            break
        lead = found[0] if not main[: found[0].start()].strip() else None  # "(I Left My Heart) In San Francisco"
        found = [m for m in found if m is not lead]
        for m in found:
            segments.append((m.start(), m.group(1)))
        if lead is not None:
            main = main[: lead.start()] + " " + lead.group(1) + " " + main[lead.end():]
        if not found:
            break
        main = _blank(main, found)
    # a Japanese "-marker-" wrapper at the end; without a marker it stays text ("-Three Star-", "～総集編～")
    wrapped = _WRAPPED.search(main)
    if wrapped and main[: wrapped.start()].strip() and _marker_in(wrapped.group(1), vocab):
        segments.append((wrapped.start(1), wrapped.group(1)))
        main = main[: wrapped.start()]
    # a trailing " - part" of the main text (after the first word)
    dash = list(_DASH.finditer(main))
    if dash and main[: dash[0].start()].strip():
        cut = dash[0]
        segments.append((cut.end(), main[cut.end():]))
        main = main[: cut.start()]
    segments.sort()
    marker = family = ""
    kept: list[str] = [main]
    other: list[str] = []
    edits: list[str] = []
    for _, text in segments:
        reading = _read_segment(text, vocab)
        if not marker:
            marker, family = reading.marker, reading.family
        kept.extend(reading.kept)
        other.extend(reading.other)
        edits.extend(reading.edits)
    # the main text: feat. credits, then a trailing unbracketed marker
    main = _FEAT_MAIN.sub("", kept[0])
    trailing = vocab.trailing.pattern.search(main)
    if trailing and _squash(main[: trailing.start()]):
        if not marker:
            marker, family = trailing.group(0).strip(), vocab.trailing.family(trailing)
        main = main[: trailing.start()]
    kept[0] = main
    core = _squash(" ".join(kept))
    other_text = _squash(" ".join(other))
    full = _squash(" ".join(kept + other))
    return TitleInfo(core, full, other_text, bool(marker), marker, family, "; ".join(e for e in edits if e))


def _squash_arrow(values: pa.Array) -> pa.Array:
    """Punctuation to single spaces, trimmed."""
    out = pc.replace_substring(values, "&", " and ")
    out = pc.replace_substring_regex(out, _NON_WORD, " ")
    return pc.utf8_trim_whitespace(out)


def normalize_artists(values: Iterable[str] | pa.Array) -> np.ndarray:
    """Normalised artist names: the blocking key.

    Args:
        values: (n,) artist names as in the catalog.

    Returns:
        (n,) object array of str: folded (mining/fold.py, so 周杰倫 and 周杰伦 are one artist), Discogs "(3)"
        suffixes, feat. credits and a leading "the" removed, "&" spelled "and", punctuation squashed.
    """
    out = fold(as_arrow(values))
    out = pc.replace_substring_regex(out, r"\s*\(\d+\)", "")
    out = pc.replace_substring_regex(out, _FEAT_BRACKETED, " ")
    out = pc.replace_substring_regex(out, _FEAT_ARTIST_TAIL, "")
    out = _squash_arrow(out)
    out = pc.replace_substring_regex(out, r"^the\s", "")
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)


# A folded title that may hold a segment, a feat. credit or a trailing marker (the vocabulary adds the words a
# trailing marker ends with); the others are plain words.
_NEEDS_READING = (f"[{re.escape(_OPEN + _CLOSE)}]|\\s[{_DASHES}]+\\s|(?:^|\\s)(?:feat\\.?|ft\\.|featuring)\\s"
                  "|[\\-~\u301c]\\s*$")


def analyze_titles(values: Iterable[str] | pa.Array, markers: tuple[MarkerGroup, ...] = ()) -> list[TitleInfo]:
    """One :class:`TitleInfo` per title (None titles read as "").

    Plain titles (no bracket, dash part, feat. credit or trailing marker) are squashed
    vectorised; titles of a plain main text and one segment ("Song (Radio Edit)", "Song -
    Instrumental") are split vectorised, each distinct segment read once; the others are read
    one distinct spelling at a time. All three give what :func:`_analyze` gives.

    Args:
        values: (n,) titles as in the catalog.
        markers: a catalog's own marker groups, added to the shipped vocabulary (mining/markers.py).
    """
    columns = title_columns(values, markers)
    return [TitleInfo(*row) for row in zip(*(columns[f].tolist() for f in TITLE_FIELDS))]


TITLE_FIELDS = ("core", "full", "other", "instrumental", "marker", "family", "edits")


def title_columns(values: Iterable[str] | pa.Array, markers: tuple[MarkerGroup, ...] = ()) -> dict[str, np.ndarray]:
    """:func:`analyze_titles` as columns: TITLE_FIELDS -> (n,) arrays (object str; bool for instrumental)."""
    vocab = vocabulary(tuple(markers))
    folded = pc.fill_null(fold(as_arrow(values)), "")
    needs = _NEEDS_READING + "|" + vocab.trailing_words
    reading = np.flatnonzero(pc.match_substring_regex(folded, needs).to_numpy(zero_copy_only=False))
    plain = np.asarray(_squash_arrow(folded).to_numpy(zero_copy_only=False), dtype=object)
    n = len(plain)
    out = {"core": plain.copy(), "full": plain.copy(), "instrumental": np.zeros(n, dtype=bool)}
    for name in ("other", "marker", "family", "edits"):
        out[name] = np.full(n, "", dtype=object)
    if len(reading):
        texts = folded.take(pa.array(reading))
        split, main, segment = _split_one_part(texts, needs)
        if split.any():
            _read_parts(out, reading[split], main[split], [segment[split]], vocab)
        left = np.flatnonzero(~split)
        two, main, first, second = _split_two_brackets(texts.take(pa.array(left)), needs)
        if two.any():
            _read_parts(out, reading[left[two]], main[two], [first[two], second[two]], vocab)
        left = left[~two]
        rest = reading[left]
        infos = [_analyze(t, vocab) for t in texts.take(pa.array(left)).to_pylist()]
        for name in TITLE_FIELDS:
            out[name][rest] = [getattr(i, name) for i in infos]
    return out


# Python's \s (str.isspace) beyond RE2's [\t\n\f\r ]: titles holding one are left to _analyze.
_WIDE_SPACE = r"[\x0b\x1c-\x1f\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_ANY_BRACKET = f"[{re.escape(_OPEN + _CLOSE)}]"
# The shapes of a main text and one segment, matched without capture groups (RE2 answers those with its DFA,
# several times faster than extracting groups); the parts are then cut at the first opening bracket or dash.
_ONE_BRACKET_RE2 = (f"^[^{re.escape(_OPEN + _CLOSE)}]*[{re.escape(_OPEN)}]"
                    f"[^{re.escape(_OPEN + _CLOSE)}]*[{re.escape(_CLOSE)}]\\s*$")
_OPENING = f"[{re.escape(_OPEN)}]"
_CLOSING_AT_END = f"[{re.escape(_CLOSE)}]\\s*$"
_DASH_SEPARATOR = f"\\s[{_DASHES}]+\\s"


def _split_one_part(texts: pa.Array, needs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Titles made of a main text and one segment, split as :func:`_analyze` splits them, all at once in RE2.

    The segment is one bracket group at the end, or the part after the first " - " of a title without
    brackets. A title is split only where its main text holds nothing _analyze would read (checked as
    _analyze sees it: a bracket group is blanked to spaces) and no space RE2 reads otherwise than Python's
    re (_WIDE_SPACE), so that :func:`_read_parts` gives _analyze's result by construction;
    tests/mining/test_title_fast_path.py compares the two.

    Returns:
        (split, main, segment): (n,) bool, and (n,) object str (meaningful where split).
    """
    is_bracket = pc.match_substring_regex(texts, _ONE_BRACKET_RE2).to_numpy(zero_copy_only=False)
    no_bracket = ~pc.match_substring_regex(texts, _ANY_BRACKET).to_numpy(zero_copy_only=False)
    no_wrapper = ~pc.match_substring_regex(texts, "[\\-~\u301c]\\s*$").to_numpy(zero_copy_only=False)
    # a newline ends _analyze's dash segment (its "." stops there): such titles are left to it
    no_newline = ~pc.match_substring(texts, "\n").to_numpy(zero_copy_only=False)
    has_dash = pc.match_substring_regex(texts, _DASH_SEPARATOR).to_numpy(zero_copy_only=False)
    is_dash = ~is_bracket & no_bracket & no_wrapper & no_newline & has_dash
    # a bracket title: main has no bracket, so it ends at the first opening one, and the segment is the rest
    # less its closing bracket; a dash title: main ends at the first separator (_analyze's lazy ".*?")
    bracketed = pa.array(is_bracket)
    bracket_main, bracket_rest = _cut_at_first(texts, _OPENING)
    dash_main, dash_rest = _cut_at_first(texts, _DASH_SEPARATOR)
    main = pc.if_else(bracketed, bracket_main, dash_main)
    segment = pc.if_else(bracketed, pc.replace_substring_regex(bracket_rest, _CLOSING_AT_END, ""), dash_rest)
    # what _analyze sees of the main text: a bracket group is blanked to spaces
    seen = pc.if_else(pa.array(is_bracket), pc.binary_join_element_wise(main, pa.scalar(" "), ""), main)
    split = (is_bracket | is_dash) & _plain_main(texts, main, seen, needs)
    return split, _objects(main), _objects(segment)


# A main text and two bracket groups at the end: "Song (Live) (Instrumental)", "Song (feat. X) [Inst.]"
_TWO_BRACKETS_RE2 = (f"^[^{re.escape(_OPEN + _CLOSE)}]*"
                     + 2 * f"[{re.escape(_OPEN)}][^{re.escape(_OPEN + _CLOSE)}]*[{re.escape(_CLOSE)}]\\s*" + "$")
_CLOSING = f"[{re.escape(_CLOSE)}]"


def _split_two_brackets(texts: pa.Array, needs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Titles made of a main text and two bracket groups, split as :func:`_analyze` splits them (both groups are
    found in its first pass and read in title order), under :func:`_split_one_part`'s conditions on the main text.

    Returns:
        (split, main, first, second): (n,) bool, and (n,) object str (meaningful where split).
    """
    shaped = pc.match_substring_regex(texts, _TWO_BRACKETS_RE2).to_numpy(zero_copy_only=False)
    main, rest = _cut_at_first(texts, _OPENING)
    first, rest = _cut_at_first(rest, _CLOSING)
    _, rest = _cut_at_first(rest, _OPENING)
    second = pc.replace_substring_regex(rest, _CLOSING_AT_END, "")
    seen = pc.binary_join_element_wise(main, pa.scalar(" "), "")  # the groups are blanked to spaces
    split = shaped & _plain_main(texts, main, seen, needs)
    return split, _objects(main), _objects(first), _objects(second)


def _plain_main(texts: pa.Array, main: pa.Array, seen: pa.Array, needs: str) -> np.ndarray:
    """(n,) bool: the split may stand: the title holds only spaces RE2 reads as Python's re does, and its main
    text has words, of which (``seen`` as _analyze sees it) nothing _analyze would read."""
    if len(texts) == 0:
        return np.zeros(0, dtype=bool)
    plain_space = ~pc.match_substring_regex(texts, _WIDE_SPACE).to_numpy(zero_copy_only=False)
    has_text = pc.not_equal(pc.utf8_trim_whitespace(main), "").to_numpy(zero_copy_only=False)
    quiet = ~pc.match_substring_regex(seen, needs).to_numpy(zero_copy_only=False)
    return plain_space & has_text & quiet


def _objects(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def _cut_at_first(texts: pa.Array, pattern: str) -> tuple[pa.Array, pa.Array]:
    """(before, after) the first match of the RE2 ``pattern`` in each text; (text, "") where it has none."""
    parts = pc.split_pattern_regex(texts, pattern, max_splits=1)
    after = pc.list_slice(parts, 1, 2)  # [] where nothing matched
    after = pc.if_else(pc.greater(pc.list_value_length(after), 0), after, pa.scalar([""], type=after.type))
    return pc.fill_null(pc.list_element(parts, 0), ""), pc.fill_null(pc.list_element(after, 0), "")


def _read_parts(out: dict[str, np.ndarray], rows: np.ndarray, main: np.ndarray, segments: list[np.ndarray],
                vocab: Vocabulary) -> None:
    """Fill ``out`` at ``rows`` for titles split into a main text and segments (in title order): each distinct
    segment is read once, main texts are squashed as plain titles are, and the readings combine as in
    :func:`_analyze` (the first marker counts; kept, other and edit texts join in order)."""
    core = _squash_arrow(as_arrow(main))
    other = edits = None
    marker = family = np.full(len(rows), "", dtype=object)
    for segment in segments:
        codes, uniques = pd.factorize(segment)
        readings = [_read_segment(text, vocab) for text in uniques.tolist()]
        pick = lambda values: np.array(values + [None], dtype=object)[:-1][codes]  # noqa: E731
        core = _join_arrow(core, as_arrow(pick([r.kept_squashed for r in readings])))
        mine = as_arrow(pick([r.other_squashed for r in readings]))
        other = mine if other is None else _join_arrow(other, mine)
        mine = as_arrow(pick(["; ".join(e for e in r.edits if e) for r in readings]))
        edits = mine if edits is None else _join_arrow(edits, mine, "; ")
        unmarked = marker == ""
        marker = np.where(unmarked, pick([r.marker for r in readings]), marker).astype(object)
        family = np.where(unmarked, pick([r.family for r in readings]), family).astype(object)
    out["core"][rows] = core.to_numpy(zero_copy_only=False)
    out["full"][rows] = _join_arrow(core, other).to_numpy(zero_copy_only=False)
    out["other"][rows] = other.to_numpy(zero_copy_only=False)
    out["instrumental"][rows] = marker != ""
    out["marker"][rows] = marker
    out["family"][rows] = family
    out["edits"][rows] = edits.to_numpy(zero_copy_only=False)


def _join_arrow(a: pa.Array, b: pa.Array, separator: str = " ") -> pa.Array:
    """"a{separator}b" element-wise, or whichever of the two is not empty."""
    both = pc.binary_join_element_wise(a, b, separator)
    return pc.if_else(pc.equal(a, ""), b, pc.if_else(pc.equal(b, ""), a, both))


def split_titles(values: Iterable[str] | pa.Array,
                 markers: tuple[MarkerGroup, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Detect the instrumental marker and return normalised core titles.

    Args:
        values: (n,) titles as in the catalog.
        markers: a catalog's own marker groups (see :func:`analyze_titles`).

    Returns:
        base: (n,) object array of str, the core title (see :class:`TitleInfo`).
        instrumental: (n,) bool array, True where the title carries the marker.
    """
    infos = analyze_titles(values, markers)
    base = np.array([i.core for i in infos] + [None], dtype=object)[:-1]
    return base, np.array([i.instrumental for i in infos], dtype=bool)


def normalize_title(title: str, markers: tuple[MarkerGroup, ...] = ()) -> tuple[str, bool]:
    """One title: (core title, has the instrumental marker). For tests and tools."""
    base, inst = split_titles([title], markers)
    return str(base[0]), bool(inst[0])


QUALIFIER_BITS = {word: 1 << k for k, word in enumerate(sorted(QUALIFIERS))}


def qualifier_masks(base_titles: Iterable[str] | pa.Array) -> np.ndarray:
    """Version-qualifier words of each core title as a bit mask (vectorised :func:`qualifiers`).

    Args:
        base_titles: (n,) core titles.

    Returns:
        (n,) int64; equal masks mean equal qualifier sets.
    """
    arr = as_arrow(base_titles)
    tokens = pc.split_pattern(arr, " ")
    flat = pc.list_flatten(tokens)
    parent = pc.list_parent_indices(tokens).to_numpy()
    words = sorted(QUALIFIERS)
    index = pc.index_in(flat, value_set=pa.array(words)).to_numpy(zero_copy_only=False)
    hit = ~np.isnan(index.astype(np.float64))
    bits = np.array([QUALIFIER_BITS[w] for w in words], dtype=np.int64)
    out = np.zeros(len(arr), dtype=np.int64)
    np.bitwise_or.at(out, parent[hit], bits[index[hit].astype(np.int64)])
    return out


def mask_words(mask: int) -> list[str]:
    """The qualifier words of a mask from :func:`qualifier_masks`."""
    return [w for w, b in QUALIFIER_BITS.items() if mask & b]


@functools.lru_cache(maxsize=65536)
def qualifiers(base_title: str) -> frozenset[str]:
    """The version-qualifier words of a core title, e.g. {"live"}."""
    return frozenset(base_title.split()) & QUALIFIERS
