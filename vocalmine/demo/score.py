"""Compositions of the demo corpus: tempo, key, chords, a sung melody and an arrangement.

A :class:`Score` holds everything in beats, so a live take at another tempo
or an extended edit with more bars is the same score rendered differently
(see :mod:`vocalmine.demo.synth`). Everything is drawn from the ``rng`` given.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

BEATS_PER_BAR = 4
MAJOR = (0, 2, 4, 5, 7, 9, 11)  # semitones of the major scale degrees
MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor
# chord progressions as 0-based scale degrees, one chord per bar
PROGRESSIONS = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 0), (0, 3, 4, 3), (0, 6, 5, 4), (5, 4, 3, 4))
VOWELS = ("a", "e", "i", "o", "u")
CONSONANTS = ("", "", "s", "sh", "t", "k", "f", "h")  # "" = the syllable starts on the vowel
PIANO_RHYTHMS = ((0.0,), (0.0, 2.0), (0.0, 1.0, 2.0, 3.0), (0.0, 1.5, 3.0), (0.0, 0.5, 1.5, 2.5, 3.0))
BASS_RHYTHMS = ((0.0, 2.0), (0.0, 1.0, 2.0, 3.0), (0.0, 0.5, 1.5, 2.0, 3.0), (0.0, 1.5, 2.0, 3.5))
KICK_PATTERNS = ((0.0, 2.0), (0.0, 1.5, 2.0), (0.0, 2.5), (0.0, 0.75, 2.0, 2.5))
SNARE_PATTERNS = ((1.0, 3.0), (2.0,), (1.0, 3.0, 3.75))
# vocal-to-accompaniment ratio of a song, dB (measured where the voice sings): from a faint voice to one far above
# the band, so that the quality gate of `build` is tested at every vocal level (issue 12)
VOCAL_DB_RANGE = (-12.0, 12.0)


@dataclass(frozen=True)
class Melody:
    """The sung line: one row per syllable, times in beats from the song start."""

    start: np.ndarray  # (n,) float64 onset in beats
    length: np.ndarray  # (n,) float64 duration in beats (the note is sung for this long)
    midi: np.ndarray  # (n,) float64 pitch in MIDI semitones
    vowel: np.ndarray  # (n,) int index into VOWELS
    consonant: np.ndarray  # (n,) int index into CONSONANTS
    legato: np.ndarray  # (n,) bool, glides from the previous note instead of re-attacking
    phrase_start: np.ndarray  # (p,) float64 onset of each phrase in beats (a breath precedes it)


@dataclass(frozen=True)
class Score:
    """One composition; rendering turns it into stems at a sample rate."""

    bpm: float  # tempo, beats per minute
    n_bars: int  # bars of music (the song's length before its ring-out tail)
    lead_in_s: float  # silence before the first downbeat, seconds
    key: int  # MIDI note of the tonic
    minor: bool  # minor or major scale
    progression: tuple[int, ...]  # scale degree of each bar's chord, cycled
    melody: Melody  # the sung line
    instruments: tuple[str, ...]  # harmony instruments: "piano", "pad", "pluck"
    piano_rhythm: tuple[float, ...]  # chord hits within a bar, beats
    bass_rhythm: tuple[float, ...]  # bass notes within a bar, beats
    kick: tuple[float, ...]  # kick hits within a bar, beats
    snare: tuple[float, ...]  # snare hits within a bar, beats
    hat_step: float  # hi-hat every hat_step beats (0.5 = eighths)
    brightness: float  # 0..1, spectral tilt of the harmony instruments
    vocal_db: float  # vocal level relative to the accompaniment's RMS, dB

    @property
    def beat_s(self) -> float:
        """Seconds per beat."""
        return 60.0 / self.bpm

    @property
    def music_s(self) -> float:
        """Seconds from the start to the end of the last bar."""
        return self.lead_in_s + self.n_bars * BEATS_PER_BAR * self.beat_s

    def scale_midi(self, degree: int, octave: int = 0) -> int:
        """MIDI note of a scale degree (any integer; wraps into octaves)."""
        scale = MINOR if self.minor else MAJOR
        return self.key + scale[degree % 7] + 12 * (degree // 7 + octave)

    def chord(self, bar: int) -> tuple[int, int, int, int]:
        """Scale degrees of the bar's chord: root, third, fifth, seventh."""
        root = self.progression[bar % len(self.progression)]
        return root, root + 2, root + 4, root + 6

    def variant(self, rng: np.random.Generator, *, bpm_factor: float = 1.0, extra_bars: int = 0,
                rearrange: bool = False) -> "Score":
        """A live take (other tempo), an extended edit (more bars) or a remix (new arrangement)."""
        changes: dict = {"bpm": self.bpm * bpm_factor, "n_bars": self.n_bars + extra_bars}
        if rearrange:
            changes.update(_arrangement(rng, exclude=self.instruments))
        return dataclasses.replace(self, **changes)


def _arrangement(rng: np.random.Generator, exclude: tuple[str, ...] = ()) -> dict:
    sets = [s for s in (("piano",), ("pad",), ("piano", "pad"), ("pluck", "pad"), ("piano", "pluck")) if s != exclude]
    return {
        "instruments": sets[rng.integers(len(sets))],
        "piano_rhythm": PIANO_RHYTHMS[rng.integers(len(PIANO_RHYTHMS))],
        "bass_rhythm": BASS_RHYTHMS[rng.integers(len(BASS_RHYTHMS))],
        "kick": KICK_PATTERNS[rng.integers(len(KICK_PATTERNS))],
        "snare": SNARE_PATTERNS[rng.integers(len(SNARE_PATTERNS))],
        "hat_step": float(rng.choice([0.5, 0.5, 0.25, 1.0])),
        "brightness": float(rng.uniform(0.2, 0.9)),
    }


def compose(rng: np.random.Generator, seconds: float) -> Score:
    """A random song of about ``seconds`` (whole bars, at least two)."""
    bpm = float(rng.uniform(78, 132))
    bar_s = BEATS_PER_BAR * 60.0 / bpm
    n_bars = max(2, int(round(seconds / bar_s)))
    minor = bool(rng.random() < 0.4)
    # voice: low (male-like) or high (female-like) register; the key sits in it
    low = int(rng.choice([50, 57]))
    key = int(rng.integers(low - 7, low - 2))  # melody degrees 3..12 then span about low-2..low+16
    base = dict(bpm=bpm, n_bars=n_bars, lead_in_s=float(rng.uniform(0.05, 0.25)), key=key, minor=minor,
                progression=PROGRESSIONS[rng.integers(len(PROGRESSIONS))], vocal_db=float(rng.uniform(*VOCAL_DB_RANGE)))
    base.update(_arrangement(rng))
    score = Score(melody=_empty_melody(), **base)
    return dataclasses.replace(score, melody=_melody(rng, score))


def _empty_melody() -> Melody:
    empty = np.zeros(0)
    return Melody(empty, empty, empty, empty.astype(int), empty.astype(int), empty.astype(bool), empty)


def _melody(rng: np.random.Generator, score: Score) -> Melody:
    """Phrases of one or two bars separated by rests; pitches walk the scale near chord tones."""
    rows: list[tuple[float, float, float, int, int, bool]] = []
    phrases: list[float] = []
    total = score.n_bars * BEATS_PER_BAR
    beat = float(BEATS_PER_BAR if score.n_bars > 2 else 1)  # one bar of intro when there is room
    degree = 7 + int(rng.integers(-2, 3))
    while beat < total - 1.0:
        phrase_len = float(rng.choice([4.0, 6.0, 8.0]))
        end = min(beat + phrase_len - float(rng.choice([0.5, 1.0, 1.5])), total - 0.5)
        phrases.append(beat)
        first = True
        while beat < end:
            length = float(min(rng.choice([0.5, 0.5, 1.0, 1.0, 1.5, 2.0]), end - beat))
            if length < 0.25:
                break
            bar = int(beat // BEATS_PER_BAR)
            chord = score.chord(bar)
            if beat % 1.0 == 0.0 and rng.random() < 0.6:
                # strong beat: move to the nearest chord tone
                options = np.array([c + 7 * o for c in chord[:3] for o in (0, 1, 2)])
                degree = int(options[np.argmin(np.abs(options - degree))])
            else:
                degree += int(rng.choice([-2, -1, -1, 1, 1, 2, 0]))
            degree = int(np.clip(degree, 3, 12))
            midi = score.scale_midi(degree)
            legato = (not first) and rng.random() < 0.35
            consonant = 0 if legato else int(rng.integers(len(CONSONANTS)))
            rows.append((beat, length, float(midi), int(rng.integers(len(VOWELS))), consonant, legato))
            beat += length
            first = False
        beat = float(np.ceil(beat + 0.5))  # a rest of at least half a beat, then the next phrase on a beat
    start, length, midi, vowel, consonant, legato = (np.array(col) for col in zip(*rows))
    return Melody(start=start.astype(float), length=length.astype(float), midi=midi.astype(float),
                  vowel=vowel.astype(int),
                  consonant=consonant.astype(int), legato=legato.astype(bool),
                  phrase_start=np.array(phrases, dtype=float))
