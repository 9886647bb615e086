"""The instrumental-marker vocabulary: mining/markers.yaml plus a catalog's own markers, compiled once.

A :class:`MarkerGroup` is a family (what is left of the song), a position (where
in a title its terms count) and its terms. The shipped groups, one per language
and family, live in ``markers.yaml`` beside this module, each with the source of
its terms; a catalog adds groups of its own with ``vocalmine mine --markers FILE``
(:func:`load_markers`), which replace a shipped term of the same spelling.
:func:`vocabulary` compiles the shipped and the extra groups into the patterns
that mining/normalize.py reads titles with.

Terms and titles are folded alike (mining/fold.py), so a term is written once as
a catalog writes it. A space or hyphen in a term matches any run of spaces and
hyphens, or none; a dot may follow any term; a version word ("version", "ver.",
"バージョン", "版" ...) may follow any term, attached or not.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vocalmine.core.errors import ConfigError
from vocalmine.mining.fold import fold_text

FAMILIES = ("instrumental", "karaoke", "off_vocal", "backing_track", "minus_one")  # see markers.yaml for each
END, SEGMENT, ALONE = "end", "segment", "alone"
POSITIONS = (END, SEGMENT, ALONE)  # see markers.yaml for what each allows
VOCABULARY_FILE = "markers.yaml"
_GROUP_KEYS = ("family", "position", "terms", "language", "source")
_REQUIRED_KEYS = ("family", "position", "terms")


@dataclass(frozen=True)
class MarkerGroup:
    """Terms of one family that count in one position of a title."""

    family: str  # one of FAMILIES
    position: str  # one of POSITIONS
    terms: tuple[str, ...]  # words or phrases as catalogs write them
    language: str = ""  # language code(s) of the terms, "" for a catalog's own
    source: str = ""  # where the terms come from

    def __post_init__(self) -> None:
        if isinstance(self.terms, list):
            object.__setattr__(self, "terms", tuple(self.terms))  # hashable: groups key the vocabulary cache
        problems = _group_problems({"family": self.family, "position": self.position, "terms": self.terms},
                                   "markers")
        if problems:
            raise ConfigError("; ".join(problems))


def _term_key(term: str) -> str:
    """A term as matched: folded, an abbreviation's final dot dropped, spaces and hyphens as one space."""
    return " ".join(re.split(r"[\s\-]+", fold_text(term).strip().rstrip(".").strip()))


def _group_problems(group: dict[str, Any], where: str) -> list[str]:
    """What is wrong with the family, position and terms of one group (the keys it has)."""
    problems = []
    if "family" in group and group["family"] not in FAMILIES:
        problems.append(f"key '{where}.family' must be one of {', '.join(FAMILIES)}, got {group['family']!r}")
    if "position" in group and group["position"] not in POSITIONS:
        problems.append(f"key '{where}.position' must be one of {', '.join(POSITIONS)}, got {group['position']!r}")
    if "terms" not in group:
        return problems
    terms = group["terms"]
    if not isinstance(terms, (list, tuple)) or not terms:
        return problems + [f"key '{where}.terms' must be a non-empty list of words or phrases, got {terms!r}"]
    for k, term in enumerate(terms):
        if not isinstance(term, str) or not re.search(r"\w", _term_key(term)):
            problems.append(f"key '{where}.terms[{k}]' must be a word or phrase with a letter or digit, got {term!r}")
    return problems


def parse_groups(items: Any, where: str) -> tuple[tuple[MarkerGroup, ...], list[str]]:
    """Validate a YAML list of marker groups.

    Args:
        items: the parsed list (each a mapping with family, position, terms, and optional language, source).
        where: the key the list sits under, for the messages ("markers").

    Returns:
        (groups, problems): the groups when ``problems`` is empty, else every problem found.
    """
    if not isinstance(items, list) or not items:
        return (), [f"'{where}' must be a non-empty list of marker groups (family, position, terms), got {items!r}"]
    groups, problems = [], []
    seen: dict[str, tuple[str, str, int]] = {}  # term key -> family, position, group
    for n, item in enumerate(items):
        at = f"{where}[{n}]"
        if not isinstance(item, dict):
            problems.append(f"'{at}' must be a mapping with family, position and terms, got {item!r}")
            continue
        unknown = sorted(set(map(str, item)) - set(_GROUP_KEYS))
        found = [f"unknown key '{at}.{k}' (expected one of {', '.join(_GROUP_KEYS)})" for k in unknown]
        found += [f"missing key '{at}.{k}'" for k in _REQUIRED_KEYS if k not in item]
        found += [f"key '{at}.{k}' must be a string, got {item[k]!r}" for k in ("language", "source")
                  if k in item and not isinstance(item[k], str)]
        found += _group_problems(item, at)
        if found:
            problems += found
            continue
        for term in item["terms"]:
            key = _term_key(term)
            before = seen.setdefault(key, (item["family"], item["position"], n))
            if before[:2] != (item["family"], item["position"]):
                problems.append(f"term {term!r} of '{at}' is also in '{where}[{before[2]}]' as {before[0]}/{before[1]}")
        groups.append(MarkerGroup(item["family"], item["position"], tuple(item["terms"]),
                                  str(item.get("language", "")), str(item.get("source", ""))))
    return tuple(groups), problems


def _raise(file: Path | str, problems: list[str]) -> None:
    if len(problems) == 1:
        raise ConfigError(f"{file}: {problems[0]}")
    if problems:
        raise ConfigError(f"{file}: {len(problems)} problems: " + "; ".join(problems))


def _read_yaml(file: Path | str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML ({exc.__class__.__name__}: {exc})") from None


def load_markers(path: str | os.PathLike) -> tuple[MarkerGroup, ...]:
    """A catalog's own marker groups from a YAML file with one key, ``markers``: a list of groups.

    Example::

        markers:
          - {family: karaoke, position: segment, terms: [sing-along version, guide melody]}
          - {family: instrumental, position: alone, terms: [bgm]}

    Raises:
        ConfigError: one message naming the file and every problem (unknown keys, a family or
            position not known, terms that are not a list of words, a term in two groups).
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"{file}: markers file not found")
    try:
        data = _read_yaml(file, file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping with the key 'markers', got {type(data).__name__}")
    problems = [f"unknown key '{k}' (expected markers)" for k in sorted(set(map(str, data)) - {"markers"})]
    groups, found = parse_groups(data.get("markers"), "markers")
    _raise(file, problems + found)
    return groups


@dataclass(frozen=True)
class Shipped:
    """The vocabulary shipped with vocalmine (markers.yaml)."""

    suffixes: tuple[str, ...]  # version words that may follow any term
    groups: tuple[MarkerGroup, ...]


@functools.lru_cache(maxsize=1)
def shipped() -> Shipped:
    """markers.yaml, validated.

    Raises:
        ConfigError: the shipped file is broken (a packaging or editing mistake).
    """
    source = resources.files("vocalmine.mining") / VOCABULARY_FILE
    data = _read_yaml(VOCABULARY_FILE, source.read_text(encoding="utf-8"))
    problems = [f"unknown key '{k}' (expected suffixes, groups)" for k in sorted(set(data) - {"suffixes", "groups"})]
    suffixes = (data.get("suffixes") or {}).get("terms")
    if not isinstance(suffixes, list) or not all(isinstance(s, str) and s.strip() for s in suffixes):
        problems.append(f"suffixes.terms must be a list of words, got {suffixes!r}")
    groups, found = parse_groups(data.get("groups"), "groups")
    _raise(VOCABULARY_FILE, problems + found)
    return Shipped(tuple(suffixes), groups)


@dataclass(frozen=True, eq=False)
class Terms:
    """One compiled alternation of terms; capture group k (1-based) is ``families[k - 1]``."""

    pattern: re.Pattern
    families: tuple[str, ...]

    def family(self, match: re.Match) -> str:
        """The family of the term that ``match`` (of :attr:`pattern`) found."""
        return self.families[match.lastindex - 1]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The compiled vocabulary: compared by identity (one object per set of extra groups, see :func:`vocabulary`)."""

    in_segment: Terms  # end and segment terms, as whole words anywhere in a segment (finditer)
    alone: Terms  # alone terms, as the whole segment (fullmatch)
    trailing: Terms  # end terms at the end of the main text after a space (search)
    trailing_words: str  # RE2 alternation of the words a trailing marker ends with (for the vectorised pre-check)


# What a space in a term matches: spaces, hyphens or nothing ("off vocal" = "Off-Vocal" = "offvocal").
_JOIN = r"[\s\-]*"


def _trie(keys: list[str], families: list[str]) -> str:
    """One alternation of ``keys`` as a prefix tree, an empty capture group where each key ends.

    A flat alternation of ~100 terms is tried term by term at every character (7x slower per segment
    than the former three-family pattern); the tree tries one branch per distinct letter.
    Each leaf's group is appended to ``families`` in pattern order, so ``match.lastindex`` names the term.
    """
    root: dict = {}
    for key, family in zip(keys, families):
        node = root
        for k, word in enumerate(key.split(" ")):
            for unit in ([_JOIN] if k else []) + [re.escape(c) for c in word]:
                node = node.setdefault(unit, {})
        node[None] = family
    order: list[str] = []

    def emit(node: dict) -> str:
        branches = [unit + emit(child) for unit, child in node.items() if unit is not None]
        if None in node:  # after the longer terms through this node: "instrumentals" before "instrumental"
            order.append(node[None])
            branches.append("()")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    body = emit(root) if root else "(?!)"  # no term in this position: a pattern that never matches
    families[:] = order
    return body


def _compile(terms: dict[str, str], head: str, tail: str) -> Terms:
    families = list(terms.values())
    body = _trie(list(terms), families)
    return Terms(re.compile(f"{head}{body}{tail}"), tuple(families))


@functools.lru_cache(maxsize=16)
def vocabulary(extra: tuple[MarkerGroup, ...] = ()) -> Vocabulary:
    """The shipped vocabulary plus ``extra`` groups (which replace shipped terms of the same spelling), compiled.

    Args:
        extra: a catalog's own groups (MiningConfig.markers).

    Returns:
        the same object for the same ``extra``, so that title analyses can be cached per vocabulary.
    """
    base = shipped()
    placed: dict[str, tuple[str, str]] = {}
    for group in (*base.groups, *extra):
        for term in group.terms:
            placed[_term_key(term)] = (group.family, group.position)
    suffixes = sorted({_term_key(s) for s in base.suffixes}, key=lambda k: (-len(k), k))
    suffix = "|".join(_JOIN.join(re.escape(w) for w in k.split(" ")) for k in suffixes)
    # a dot after the term, then a version word (attached or not, with its dot), then no more letters
    tail = rf"\.?(?:[\s\-]*(?:{suffix})\.?)?(?!\w)"
    pick = lambda *where: {k: fam for k, (fam, pos) in placed.items() if pos in where}  # noqa: E731
    ends = pick(END)
    words = sorted({k.split(" ")[-1] for k in ends} | set(suffixes) | {"vocal"})
    return Vocabulary(
        in_segment=_compile(pick(END, SEGMENT), r"(?<!\w)", tail),
        alone=_compile(pick(ALONE), r"\s*", tail + r"\s*"),
        trailing=_compile(ends, r"\s", tail + r"\s*$"),
        trailing_words="(?:" + "|".join(re.escape(w) for w in words) + r")\.?\s*$",
    )
