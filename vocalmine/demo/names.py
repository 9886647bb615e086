"""Messy catalog metadata: artist and title names, instrumental markers and their variants.

Real catalogs spell one artist or title several ways. The variants here only
change what a fair normaliser removes: case, accents, punctuation, "feat."
credits and the instrumental marker. Qualifiers (remix, live, edit) are part
of the title and stay.
"""

from __future__ import annotations

import unicodedata

import numpy as np

FIRST = ("Luna", "Marco", "Zoë", "Iris", "Felix", "Nadia", "Oskar", "Renée", "Jonas", "Mila", "Tomás", "Ada", "Leo",
         "Inès", "Hugo", "Sofia", "Emil", "Clara", "Niko", "Björn", "Amélie", "Rafael", "Yara", "Joël", "Greta",
         "Malik")
LAST = ("Vega", "Hart", "Moreau", "Lindqvist", "Okafor", "Novak", "Sato", "Brennan", "Duarte", "Kowalski", "Haddad",
        "Ferreira", "Holm", "Rivers", "Castell", "Nyström", "Álvarez", "Dubois", "Marsh", "Quinn", "Szabó", "Reyes")
BAND_ADJ = ("Velvet", "Neon", "Paper", "Silver", "Hollow", "Electric", "Midnight", "Golden", "Crimson", "Quiet",
            "Northern", "Static", "Wandering", "Glass", "Lunar", "Wild")
BAND_NOUN = ("Hours", "Lanterns", "Tides", "Foxes", "Engines", "Satellites", "Harbours", "Echoes", "Wolves", "Kites",
             "Comets", "Orchards", "Pilots", "Ghosts", "Rivers", "Sparrows")
TITLE_ADJ = ("Blue", "Electric", "Silent", "Golden", "Broken", "Lonely", "Wild", "Velvet", "Burning", "Hidden",
             "Endless", "Crystal", "Distant", "Summer", "Restless", "Secret", "Fading", "Frozen", "Sweet", "Stolen",
             "Holy", "Cold", "Open", "Lucky", "Heavy", "Tender", "Bitter", "Quiet", "Purple", "Sleepless")
TITLE_NOUN = ("River", "Heart", "Sky", "Light", "Road", "Dream", "Fire", "Ocean", "City", "Shadow", "Garden", "Rain",
              "Mirror", "Island", "Morning", "Letter", "Signal", "Window", "Horizon", "Promise", "Thunder", "Highway",
              "Harbor", "Stranger", "Echo", "Diamond", "Paradise", "Weather", "Memory", "Station", "Valley", "Engine")
# titles whose spelling varies: punctuation and accents a normaliser must remove
SPECIAL_TITLES = ("Don't Look Back", "Hello, Stranger", "Café Lumière", "Señorita Blue", "Rock 'n' Roll Heart",
                  "Oh! Caroline", "What's Left?", "Naïve Love", "Déjà Vu", "L'Amour Bleu", "It's Over Now",
                  "Mañana", "Where'd You Go?", "Crème Brûlée", "Über Alles Blue", "Rosé Summer")
MARKERS = (" (Instrumental)", " [Instrumental]", " [Instrumental Version]", " - Instrumental", " - Instrumental Mix",
           " (Instrumental Mix)", " (instrumental)", " - Instrumental Version", " (Instrumental Version)",
           " [INSTRUMENTAL]",
           " (Instr.)", " (Inst.)", " (Off Vocal Ver.)", " [Karaoke Version]", " Instrumental", " (Backing Track)")
FEAT = (" feat. ", " ft. ", " featuring ", " Feat. ")
EDIT_QUALIFIERS = (" (Radio Edit)", " - Radio Edit", " (Single Version)", " - 2015 Remaster")
# an edit qualifier on the original only (the instrumental is of the same edit: durations agree)
ONE_SIDED_EDITS = (" (Radio Edit)", " (Album Version)", " (Single Version)", " (Original Mix)", " - Radio Edit")
# unit, team or choir credits in brackets, some full-width and in Japanese: never part of the instrumental's title
CREDITS = (" （星見ユニット）", " （Team 灯台）", " [Harbour Unit]", " （夜明け組）")
LIVE_QUALIFIERS = (" (Live)", " - Live", " (Live at the Roundhouse)")
REMIX_QUALIFIERS = (" (Remix)", " (Club Remix)", " - Extended Remix")


def strip_accents(text: str) -> str:
    """"Zoë Szabó" -> "Zoe Szabo"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def pick(rng: np.random.Generator, options):
    """One element of ``options``, drawn from ``rng``."""
    return options[int(rng.integers(len(options)))]


class NamePool:
    """Unique artist names and titles drawn from the word lists."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.artists: set[str] = set()
        self.titles: set[str] = set()
        self.words: dict[str, set[str]] = {}  # words used in titles, per artist

    def artist(self) -> str:
        """A new artist whose normalised name differs from every earlier one."""
        for _ in range(1000):
            if self.rng.random() < 0.6:
                name = f"{pick(self.rng, FIRST)} {pick(self.rng, LAST)}"
            else:
                name = f"The {pick(self.rng, BAND_ADJ)} {pick(self.rng, BAND_NOUN)}"
            key = strip_accents(name).lower()
            if key not in self.artists:
                self.artists.add(key)
                return name
        raise RuntimeError("artist name pool exhausted")

    def title(self, artist: str = "") -> str:
        """A new title, sharing no word with the artist's earlier titles (so none of them match fuzzily)."""
        used = self.words.setdefault(strip_accents(artist).lower(), set())
        for _ in range(5000):
            if self.rng.random() < 0.25:
                name = pick(self.rng, SPECIAL_TITLES)
            else:
                name = f"{pick(self.rng, TITLE_ADJ)} {pick(self.rng, TITLE_NOUN)}"
            key = strip_accents(name).lower()
            words = {w for w in "".join(c if c.isalnum() else " " for c in key).split() if len(w) > 2}
            if key not in self.titles and not words & used:
                self.titles.add(key)
                used |= words
                return name
        raise RuntimeError("title pool exhausted: too many songs for the word lists")


def respell(rng: np.random.Generator, text: str) -> str:
    """The same name as another release might spell it: case, accents or punctuation changed (or not)."""
    choice = int(rng.integers(5))
    if choice == 1:
        return text.upper() if rng.random() < 0.5 else text.lower()
    if choice == 2 and strip_accents(text) != text:
        return strip_accents(text)
    if choice == 3:
        dropped = "".join(c for c in text if c not in "'!?,.")
        if dropped != text:
            return dropped
    return text


def with_feat(rng: np.random.Generator, artist: str, guest: str) -> str:
    """``artist`` credited with a guest, as a catalog might print it."""
    return f"{artist}{pick(rng, FEAT)}{guest}"


def instrumental_title(rng: np.random.Generator, base: str, marker: str | None = None) -> str:
    """``base`` with an instrumental marker in one of many spellings (``marker`` forces one; the draw is made
    anyway)."""
    drawn = pick(rng, MARKERS)
    marker = drawn if marker is None else marker
    if base.endswith(")") and marker.startswith(" ("):
        marker = " [" + marker[2:-1] + "]"  # "Song (Remix) [Instrumental]", not two parentheses
    return base + marker


def isrc(rng: np.random.Generator, year: int) -> str:
    """A syntactically valid ISRC, e.g. GBAYE2100123."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    country = pick(rng, ("GB", "US", "DE", "FR", "SE", "NL"))
    registrant = "".join(letters[int(i)] for i in rng.integers(0, 26, 3))
    return f"{country}{registrant}{year % 100:02d}{int(rng.integers(0, 100000)):05d}"
