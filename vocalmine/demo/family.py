"""Rendering one family of the plan: synthesise its recordings, write its releases and stems.

One call per family, so families render in parallel processes; every random
draw comes from the family's own seed, so the output does not depend on the
order or the process that renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalmine.core.atomic import write_bytes_atomic
from vocalmine.core.audio import resample, write_audio
from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.demo import plan as P
from vocalmine.demo.release import (AudioFormat, Master, delayed, fade_out, master, stem_as_loaded, write_release,
                                    INSTRUMENTAL_PEAK)
from vocalmine.demo.score import compose
from vocalmine.demo.synth import SYNTH_RATE, render_accompaniment, render_vocal

SR = SYNTH_RATE
MAX_OFFSET_S = 0.35  # instrumental offsets are drawn in ± this, seconds (whole samples at 8192 Hz)
TAIL_S = (1.0, 2.2)  # extra ring-out of the instrumentals that have a longer tail, seconds
RING_S = (1.6, 2.2)  # an original ends this long after the music (the final chord has died away), seconds
RENDER_TAIL_S = RING_S[1] + TAIL_S[1] + MAX_OFFSET_S + 0.1  # the accompaniment is synthesised this long past the music


@dataclass(frozen=True)
class FamilyResult:
    """What one family wrote."""

    durations: dict[str, float]  # track key -> file duration, seconds
    truth: dict[str, tuple[float, float]]  # instrumental key -> (offset_s, gain)
    stems: tuple[str, ...]  # song ids whose stems were written
    limited_fraction: float  # largest share of limited samples among the family's originals


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) + 1e-12


def _vocal_at_level(vocal: np.ndarray, accompaniment: np.ndarray, level_db: float) -> np.ndarray:
    """Scale the vocal to ``level_db`` relative to the accompaniment, both measured where the voice sings."""
    voiced = np.abs(vocal) > 1e-3 * np.abs(vocal).max()
    return vocal * _rms(accompaniment[voiced].mean(axis=1)) / _rms(vocal[voiced]) * 10 ** (level_db / 20)


def _instrumental(acc: np.ndarray, mastered: Master, length_o: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                                                       float, float]:
    """An instrumental release of ``acc``: offset, own gain, maybe a longer tail. Returns (stereo, offset_s, g)."""
    k = int(rng.integers(-int(MAX_OFFSET_S * SAMPLE_RATE),
                         int(MAX_OFFSET_S * SAMPLE_RATE) + 1)) if rng.random() < 0.9 else 0
    offset_s = k / SAMPLE_RATE  # a whole number of samples at 8192 Hz: what a perfect aligner finds
    tail = rng.uniform(*TAIL_S) if rng.random() < 0.35 else 0.0
    length = int(round(length_o + (offset_s + tail) * SR))
    y = delayed(acc, offset_s=offset_s, length=length, sr=SR)
    gain = mastered.gain * 10 ** (rng.uniform(-3.0, 4.5) / 20)
    gain = min(gain, INSTRUMENTAL_PEAK / max(np.abs(y).max(), 1e-12))
    return y * (gain * fade_out(length, SR))[:, None], offset_s, mastered.gain / gain


def _write_stems(out_dir: Path, song_id: str, mastered: Master, fmt: AudioFormat) -> None:
    for name, stem in (("vocals", mastered.vocals), ("accompaniment", mastered.accompaniment)):
        write_audio(out_dir / "stems" / f"{song_id}.{name}.wav", stem_as_loaded(stem, fmt), SAMPLE_RATE,
                    subtype="FLOAT")


def _crowd(rng: np.random.Generator, n: int) -> np.ndarray:
    """Audience noise of a live take: a low murmur and applause swelling at the end, (n, 2)."""
    noise = rng.standard_normal((n, 2))
    t = np.arange(n) / SR
    swell = 0.02 + 0.25 * np.clip((t - (t[-1] - 3.0)) / 1.0, 0, 1) + 0.1 * np.clip(1 - t / 1.5, 0, 1)
    clap = (rng.random((n, 2)) < 0.002) * rng.standard_normal((n, 2)) * 4
    return (0.3 * noise + clap) * swell[:, None]


def render_family(family: P.Family, out_dir: Path) -> FamilyResult:
    """Synthesise ``family`` and write every file of its tracks under ``out_dir``."""
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(list(family.seed)).spawn(8)]
    compose_rng, vocal_rng, acc_rng, release_rng, edit_rng, foreign_rng, live_rng, remix_rng = streams
    score = compose(compose_rng, family.seconds)
    n_full = int(np.ceil((score.music_s + RENDER_TAIL_S) * SR))
    durations: dict[str, float] = {}
    truth: dict[str, tuple[float, float]] = {}
    stems: list[str] = []
    written: dict[str, np.ndarray] = {}
    limited = 0.0
    if family.kind == "clips":
        clip = render_accompaniment(score, acc_rng, sr=SR, length=n_full)[: int(family.seconds * SR)] * 0.5
        junk_rng = np.random.default_rng([*family.seed, 99])
        for track in family.tracks:
            if track.content == P.CLIP:
                durations[track.key] = write_release(out_dir / track.audio_path, clip, track.fmt, SR)
            elif track.content == P.CORRUPT:
                write_bytes_atomic(out_dir / track.audio_path,
                                   b"\x00\x01" + junk_rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
                durations[track.key] = family.seconds
        return FamilyResult(durations, truth, (), 0.0)
    acc = render_accompaniment(score, acc_rng, sr=SR, length=n_full)
    if family.kind == "extra":
        length = int(round((score.music_s + release_rng.uniform(*RING_S)) * SR))
        y = acc[:length] * (0.9 * fade_out(length, SR))[:, None]
        for track in family.tracks:
            durations[track.key] = write_release(out_dir / track.audio_path, y, track.fmt, SR)
        return FamilyResult(durations, truth, (), 0.0)

    vocal = _vocal_at_level(render_vocal(score, vocal_rng, sr=SR, length=n_full), acc, score.vocal_db)
    length_o = int(round((score.music_s + release_rng.uniform(*RING_S)) * SR))
    mastered = master(vocal, acc, length=length_o, loudness_db=release_rng.uniform(-16.0, -11.0), sr=SR)
    limited = mastered.limited_fraction
    remix_acc = remix_master = None
    for track in family.tracks:
        path = out_dir / track.audio_path
        if track.content == P.MIX:
            y = mastered.mix
            _write_stems(out_dir, track.song_id, mastered, track.fmt)
            stems.append(track.song_id)
        elif track.content == P.INSTRUMENTAL:
            y, offset_s, gain = _instrumental(acc, mastered, length_o, release_rng)
            truth[track.key] = (offset_s, gain)
        elif track.content == P.COPY:
            y = written[track.source]
        elif track.content == P.CUT:
            # the whole file's catalog duration, but only its first few KiB on disk
            durations[track.key] = write_release(path, written[track.source], track.fmt, SR)
            write_bytes_atomic(path, path.read_bytes()[:6144])
            continue
        elif track.content == P.EDIT:
            extended = score.variant(edit_rng,
                                     extra_bars=max(4,
                                                    int(np.ceil(max(12.0, 0.5 * score.music_s) / (4 * score.beat_s)))))
            n_ext = int(np.ceil((extended.music_s + 0.6) * SR))
            envelope = mastered.gain * fade_out(n_ext, SR)
            y = render_accompaniment(extended, edit_rng, sr=SR, length=n_ext) * envelope[:, None]
        elif track.content == P.FOREIGN:
            other = compose(foreign_rng, score.music_s + 2.0)
            n_other = int(round(length_o + foreign_rng.uniform(-1.0, 1.0) * SR))
            y = render_accompaniment(other, foreign_rng, sr=SR, length=n_other) * (0.8 * fade_out(n_other, SR))[:, None]
            truth[track.key] = (float("nan"), float("nan"))
        elif track.content == P.LIVE:
            live = score.variant(live_rng, bpm_factor=live_rng.uniform(0.94, 1.06))
            n_live = int(np.ceil((live.music_s + RENDER_TAIL_S) * SR))
            live_acc = render_accompaniment(live, live_rng, sr=SR, length=n_live) + _crowd(live_rng, n_live)
            live_vocal = _vocal_at_level(render_vocal(live, live_rng, sr=SR, length=n_live), live_acc, score.vocal_db)
            live_master = master(live_vocal, live_acc, length=n_live, loudness_db=live_rng.uniform(-16.0, -12.0), sr=SR)
            y = live_master.mix
            _write_stems(out_dir, track.song_id, live_master, track.fmt)
            stems.append(track.song_id)
        elif track.content in (P.REMIX_MIX, P.REMIX_INSTRUMENTAL):
            if remix_acc is None:
                remix_acc = render_accompaniment(score.variant(remix_rng, rearrange=True), remix_rng, sr=SR,
                                                 length=n_full)
                remix_master = master(vocal, remix_acc, length=length_o, loudness_db=remix_rng.uniform(-15.0, -10.0),
                                      sr=SR)
            if track.content == P.REMIX_MIX:
                y = remix_master.mix
                _write_stems(out_dir, track.song_id, remix_master, track.fmt)
                stems.append(track.song_id)
                limited = max(limited, remix_master.limited_fraction)
            else:
                y, offset_s, gain = _instrumental(remix_acc, remix_master, length_o, remix_rng)
                truth[track.key] = (offset_s, gain)
        elif track.content == P.CORRUPT:
            junk = release_rng.integers(0, 256, int(release_rng.integers(20_000, 60_000)), dtype=np.uint8).tobytes()
            write_bytes_atomic(path, b"\x00\x01" + junk)  # no container signature: no decoder accepts it
            durations[track.key] = (length_o / SR) + float(release_rng.uniform(-1.0, 1.0))
            continue
        else:
            raise AssertionError(f"unknown content {track.content!r}")
        written[track.key] = y
        durations[track.key] = write_release(path, y, track.fmt, SR)
    return FamilyResult(durations, truth, tuple(stems), limited)


def _eval_stems(seed: tuple[int, ...], seconds: float, silent_vocal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                    float]:
    """The stems of one evaluation song at SR: vocal (n,), accompaniment (n, 2), fade (n,), and a peak level
    drawn in [0.5, 0.85]."""
    compose_rng, vocal_rng, acc_rng, level_rng = (np.random.default_rng(s)
                                                  for s in np.random.SeedSequence(list(seed)).spawn(4))
    score = compose(compose_rng, seconds)
    n = int(np.ceil((score.music_s + 0.5) * SR))
    acc = render_accompaniment(score, acc_rng, sr=SR, length=n)
    vocal = np.zeros(n) if silent_vocal else _vocal_at_level(render_vocal(score, vocal_rng, sr=SR, length=n), acc,
                                                             score.vocal_db)
    return vocal, acc, fade_out(n, SR), float(level_rng.uniform(0.5, 0.85))


def render_eval_song(seed: tuple[int, ...], seconds: float, silent_vocal: bool) -> tuple[np.ndarray, np.ndarray,
                                                                                         np.ndarray]:
    """One evaluation song at 8192 Hz: (mixture, vocals, accompaniment), float32, mixture == vocals + accompaniment."""
    vocal, acc, fade, level = _eval_stems(seed, seconds, silent_vocal)
    scale = level / np.abs(acc.mean(axis=1) + vocal).max()
    vocals = resample((vocal * fade * scale).astype(np.float32), SR, SAMPLE_RATE)
    accompaniment = resample((acc.mean(axis=1) * fade * scale).astype(np.float32), SR, SAMPLE_RATE)
    return vocals + accompaniment, vocals, accompaniment


def render_eval_song_stereo(seed: tuple[int, ...], seconds: float, silent_vocal: bool,
                            rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One evaluation song at ``rate``, stereo: (mixture, vocals, accompaniment), float32 (n, 2),
    mixture == vocals + accompaniment. The same song as :func:`render_eval_song` with the same
    seed, before its downmix and resampling to 8192 Hz: the vocal in the centre, the band panned."""
    vocal, acc, fade, level = _eval_stems(seed, seconds, silent_vocal)
    scale = level / np.abs(acc + vocal[:, None]).max()
    up = lambda y: resample(np.ascontiguousarray(y, dtype=np.float32), SR, rate)  # noqa: E731
    v = up(vocal * fade * scale)
    vocals = np.stack([v, v], axis=1)
    accompaniment = np.stack([up(acc[:, c] * fade * scale) for c in range(2)], axis=1)
    return vocals + accompaniment, vocals, accompaniment
