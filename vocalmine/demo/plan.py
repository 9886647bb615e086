"""The plan of a demo corpus: every catalog row, its audio content, its trap and expected verdict.

The plan is pure metadata drawn from the seed; :mod:`vocalmine.demo.family`
renders the audio. Each *family* is one composition and every release made
from it (album original and instrumental, live take, remix, re-release, ...),
so its audio is synthesised once, in one task.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from vocalmine.demo import names
from vocalmine.demo.release import AudioFormat
from vocalmine.core.contract import features_reasons as features_reasons
from vocalmine.core.contract import mining_reasons as mining_reasons

# trap kinds of the corpus (truth_tracks.csv "trap"); malformed rows use their ingest reason code as kind
OTHER_ARTIST = "other_artist"
DIFFERENT_EDIT = "different_edit"
SAME_AUDIO = "same_audio"
RERELEASE = "rerelease"
ORPHAN = "orphan_instrumental"
LIVE_TAKE = "live_take"
REMIX = "remix"
CORRUPT_AUDIO = "corrupt_audio"
DIFFERENT_RECORDING = "different_recording"
SONG_TRAPS = (SAME_AUDIO, DIFFERENT_EDIT, RERELEASE, LIVE_TAKE, REMIX, CORRUPT_AUDIO, DIFFERENT_RECORDING)
# spellings a real catalog uses, laid over songs that already carry a trap (no extra songs needed):
# the original says "(Radio Edit)", its instrumental does not: still a pair (durations agree)
EDIT_ONE_SIDE = "edit_one_side"
# the original carries a unit/team credit in brackets (full-width, non-Latin): still a pair
CREDIT = "credit_in_brackets"
# a rival instrumental whose file is cut to a few KiB: duration_mismatch, the true pair still pairs
TRUNCATED = "truncated_audio"
# an instrumental with an empty catalog duration; its decoded audio says how long it is: still a pair
UNDATED = "missing_duration"
SPELLING_TRAPS = (EDIT_ONE_SIDE, CREDIT, TRUNCATED, UNDATED)
MALFORMED = mining_reasons.INGEST_REASONS
TRAP_KINDS = SONG_TRAPS + (OTHER_ARTIST, ORPHAN) + SPELLING_TRAPS + MALFORMED
# instrumental markers forced on some songs so that every corpus holds these real spellings
FORCED_MARKERS = {LIVE_TAKE: " (Instr.)", REMIX: " (Off Vocal Ver.)", RERELEASE: " (Karaoke)", "": " Instrumental"}
MIN_SONGS = len(SONG_TRAPS) + 1  # one song per song trap, plus the song whose title another artist reuses

# what a track's file holds (rendered by family.py)
MIX = "mix"  # the mastered original of the family's recording
INSTRUMENTAL = "instrumental"  # its accompaniment, offset and re-gained
COPY = "copy"  # the same samples as track ``source`` (re-release or mislabelled copy), another format
EDIT = "edit"  # the accompaniment of an extended edit
FOREIGN = "foreign"  # the accompaniment of another composition
LIVE = "live"  # the mastered mix of a live take (other tempo, crowd)
REMIX_MIX = "remix_mix"  # the mastered mix of the remix (same vocal, new accompaniment)
REMIX_INSTRUMENTAL = "remix_instrumental"  # the remix's accompaniment, offset and re-gained
CORRUPT = "corrupt"  # garbage bytes with an audio suffix
CUT = "cut"  # the first few KiB of track ``source``'s WAV file (a truncated download)
CLIP = "clip"  # a short accompaniment clip (malformed rows that still have a file)
NO_FILE = "no_file"  # nothing is written


@dataclass(frozen=True)
class Track:
    """One catalog row, its file and its truth."""

    key: str  # unique within the plan, e.g. "S003/original"
    song_id: str  # recording whose stems describe this track ("" for malformed rows)
    role: str  # original | instrumental | malformed
    artist: str
    title: str
    album: str
    isrc: str
    release_date: str
    content: str  # one of the content kinds above
    fmt: AudioFormat | None  # file format (None: no audio written)
    trap: str = ""  # trap kind or ""
    expected_stage: str = ""  # ingest | pairing | content | features | ""
    expected_reason: str = ""  # reason code or ""
    source: str = ""  # key of the track whose samples a COPY repeats
    compilation: bool = False  # re-released later: its id sorts after every album track
    track_id: str = ""  # assigned by assign_ids
    audio_path: str = ""  # relative to the corpus root; assigned by assign_ids
    duration_text: str | None = None  # a fixed (malformed) duration instead of the file's


@dataclass(frozen=True)
class Family:
    """One composition and every release made from it: one rendering task."""

    family_id: str  # song id of the main recording (S..., X... for extras, M for malformed clips)
    seed: tuple[int, ...]  # entropy of the family's random generator
    kind: str  # "song" (vocal + accompaniment), "extra" (accompaniment only), "clips"
    seconds: float  # target length of the composition, seconds
    tracks: tuple[Track, ...]


@dataclass(frozen=True)
class Plan:
    """Everything generate_corpus writes, before any audio exists."""

    families: tuple[Family, ...]
    pairs: tuple[tuple[str, str, str, str], ...]  # (original key, instrumental key, song id, features reason)
    tracks: tuple[Track, ...] = field(default=())  # every track in catalog order, ids assigned


def random_format(rng: np.random.Generator, lossless: bool = False) -> AudioFormat:
    """Container, rate and channels as found in catalogs (WAV, FLAC, MP3; 44.1, 48, 22.05 kHz)."""
    # MP3 is the rarest: LAME encodes at only ~15x real time on these machines
    suffix = str(rng.choice([".wav", ".flac"]) if lossless
                 else rng.choice([".wav", ".flac", ".mp3"], p=[0.45, 0.41, 0.14]))
    sr = int(rng.choice([44100, 48000, 22050], p=[0.4, 0.2, 0.4]))
    return AudioFormat(suffix=suffix, sr=sr, channels=int(rng.choice([2, 1], p=[0.6, 0.4])))


def other_lossless(fmt: AudioFormat, rng: np.random.Generator, new_rate: bool = False) -> AudioFormat:
    """The other lossless container (WAV <-> FLAC), optionally at another sample rate."""
    sr = fmt.sr
    if new_rate:
        sr = int(rng.choice([r for r in (44100, 48000) if r != fmt.sr]))
    return AudioFormat(suffix=".flac" if fmt.suffix == ".wav" else ".wav", sr=sr, channels=fmt.channels)


def make_plan(rng: np.random.Generator, *, songs: int, seed: int, song_seconds: tuple[float, float]) -> Plan:
    """Draw the catalog: ``songs`` album songs (the first ones carry the song traps) plus extras."""
    pool = names.NamePool(rng)
    n_artists = max(MIN_SONGS, int(np.ceil(songs * 0.6)))
    artists = [pool.artist() for _ in range(n_artists)]
    owner = [artists[i] if i < n_artists else artists[int(rng.integers(n_artists))] for i in range(songs)]
    years = {a: int(rng.integers(1995, 2024)) for a in artists}
    albums = {a: f"{names.pick(rng, names.TITLE_ADJ)} {names.pick(rng, names.TITLE_NOUN)}s" for a in artists}
    order = rng.permutation(songs)
    traps = {int(order[j]): trap for j, trap in enumerate(SONG_TRAPS)}
    reused_title_song = int(order[len(SONG_TRAPS)])
    families, pairs = [], []
    bases = {}
    for i in range(songs):
        sid = f"S{i + 1:03d}"
        artist = owner[i]
        base = pool.title(artist)
        if rng.random() < 0.12 and traps.get(i) is None:
            base += names.pick(rng, names.EDIT_QUALIFIERS)  # the qualifier is on both releases
        bases[i] = base
        trap = traps.get(i, "")
        tracks, fam_pairs = _song_tracks(rng, pool, sid, artist, base, trap, years[artist], albums[artist],
                                         reused=i == reused_title_song)
        families.append(Family(sid, (seed, 1, i), "song", float(rng.uniform(*song_seconds)), tuple(tracks)))
        pairs += fam_pairs
    # extras: an instrumental of another artist reusing a title, and an orphan instrumental
    extras = [(OTHER_ARTIST, names.respell(rng, bases[reused_title_song])), (ORPHAN, pool.title())]
    for j, (trap, base) in enumerate(extras):
        xid = f"X{j + 1:03d}"
        artist = pool.artist()
        year = int(rng.integers(1995, 2024))
        track = Track(key=f"{xid}/instrumental", song_id=xid, role="instrumental", artist=artist,
                      title=names.instrumental_title(rng, base), album=f"{base} (Single)", isrc=names.isrc(rng, year),
                      release_date=_date(rng, year), content=FOREIGN, fmt=random_format(rng), trap=trap,
                      expected_stage="pairing", expected_reason=mining_reasons.NO_ORIGINAL)
        families.append(Family(xid, (seed, 2, j), "extra", float(rng.uniform(*song_seconds)), (track,)))
    families.append(_malformed_family(rng, pool, seed, artists))
    return Plan(families=tuple(families), pairs=tuple(pairs))


def _date(rng: np.random.Generator, year: int) -> str:
    if rng.random() < 0.1:
        return str(year)  # messy: year only
    return f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"


def _song_tracks(rng: np.random.Generator, pool: names.NamePool, sid: str, artist: str, base: str, trap: str,
                 year: int, album: str, reused: bool = False) -> tuple[list[Track], list[tuple[str, str, str, str]]]:
    """The releases of one album song and of its trap, and its true pairs.

    Spelling traps ride on songs whose album pair is a true pair: the live-take song's original
    carries an edit qualifier (and its instrumental no catalog duration), the remix song's original a
    credit in brackets, and the song whose title another artist reuses gets a truncated rival instrumental.
    """
    guest = pool.artist() if rng.random() < 0.3 else ""
    orig_artist, orig_title = artist, base
    if guest and rng.random() < 0.5:
        orig_artist = names.with_feat(rng, artist, guest)
    elif guest:
        opener, closer = names.pick(rng, (("(feat. ", ")"), ("[feat. ", "]"), ("(ft. ", ")")))
        orig_title = f"{base} {opener}{guest}{closer}"
    lossless = trap in (SAME_AUDIO, RERELEASE)
    orig_fmt = random_format(rng, lossless=lossless)
    spelling = ""
    if trap == LIVE_TAKE:
        spelling = EDIT_ONE_SIDE
        orig_title += names.pick(rng, names.ONE_SIDED_EDITS)
    elif trap == REMIX:
        spelling = CREDIT
        orig_title += names.pick(rng, names.CREDITS)
    original = Track(key=f"{sid}/original", song_id=sid, role="original", artist=orig_artist, title=orig_title,
                     album=album, isrc=names.isrc(rng, year), release_date=_date(rng, year), content=MIX, fmt=orig_fmt,
                     trap=spelling)
    inst_year = year + int(rng.integers(0, 3))
    marker = FORCED_MARKERS.get(trap if trap or reused else "-")
    # the live-take song's instrumental has no catalog duration: its decoded audio says how long it is
    undated = dict(trap=UNDATED, duration_text="") if trap == LIVE_TAKE else {}
    inst = Track(key=f"{sid}/instrumental", song_id=sid, role="instrumental", artist=names.respell(rng, artist),
                 title=names.instrumental_title(rng, names.respell(rng, base), marker=marker),
                 album=album + names.pick(rng, (" (Instrumentals)", " (Instrumental Version)", ""))
                 if rng.random() < 0.7 else base,
                 isrc=names.isrc(rng, inst_year), release_date=_date(rng, inst_year), content=INSTRUMENTAL,
                 fmt=random_format(rng, lossless=lossless), **undated)
    tracks, pairs = [original], []
    if trap == SAME_AUDIO:
        fmt = other_lossless(orig_fmt, rng)
        tracks.append(dataclasses.replace(inst, content=COPY, source=original.key, fmt=fmt, trap=trap,
                                          expected_stage="content", expected_reason=mining_reasons.SAME_CONTENT))
        return tracks, pairs
    if trap == DIFFERENT_EDIT:
        tracks.append(dataclasses.replace(inst, content=EDIT, trap=trap, expected_stage="pairing",
                                          expected_reason=mining_reasons.DURATION_MISMATCH))
        return tracks, pairs
    if trap == CORRUPT_AUDIO:
        # a WAV or FLAC name: random bytes named .mp3 may hold an MPEG frame sync that a decoder accepts
        tracks.append(dataclasses.replace(inst, content=CORRUPT, fmt=random_format(rng, lossless=True), trap=trap,
                                          expected_stage="content", expected_reason=mining_reasons.UNDECODABLE))
        return tracks, pairs
    if trap == DIFFERENT_RECORDING:
        tracks.append(dataclasses.replace(inst, content=FOREIGN, trap=trap, expected_stage="features",
                                          expected_reason=features_reasons.TOO_DIFFERENT))
        pairs.append((original.key, inst.key, sid, features_reasons.TOO_DIFFERENT))
        return tracks, pairs
    tracks.append(inst)
    pairs.append((original.key, inst.key, sid, ""))
    if reused:
        # listed again as a promo whose download was cut short: same title and catalog duration, a few KiB of audio
        tracks.append(dataclasses.replace(inst, key=f"{sid}/truncated",
                                          title=names.instrumental_title(rng, base, marker=" (Instrumental)"),
                                          album=f"{base} (Promo)", content=CUT, source=inst.key,
                                          fmt=AudioFormat(".wav", 44100, 2),
                                          trap=TRUNCATED, expected_stage="content",
                                          expected_reason=mining_reasons.DURATION_MISMATCH))
    if trap == RERELEASE:
        comp_year = max(year, inst_year) + int(rng.integers(3, 12))
        comp_album = names.pick(rng, ("Greatest Hits", f"The Best of {artist}", "Anthology", "Collected"))
        for track, new_rate in ((original, False), (inst, True)):
            tracks.append(dataclasses.replace(
                track, key=track.key + "/rerelease", content=COPY, source=track.key,
                fmt=other_lossless(track.fmt, rng, new_rate),
                album=comp_album, release_date=_date(rng, comp_year), trap=trap, compilation=True))
        comp_inst = tracks[-1]
        tracks[-1] = dataclasses.replace(comp_inst, expected_stage="content",
                                         expected_reason=mining_reasons.DUPLICATE_RECORDING)
    elif trap == LIVE_TAKE:
        tracks.append(Track(key=f"{sid}/live", song_id=sid + "L", role="original", artist=artist,
                            title=base + names.pick(rng, names.LIVE_QUALIFIERS), album=f"Live {year + 2}",
                            isrc=names.isrc(rng, year + 2), release_date=_date(rng, year + 2), content=LIVE,
                            fmt=random_format(rng), trap=trap))
    elif trap == REMIX:
        titled = base + names.pick(rng, names.REMIX_QUALIFIERS)
        remix = Track(key=f"{sid}/remix", song_id=sid + "R", role="original", artist=artist, title=titled,
                      album=f"{album} (Remixes)", isrc=names.isrc(rng, year + 1), release_date=_date(rng, year + 1),
                      content=REMIX_MIX, fmt=random_format(rng), trap=trap)
        remix_inst = dataclasses.replace(remix, key=f"{sid}/remix_instrumental", role="instrumental",
                                         title=names.instrumental_title(rng, titled), isrc=names.isrc(rng, year + 1),
                                         content=REMIX_INSTRUMENTAL, fmt=random_format(rng))
        tracks += [remix, remix_inst]
        pairs.append((remix.key, remix_inst.key, sid + "R", ""))
    return tracks, pairs


def _malformed_family(rng: np.random.Generator, pool: names.NamePool, seed: int, artists: list[str]) -> Family:
    """One row per ingest reason; rows that still name a file get a short clip."""
    rows = []
    for reason in MALFORMED:
        artist = artists[int(rng.integers(len(artists)))] if rng.random() < 0.5 else pool.artist()
        title = pool.title(artist) + (names.pick(rng, names.MARKERS) if rng.random() < 0.5 else "")
        year = int(rng.integers(1995, 2024))
        track = Track(key=f"M/{reason}", song_id="", role="malformed", artist=artist, title=title, album="",
                      isrc=names.isrc(rng, year) if rng.random() < 0.5 else "", release_date=_date(rng, year),
                      content=CLIP, fmt=AudioFormat(".wav", 22050, 1), trap=reason, expected_stage="ingest",
                      expected_reason=reason)
        if reason == mining_reasons.MISSING_TITLE:
            track = dataclasses.replace(track, title="")
        elif reason == mining_reasons.MISSING_ARTIST:
            track = dataclasses.replace(track, artist="")
        elif reason == mining_reasons.BAD_DURATION:
            # no usable duration and a file that does not decode: nothing says how long the track is
            track = dataclasses.replace(track, duration_text=str(names.pick(rng, ("n/a", "-1", "abc", "inf"))),
                                        content=CORRUPT)
        elif reason in (mining_reasons.MISSING_AUDIO_PATH, mining_reasons.PATH_ESCAPES_ROOT,
                        mining_reasons.AUDIO_NOT_FOUND):
            track = dataclasses.replace(track, content=NO_FILE, fmt=None, duration_text=f"{rng.uniform(150, 300):.3f}")
        rows.append(track)
    return Family("M", (seed, 3), "clips", 4.0, tuple(rows))


def assign_ids(plan: Plan, rng: np.random.Generator) -> Plan:
    """Track ids and audio paths: album tracks shuffled, then re-releases, then malformed rows.

    The duplicate_id row reuses the id of an earlier album original (the first row keeps it).
    """
    every = [t for fam in plan.families for t in fam.tracks]
    album = [t for t in every if not t.compilation and t.role != "malformed"]
    album = [album[i] for i in rng.permutation(len(album))]
    later = [t for t in every if t.compilation] + [t for t in every if t.role == "malformed"]
    assigned: dict[str, Track] = {}
    for number, track in enumerate(album + later, start=1):
        tid = f"T{number:04d}"
        path = f"audio/{tid}{track.fmt.suffix}" if track.fmt else ""
        if track.trap == mining_reasons.DUPLICATE_ID:
            originals = [t for t in album if t.role == "original"]
            tid = assigned[originals[int(rng.integers(len(originals)))].key].track_id
            path = f"audio/{tid}-duplicate{track.fmt.suffix}"
        elif track.trap == mining_reasons.MISSING_ID:
            path, tid = f"audio/{tid}-no-id{track.fmt.suffix}", ""
        elif track.trap == mining_reasons.MISSING_AUDIO_PATH:
            path = ""
        elif track.trap == mining_reasons.PATH_ESCAPES_ROOT:
            path = f"../outside/{tid}.wav"
        elif track.trap == mining_reasons.AUDIO_NOT_FOUND:
            path = f"audio/{tid}.wav"
        assigned[track.key] = dataclasses.replace(track, track_id=tid, audio_path=path)
    families = tuple(dataclasses.replace(f, tracks=tuple(assigned[t.key] for t in f.tracks)) for f in plan.families)
    return dataclasses.replace(plan, families=families, tracks=tuple(assigned[t.key] for t in album + later))
