"""The generated demo corpus: a messy catalog with known truth, and a multitrack evaluation set.

``generate_corpus`` writes (see CONTRACT "Demo corpus contract")::

    catalog.csv          track_id, artist, title, duration, audio_path, album, isrc, release_date
    audio/               T0001.wav|flac|mp3 ... (44.1 / 48 / 22.05 kHz, mono and stereo)
    stems/               <song_id>.vocals.wav, <song_id>.accompaniment.wav (8192 Hz float32, as in the original)
    truth_pairs.csv      original_id, instrumental_id, song_id, offset_s, gain, features_reason
    truth_tracks.csv     track_id, song_id, role, trap, expected_stage, expected_reason
    eval/eval.csv        song, mixture, vocals, accompaniment, duration_s (+ float32 WAVs: the odd-numbered songs
                         E001, E003, ... at 44.1 kHz stereo, the others at 8192 Hz mono)

Everything is deterministic for a seed. Families render in parallel processes.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import logging
import math
import multiprocessing
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocalmine.core.atomic import remove_stale_temps, write_text_atomic
from vocalmine.core.audio import write_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.core.errors import ConfigError
from vocalmine.core.progress import progress
from vocalmine.demo import plan as P
from vocalmine.demo.family import FamilyResult, render_eval_song, render_eval_song_stereo, render_family

log = logging.getLogger(__name__)

CATALOG_COLUMNS = ("track_id", "artist", "title", "duration", "audio_path", "album", "isrc", "release_date")
TRUTH_PAIR_COLUMNS = ("original_id", "instrumental_id", "song_id", "offset_s", "gain", "features_reason")
TRUTH_TRACK_COLUMNS = ("track_id", "song_id", "role", "trap", "expected_stage", "expected_reason")
EVAL_COLUMNS = ("song", "mixture", "vocals", "accompaniment", "duration_s")
MAX_SONGS = 300  # the title word lists hold about this many songs per artist pool
MIN_EVAL_SONGS = 2  # one silent-vocal clip plus at least one with a vocal
EVAL_NATIVE_RATE = 44100  # Hz of the stereo evaluation songs (full-band scoring: `evaluate --sample-rate native`)


@dataclass(frozen=True)
class CorpusSummary:
    """What generate_corpus wrote."""

    out_dir: Path  # corpus root
    tracks: int  # catalog rows, malformed ones included
    originals: int  # rows with role original
    instrumentals: int  # rows with role instrumental
    malformed: int  # rows with role malformed
    true_pairs: int  # rows of truth_pairs.csv
    eval_songs: int  # rows of eval/eval.csv
    traps: dict[str, int] = field(default_factory=dict)  # trap kind -> number of tracks carrying it
    formats: dict[str, int] = field(default_factory=dict)  # e.g. "flac 44100 Hz stereo" -> files
    audio_seconds: float = 0.0  # total duration of the catalog's audio files
    bytes: int = 0  # size of everything under out_dir
    limited_fraction: float = 0.0  # largest share of samples the limiter touched in any original
    elapsed_s: float = 0.0  # wall-clock generation time


def _csv(columns: tuple[str, ...], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _duration_text(seconds: float, rng: np.random.Generator) -> str:
    """Catalog durations as exporters print them: mostly milliseconds precision, some whole seconds."""
    return f"{round(seconds)}" if rng.random() < 0.15 else f"{seconds:.3f}"


def _check_args(songs: int, eval_songs: int, song_seconds: tuple[float, float], workers: int | None) -> None:
    if not isinstance(songs, int) or not P.MIN_SONGS <= songs <= MAX_SONGS:
        raise ConfigError(f"songs={songs!r}: the corpus needs between {P.MIN_SONGS} (one per trap) and {MAX_SONGS} "
                          f"songs")
    if not isinstance(eval_songs, int) or eval_songs < MIN_EVAL_SONGS:
        raise ConfigError(f"eval_songs={eval_songs!r}: expected at least {MIN_EVAL_SONGS} (one of them has a silent "
                          f"vocal)")
    lo, hi = song_seconds
    if not (4.0 <= lo <= hi <= 600.0):
        raise ConfigError(f"song_seconds={song_seconds!r}: expected (low, high) with 4 <= low <= high <= 600 seconds")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers={workers!r}: expected a positive number of processes")


def _run(tasks: list[tuple], workers: int) -> list:
    """Call each ``(function, *args)`` task, in ``workers`` processes when more than one; results in task order."""
    if workers <= 1:
        return [task[0](*task[1:]) for task in progress(tasks, desc="songs", unit="song")]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results: list = [None] * len(tasks)
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(*task): i for i, task in enumerate(tasks)}
        for future in progress(concurrent.futures.as_completed(futures), total=len(futures), desc="songs", unit="song"):
            results[futures[future]] = future.result()
    return results


# files an earlier demo corpus wrote, which a new one replaces (nothing else is ever deleted)
OWNED = {"": re.compile(r"(catalog|truth_pairs|truth_tracks)\.csv"),
         "audio": re.compile(r"T\d{4}[-\w]*\.(wav|flac|mp3)"),
         "stems": re.compile(r"S\d{3}[LR]?\.(vocals|accompaniment)\.wav"),
         "eval": re.compile(r"(E\d{3}\.\w+\.wav|eval\.csv)")}


def _prepare(out: Path) -> None:
    """Create ``out``; clear an earlier demo corpus there; refuse a folder that holds anything else."""
    if out.exists() and any(out.iterdir()) and not (out / "truth_tracks.csv").is_file():
        raise ConfigError(f"{out}: folder is not empty and holds no demo corpus (no truth_tracks.csv); choose another "
                          f"--out")
    for sub, pattern in OWNED.items():
        folder = out / sub
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(folder)
        for path in folder.iterdir():
            if path.is_file() and pattern.fullmatch(path.name):
                path.unlink()


def generate_corpus(out_dir: str | os.PathLike, *, songs: int = 40, eval_songs: int = 8, seed: int = 0,
                    song_seconds: tuple[float, float] = (20.0, 32.0), workers: int | None = None) -> CorpusSummary:
    """Write the demo corpus into ``out_dir``.

    The folder is created; the files of an earlier demo corpus there are replaced; a
    non-empty folder without one is refused, so that no unrelated file is touched.

    Args:
        out_dir: corpus root.
        songs: album songs in the catalog (>= 8: the first ones carry the traps).
        eval_songs: songs of the evaluation set (>= 2; the last one has a silent vocal).
        seed: same seed -> byte-identical CSVs and identical audio.
        song_seconds: (low, high) length of each composition, seconds (whole bars, so roughly).
        workers: rendering processes; default min(2, CPUs).

    Raises:
        ConfigError: on a value out of range (e.g. too few songs to hold every trap), or a
            non-empty ``out_dir`` that holds no demo corpus.
    """
    started = time.perf_counter()
    song_seconds = (float(song_seconds[0]), float(song_seconds[1]))
    _check_args(songs, eval_songs, song_seconds, workers)
    out = Path(out_dir)
    _prepare(out)
    rng = np.random.default_rng([seed, 0])
    plan = P.assign_ids(P.make_plan(rng, songs=songs, seed=seed, song_seconds=song_seconds), rng)
    workers = workers or min(2, os.cpu_count() or 1)
    log.info("rendering %d families with %d process(es)", len(plan.families), workers)
    # the longest families first, so that no worker is left with a big one at the end
    order = sorted(range(len(plan.families)), key=lambda i: -(plan.families[i].seconds * len(plan.families[i].tracks)))
    eval_rng = np.random.default_rng([seed, 5])
    # the odd-numbered songs (E001, E003, ...) at 44.1 kHz stereo, the others at 8192 Hz mono
    eval_tasks = [(_write_eval_song, out / "eval", f"E{i + 1:03d}", (seed, 4, i),
                   float(eval_rng.uniform(*song_seconds)),
                   i == eval_songs - 1, i % 2 == 0) for i in range(eval_songs)]
    done = _run([(render_family, plan.families[i], out) for i in order] + eval_tasks, workers)
    results: list[FamilyResult] = [None] * len(order)  # type: ignore[list-item]
    for i, result in zip(order, done):
        results[i] = result
    eval_rows = done[len(order):]
    write_text_atomic(out / "eval" / "eval.csv", _csv(EVAL_COLUMNS, eval_rows))

    durations = {k: v for r in results for k, v in r.durations.items()}
    pair_rows = _write_tables(out, plan, durations, {k: v for r in results for k, v in r.truth.items()}, seed)

    files = [p for p in out.rglob("*") if p.is_file()]
    formats = Counter(f"{t.fmt.suffix[1:]} {t.fmt.sr} Hz {'stereo' if t.fmt.channels == 2 else 'mono'}"
                      for t in plan.tracks if t.key in durations and t.content != P.CORRUPT)
    summary = CorpusSummary(
        out_dir=out,
        tracks=len(plan.tracks),
        originals=sum(t.role == "original" for t in plan.tracks),
        instrumentals=sum(t.role == "instrumental" for t in plan.tracks),
        malformed=sum(t.role == "malformed" for t in plan.tracks),
        true_pairs=len(pair_rows),
        eval_songs=len(eval_rows),
        traps=dict(sorted(Counter(t.trap for t in plan.tracks if t.trap).items())),
        formats=dict(sorted(formats.items())),
        audio_seconds=float(sum(durations[t.key] for t in plan.tracks if t.key in durations
                                and t.content != P.CORRUPT)),
        bytes=sum(p.stat().st_size for p in files),
        limited_fraction=max(r.limited_fraction for r in results),
        elapsed_s=time.perf_counter() - started,
    )
    log.info("demo corpus: %d tracks, %d true pairs, %.1f MB in %.1f s", summary.tracks, summary.true_pairs,
             summary.bytes / 1e6, summary.elapsed_s)
    return summary


def _write_tables(out: Path, plan: P.Plan, durations: dict[str, float], truth: dict[str, tuple[float, float]],
                  seed: int) -> list[tuple]:
    """Write catalog.csv, truth_tracks.csv and truth_pairs.csv; return the truth pair rows."""
    by_key = {t.key: t for t in plan.tracks}
    text_rng = np.random.default_rng([seed, 9])
    texts = {t.key: t.duration_text if t.duration_text is not None else _duration_text(durations[t.key], text_rng)
             for t in plan.tracks}
    # a copy of a recording lists the same duration as its source, so that the re-release cannot win
    # the album pair on a duration rounded differently (the pairing tie-break is |duration delta|)
    texts.update({t.key: texts[t.source] for t in plan.tracks if t.source})
    catalog_rows = [(t.track_id, t.artist, t.title, texts[t.key], t.audio_path, t.album, t.isrc, t.release_date)
                    for t in plan.tracks]
    write_text_atomic(out / "catalog.csv", _csv(CATALOG_COLUMNS, catalog_rows))
    write_text_atomic(out / "truth_tracks.csv", _csv(TRUTH_TRACK_COLUMNS, [
        (t.track_id, t.song_id, t.role, t.trap, t.expected_stage, t.expected_reason) for t in plan.tracks]))
    pair_rows = []
    for orig, inst, song_id, reason in plan.pairs:
        offset_s, gain = truth[inst]  # NaN for the different recording: no offset or gain explains it
        pair_rows.append((by_key[orig].track_id, by_key[inst].track_id, song_id,
                          "" if math.isnan(offset_s) else repr(float(offset_s)),
                          "" if math.isnan(gain) else repr(float(gain)), reason))
    pair_rows.sort()
    write_text_atomic(out / "truth_pairs.csv", _csv(TRUTH_PAIR_COLUMNS, pair_rows))
    return pair_rows


def _write_eval_song(eval_dir: Path, song: str, seed: tuple[int, ...], seconds: float, silent_vocal: bool,
                     native: bool = False) -> tuple:
    """Render and write one evaluation song (8192 Hz mono, or 44.1 kHz stereo when ``native``); return its
    eval.csv row."""
    if native:
        mixture, vocals, accompaniment = render_eval_song_stereo(seed, seconds, silent_vocal, EVAL_NATIVE_RATE)
        rate = EVAL_NATIVE_RATE
    else:
        mixture, vocals, accompaniment = render_eval_song(seed, seconds, silent_vocal)
        rate = SAMPLE_RATE
    for name, y in (("mixture", mixture), ("vocals", vocals), ("accompaniment", accompaniment)):
        write_audio(eval_dir / f"{song}.{name}.wav", y, rate, subtype="FLOAT")
    return (song, f"{song}.mixture.wav", f"{song}.vocals.wav", f"{song}.accompaniment.wav",
            f"{mixture.shape[0] / rate:.4f}")
