"""Artist and title normalisation, instrumental marker detection and title qualifiers.

Folding (accents, case, width: full-width brackets become ASCII) is vectorised
with pyarrow.compute. A title is then read as a main text plus *segments*: each
bracketed group ((), [], {}, 【】, 「」, 『』, and full-width （） after folding)
and a trailing " - ..." part. Each segment is one of

- the instrumental **marker** (see :data:`MARKERS`), possibly with a mix name
  before it ("Rio Club Mix Instrumental") or other words after it;
- an **edit qualifier** (radio edit, album/single version, original mix,
  extended, remaster, mono, explicit/clean/dirty, "vocal"...): removed from the
  title; on one side only it never blocks a pair, the durations decide;
- a **version qualifier** (a named remix or mix, live, acoustic, demo, a
  cover...): kept in the title, and its words must agree in a pair;
- **other** text (credits, unit or team names, translations, subtitles, any
  script): kept apart (``full`` title) so that it never blocks a pair on its
  own but still counts in the fuzzy score.

A marker is also read at the end of the main text ("Light Foot Mix
Instrumental") but never at its start ("Instrumental / Eat At Home" is a
medley, "Classical Instrumental: ..." a genre), and only as a whole word
("Instruments", "Instrumentalist" are not markers). Titles are analysed once per
distinct spelling.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_FEAT_WORD = r"(?:feat\.?|ft\.|featuring)"
_FEAT_BRACKETED = r"[\(\[]\s*(?:" + _FEAT_WORD + r"|with)\s[^\)\]]*[\)\]]"
_FEAT_ARTIST_TAIL = r"\s(?:" + _FEAT_WORD + r"|ft)\s.*$"
_NON_WORD = r"[^\p{L}\p{N}]+"


def _fold_text(text: str) -> str:
    out = unicodedata.normalize("NFKD", text)
    return "".join(c for c in out if not unicodedata.combining(c)).lower()


# marker families: instrumental (accompaniment only), karaoke (may keep backing vocals), off_vocal
INSTRUMENTAL, KARAOKE, OFF_VOCAL = "instrumental", "karaoke", "off_vocal"
MARKER_FAMILIES = (INSTRUMENTAL, KARAOKE, OFF_VOCAL)
# (regex on folded text, family); a marker is a whole phrase with optional "ver."/"version"/"mix" after it
_MARKER_TERMS = (
    (r"instrumentals?|instr\.?|inst\.?|music\s+only|no\s+vocals?|without\s+vocals?|" + _fold_text("インストゥルメンタル|インスト"), INSTRUMENTAL),
    (r"(?:(?:tv|original)\s+)?karaoke|backing\s+tracks?|minus\s+one|" + _fold_text("(?:オリジナル・?)?カラオケ"), KARAOKE),
    (r"off[\s\-]?vocals?|" + _fold_text("オフ・?ボーカル"), OFF_VOCAL),
)
_SUFFIX = r"(?:\s*(?:version|ver\b\.?|ver\.|mix|track)\b\.?)?"
_IN_SEGMENT = re.compile(
    r"(?<!\w)(?:" + "|".join(f"(?P<f{k}>{term})" for k, (term, _) in enumerate(_MARKER_TERMS)) + r")(?!\w)" + _SUFFIX
)
# at the end of the main text only the unabbreviated words count ("... Mix Instrumental", "... Original Karaoke")
_TRAILING = re.compile(
    r"\s(?:(?P<f0>(?:original\s+)?instrumental)|(?P<f1>(?:(?:tv|original)\s+)?karaoke)|(?P<f2>off[\s\-]?vocal))" + _SUFFIX + r"\s*$"
)
_BRACKETS = re.compile(r"[\(\[\{【「『]([^\(\)\[\]\{\}【】「」『』]*)[\)\]\}】」』]")
_DASH = re.compile(r"\s[\-–—]+\s")
_FEAT_START = re.compile(r"^\s*(?:feat\.?|ft\.?|featuring|with)\s")
_FEAT_MAIN = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s.*$")
_VOCAL_TAIL = re.compile(r"(\S)\s+vocal(?:\s+(?:mix|version))?\s*$")  # "(Rio Club Mix Vocal)": the vocal counterpart
_TOKEN = re.compile(r"[^\W_]+")

# Words of an edit qualifier segment: the whole segment made of these is another edit of the same recording.
EDIT_WORDS = frozenset(
    {
        "radio", "album", "single", "lp", "original", "main", "vocal", "vocals", "dirty", "clean", "explicit", "extended",
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
    family: str  # instrumental | karaoke | off_vocal | ""
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


@functools.lru_cache(maxsize=262144)
def analyze_folded(folded: str) -> TitleInfo:
    """Analyse one folded title (see :func:`fold_titles`)."""
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

    def take(text: str) -> None:
        kind = _classify(text)
        if kind == "edit":
            edits.append(_squash(text))
        elif kind == "version":
            kept.append(text)
        elif kind == "other":
            other.append(text)

    for _, text in segments:
        if _FEAT_START.match(text):
            continue
        hits = list(_IN_SEGMENT.finditer(text))
        if not hits:
            vocal = _VOCAL_TAIL.search(text)
            if vocal and not _is_edit(text):
                text = text[: vocal.start() + 1]
            take(text)
            continue
        if not marker:
            first = hits[0]
            marker = first.group(0).strip()
            family = MARKER_FAMILIES[int(next(k for k, v in first.groupdict().items() if v)[1:])]
        before, after = text[: hits[0].start()], text[hits[-1].end():]
        if _squash(before):
            # a name before the marker names the mix: "Rio Club Mix Instrumental"; "Original Instrumental" is an edit
            if _is_edit(before):
                edits.append(_squash(before))
            else:
                kept.append(before)
        take(after)
    # the main text: feat. credits, then a trailing unbracketed marker
    main = _FEAT_MAIN.sub("", kept[0])
    trailing = _TRAILING.search(main)
    if trailing and _squash(main[: trailing.start()]):
        if not marker:
            marker = trailing.group(0).strip()
            family = MARKER_FAMILIES[int(next(k for k, v in trailing.groupdict().items() if v)[1:])]
        main = main[: trailing.start()]
    kept[0] = main
    core = _squash(" ".join(kept))
    other_text = _squash(" ".join(other))
    full = _squash(" ".join(kept + other))
    return TitleInfo(core, full, other_text, bool(marker), marker, family, "; ".join(e for e in edits if e))


def _fold(values: pa.Array) -> pa.Array:
    """NFKD, drop combining marks (accents), lower-case, fold ß, drop apostrophes."""
    out = pc.utf8_normalize(values, "NFKD")
    out = pc.replace_substring_regex(out, r"\p{Mn}+", "")
    out = pc.utf8_lower(out)
    out = pc.replace_substring(out, "ß", "ss")
    return pc.replace_substring_regex(out, r"['’`´‘]", "")


def _squash_arrow(values: pa.Array) -> pa.Array:
    """Punctuation to single spaces, trimmed."""
    out = pc.replace_substring(values, "&", " and ")
    out = pc.replace_substring_regex(out, _NON_WORD, " ")
    return pc.utf8_trim_whitespace(out)


def _as_arrow(values: Iterable[str] | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)


def normalize_artists(values: Iterable[str] | pa.Array) -> np.ndarray:
    """Normalised artist names: the blocking key.

    Args:
        values: (n,) artist names as in the catalog.

    Returns:
        (n,) object array of str: folded, Discogs "(3)" suffixes, feat. credits and
        a leading "the" removed, "&" spelled "and", punctuation squashed.
    """
    out = _fold(_as_arrow(values))
    out = pc.replace_substring_regex(out, r"\s*\(\d+\)", "")
    out = pc.replace_substring_regex(out, _FEAT_BRACKETED, " ")
    out = pc.replace_substring_regex(out, _FEAT_ARTIST_TAIL, "")
    out = _squash_arrow(out)
    out = pc.replace_substring_regex(out, r"^the\s", "")
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=object)


# A folded title that may hold a segment, a feat. credit or a trailing marker; the others are plain words.
_NEEDS_READING = (r"[\(\)\[\]\{\}【】「」『』]|\s[\-–—]+\s|(?:^|\s)(?:feat\.?|ft\.|featuring)\s"
                  r"|(?:instrumental|karaoke|vocal|ver\.?|version|mix|track)\s*$")


def analyze_titles(values: Iterable[str] | pa.Array) -> list[TitleInfo]:
    """One :class:`TitleInfo` per title (None titles read as "").

    Plain titles (no bracket, dash part, feat. credit or trailing marker) are squashed
    vectorised; the others are read one distinct spelling at a time.
    """
    columns = title_columns(values)
    return [TitleInfo(*row) for row in zip(*(columns[f].tolist() for f in TITLE_FIELDS))]


TITLE_FIELDS = ("core", "full", "other", "instrumental", "marker", "family", "edits")


def title_columns(values: Iterable[str] | pa.Array) -> dict[str, np.ndarray]:
    """:func:`analyze_titles` as columns: TITLE_FIELDS -> (n,) arrays (object str; bool for instrumental)."""
    folded = pc.fill_null(_fold(_as_arrow(values)), "")
    reading = np.flatnonzero(pc.match_substring_regex(folded, _NEEDS_READING).to_numpy(zero_copy_only=False))
    plain = np.asarray(_squash_arrow(folded).to_numpy(zero_copy_only=False), dtype=object)
    n = len(plain)
    out = {"core": plain.copy(), "full": plain.copy(), "instrumental": np.zeros(n, dtype=bool)}
    for name in ("other", "marker", "family", "edits"):
        out[name] = np.full(n, "", dtype=object)
    if len(reading):
        texts = folded.take(pa.array(reading)).to_pylist()
        infos = [analyze_folded(t) for t in texts]
        for name in TITLE_FIELDS:
            out[name][reading] = [getattr(i, name) for i in infos]
    return out


def split_titles(values: Iterable[str] | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Detect the instrumental marker and return normalised core titles.

    Args:
        values: (n,) titles as in the catalog.

    Returns:
        base: (n,) object array of str, the core title (see :class:`TitleInfo`).
        instrumental: (n,) bool array, True where the title carries the marker.
    """
    infos = analyze_titles(values)
    base = np.array([i.core for i in infos] + [None], dtype=object)[:-1]
    return base, np.array([i.instrumental for i in infos], dtype=bool)


def normalize_title(title: str) -> tuple[str, bool]:
    """One title: (core title, has the instrumental marker). For tests and tools."""
    base, inst = split_titles([title])
    return str(base[0]), bool(inst[0])


QUALIFIER_BITS = {word: 1 << k for k, word in enumerate(sorted(QUALIFIERS))}


def qualifier_masks(base_titles: Iterable[str] | pa.Array) -> np.ndarray:
    """Version-qualifier words of each core title as a bit mask (vectorised :func:`qualifiers`).

    Args:
        base_titles: (n,) core titles.

    Returns:
        (n,) int64; equal masks mean equal qualifier sets.
    """
    arr = _as_arrow(base_titles)
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
