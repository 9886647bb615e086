"""Signal synthesis of the demo corpus: a sung vocal and a band accompaniment.

The vocal is a harmonic source (vibrato, glides, scoops, jitter) whose
harmonic amplitudes follow a parallel formant filter of the current vowel,
interpolated across syllables, plus consonant noise bursts, breathy "air" above 4 kHz, breaths before
phrases, breathiness and a little reverb. The accompaniment is piano, pad
and/or plucked arpeggios on the chords (in the vocal's range), bass and drums,
panned in stereo so that the mean of the two channels is the mono stem.
Everything is vectorised over samples; notes are cached templates.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.signal

from vocalmine.demo.score import BEATS_PER_BAR, CONSONANTS, Score

SYNTH_RATE = 22050  # Hz; every song is synthesised at this rate and resampled per release
CONTROL_HOP = 64  # samples between control points (f0, formants, envelopes)
MAX_PARTIAL_HZ = 10000.0  # harmonics above this are not synthesised
# formant frequencies (Hz) of each vowel, a male-ish voice; bandwidths are shared
FORMANTS = {
    "a": (750.0, 1150.0, 2600.0, 3400.0),
    "e": (450.0, 1900.0, 2600.0, 3400.0),
    "i": (300.0, 2250.0, 3000.0, 3600.0),
    "o": (480.0, 850.0, 2700.0, 3400.0),
    "u": (330.0, 750.0, 2450.0, 3300.0),
}
BANDWIDTHS = np.array([110.0, 130.0, 200.0, 250.0])  # Hz
FORMANT_LEVELS = (1.0, 0.6, 0.35, 0.25)  # peak level of each formant in the parallel formant filter
FORMANT_FLOOR = 0.06  # level between the formants
VOWEL_TABLE = np.array([FORMANTS[v] for v in ("a", "e", "i", "o", "u")])
# consonant noise bands (Hz) and lengths (s)
CONSONANT_BANDS = {"s": (4000.0, 10000.0, 0.10), "sh": (2000.0, 7000.0, 0.11), "t": (2000.0, 9000.0, 0.03),
                   "k": (900.0, 4000.0, 0.035), "f": (1500.0, 10000.0, 0.08), "h": (400.0, 3000.0, 0.07)}
CONSONANT_LEVEL = (0.08, 0.25)  # RMS of a consonant burst relative to the vowels' peak, drawn per burst
# breathy "air" above 4 kHz that follows the voice's loudness: with the sibilants it puts the voice's
# energy above 5 kHz at about -17 dB of its total, as in bright, pop-produced vocals; without it
# the voice had almost nothing there and a high-band score could not tell a separator from silence
AIR_BAND = (4000.0, 10000.0)
AIR_LEVEL = (0.05, 0.10)  # its RMS relative to the vowels' peak, drawn per song


def _bandpass(noise: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    sos = scipy.signal.butter(2, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    return scipy.signal.sosfilt(sos, noise)


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average over ``width`` control points (edges held)."""
    if width <= 1:
        return x
    kernel = np.ones(width) / width
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


FILTER_FFT = 1024  # STFT size of the formant filter (46 ms at 22.05 kHz)
FILTER_HOP = 256  # its hop: 75 % overlap, so Hann² windows sum to a constant


def _stft(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed frames of ``x`` padded by one window each side: ((bins, frames) complex, frame centres in
    samples)."""
    padded = np.pad(x, (FILTER_FFT, FILTER_FFT + FILTER_HOP - x.size % FILTER_HOP))
    frames = np.lib.stride_tricks.sliding_window_view(padded, FILTER_FFT)[::FILTER_HOP]
    window = np.hanning(FILTER_FFT + 1)[:-1]
    centres = np.arange(frames.shape[0]) * FILTER_HOP - FILTER_FFT + FILTER_FFT // 2
    return np.fft.rfft(frames * window, axis=1).T, centres


def _istft(spec: np.ndarray, n: int) -> np.ndarray:
    """Weighted overlap-add inverse of :func:`_stft`, trimmed to ``n`` samples."""
    window = np.hanning(FILTER_FFT + 1)[:-1]
    frames = np.fft.irfft(spec.T, FILTER_FFT, axis=1) * window
    count = frames.shape[0]
    out = np.zeros((count + FILTER_FFT // FILTER_HOP) * FILTER_HOP)
    for j in range(FILTER_FFT // FILTER_HOP):
        chunk = frames[:, j * FILTER_HOP : (j + 1) * FILTER_HOP].reshape(-1)
        out[j * FILTER_HOP : j * FILTER_HOP + chunk.size] += chunk
    out /= np.sum(window**2) / FILTER_HOP
    return out[FILTER_FFT : FILTER_FFT + n]


def _room(rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """A small room impulse response: exponentially decaying noise, unit energy."""
    t = np.arange(int(seconds * sr)) / sr
    ir = rng.standard_normal(t.size) * np.exp(-t / (seconds / 6.9))
    ir = scipy.signal.sosfilt(scipy.signal.butter(1, 5000.0, fs=sr, output="sos"), ir)
    return ir / np.sqrt(np.sum(ir**2))


def render_vocal(score: Score, rng: np.random.Generator, *, sr: int = SYNTH_RATE,
                 length: int | None = None) -> np.ndarray:
    """Sing ``score.melody``.

    Returns:
        (length,) float64 mono vocal, peak-normalised to 1 (all zeros without notes).
    """
    beat = score.beat_s
    n = length if length is not None else int(np.ceil(score.music_s * sr)) + sr
    m = score.melody
    frames = n // CONTROL_HOP + 2
    t_ctrl = np.arange(frames) * CONTROL_HOP / sr
    on = score.lead_in_s + m.start * beat  # (k,) onsets, s
    off = on + m.length * beat
    idx = np.searchsorted(on, t_ctrl, side="right") - 1  # syllable of each control point
    valid = idx >= 0
    idx_c = np.clip(idx, 0, None)
    inside = valid & (t_ctrl < off[idx_c])
    since = t_ctrl - on[idx_c]

    # pitch: note steps, glides into legato notes, scoops into attacked ones, vibrato, jitter
    midi = m.midi[idx_c].copy()
    prev = np.concatenate([[m.midi[0]], m.midi[:-1]])
    glide_s = np.where(m.legato, rng.uniform(0.04, 0.12, len(on)), 0.07)[idx_c]
    scoop_from = np.where(m.legato, prev, m.midi - rng.choice([0.0, 0.7, 1.5], len(on)))[idx_c]
    w = np.clip(since / glide_s, 0.0, 1.0)
    w = w * w * (3 - 2 * w)
    midi = scoop_from + (midi - scoop_from) * w
    vib_rate = rng.uniform(4.8, 6.5)
    vib_depth = rng.uniform(0.25, 0.7)
    vib_env = np.clip((since - rng.uniform(0.12, 0.25)) / 0.25, 0.0, 1.0) * vib_depth
    wander = _smooth(rng.standard_normal(frames), 64) * 2.0
    vib_phase = 2 * np.pi * np.cumsum(vib_rate * (1 + 0.05 * wander)) * CONTROL_HOP / sr
    jitter = _smooth(rng.standard_normal(frames), 8) * 0.08
    midi = midi + vib_env * np.sin(vib_phase) + jitter
    f0_ctrl = 440.0 * 2.0 ** ((midi - 69.0) / 12.0)

    # loudness: attack, slight decay, release before the next syllable; zero in rests
    attack = np.clip(since / 0.035, 0.0, 1.0)
    release = np.clip((off[idx_c] - t_ctrl) / 0.06, 0.0, 1.0)
    accent = rng.uniform(0.75, 1.0, len(on))[idx_c]
    amp_ctrl = np.where(inside, accent * attack * release * np.exp(-since * 0.25), 0.0)
    amp_ctrl = np.where(m.legato[idx_c] & inside, np.maximum(amp_ctrl, accent * release * 0.8), amp_ctrl)
    amp_ctrl = _smooth(amp_ctrl, 3)

    # source: a band-limited sawtooth (polyBLEP) following f0, gated by the loudness envelope
    pos = np.arange(n) / CONTROL_HOP
    i0 = pos.astype(np.int64)
    frac = pos - i0
    f0 = f0_ctrl[i0] * (1 - frac) + f0_ctrl[i0 + 1] * frac
    env = amp_ctrl[i0] * (1 - frac) + amp_ctrl[i0 + 1] * frac
    dt = f0 / sr
    p = np.cumsum(dt) + rng.random()
    p -= np.floor(p)
    saw = 2.0 * p - 1.0
    lo = p < dt
    t = p[lo] / dt[lo]
    saw[lo] -= 2 * t - t * t - 1
    hi = p > 1.0 - dt
    t = (p[hi] - 1.0) / dt[hi]
    saw[hi] -= t * t + 2 * t + 1
    noise = rng.standard_normal(n)
    aspiration = _bandpass(noise, 600.0, 6000.0, sr)
    src = env * (saw + rng.uniform(0.05, 0.2) * aspiration / max(np.std(aspiration), 1e-9))

    # vowels: a parallel formant filter per STFT frame (formants coarticulated by smoothing);
    # the glottal roll-off is brighter when louder
    scale = 1.0 + 0.12 * (score.key > 52)  # a higher voice has higher formants
    form = VOWEL_TABLE[m.vowel[idx_c]] * scale  # (frames, 4)
    form = np.stack([_smooth(form[:, k], 12) for k in range(4)], axis=1)
    spec, times = _stft(src)
    freqs = np.fft.rfftfreq(FILTER_FFT, 1.0 / sr)
    ctrl = np.clip(np.round(times / CONTROL_HOP).astype(np.int64), 0, frames - 1)
    fh = freqs[:, None]  # (bins, 1)
    corner = 500.0 + 1000.0 * amp_ctrl[ctrl][None, :]
    gain = 1.0 / (1.0 + (fh / corner) ** 2) ** 0.5
    resonances = FORMANT_FLOOR + sum(
        FORMANT_LEVELS[k] / np.sqrt(1.0 + ((fh - form[ctrl, k][None, :]) / (0.5 * BANDWIDTHS[k])) ** 2)
        for k in range(4))
    gain = gain * resonances
    gain = gain * (fh < MAX_PARTIAL_HZ)
    y = _istft(spec * gain, n)
    y /= max(np.abs(y).max(), 1e-9)
    air = _bandpass(rng.standard_normal(n), *AIR_BAND, sr)
    y += env * rng.uniform(*AIR_LEVEL) * air / max(np.std(air), 1e-9)

    # noise parts: consonants before their syllables, breaths before phrases
    # each burst filters its own stretch of noise (filtering the whole song per band is 10x slower)
    warm = int(0.005 * sr)  # filter settling time, discarded
    for onset, cons in zip(on, m.consonant):
        name = CONSONANTS[cons]
        if not name:
            continue
        lo, hi, dur = CONSONANT_BANDS[name]
        a, b = int((onset - dur) * sr), int(onset * sr + 0.01 * sr)
        if a < warm or b > n:
            continue
        burst = _bandpass(rng.standard_normal(b - a + warm), lo, hi, sr)[warm:]
        y[a:b] += burst / max(np.std(burst), 1e-9) * np.hanning(b - a) ** 0.7 * rng.uniform(*CONSONANT_LEVEL)
    for p in score.lead_in_s + m.phrase_start * beat:
        dur = rng.uniform(0.2, 0.4)
        a, b = int((p - dur - 0.05) * sr), int((p - 0.05) * sr)
        if a > warm:
            breath = _bandpass(rng.standard_normal(b - a + warm), 500.0, 3500.0, sr)[warm:]
            y[a:b] += breath / max(np.std(breath), 1e-9) * np.hanning(b - a) * rng.uniform(0.03, 0.07)
    ir = _room(rng, sr, rng.uniform(0.3, 0.8))
    y = y + rng.uniform(0.1, 0.3) * scipy.signal.oaconvolve(y, ir)[:n]
    return y / max(np.abs(y).max(), 1e-9)


def _partials(f: float, sr: int, n: int, amps: np.ndarray, decays: np.ndarray, rng: np.random.Generator,
              inharmonicity: float = 0.0, detune: float = 0.0) -> np.ndarray:
    """A sum of exponentially decaying partials of fundamental ``f``: (n,) float64.

    Each partial is computed only until it has decayed by 60 dB.
    """
    t = np.arange(n) / sr
    y = np.zeros(n)
    for k, (a, d) in enumerate(zip(amps, decays)):
        fk = f * (k + 1) * np.sqrt(1.0 + inharmonicity * (k + 1) ** 2)
        if fk >= min(MAX_PARTIAL_HZ, 0.45 * sr):
            break
        m = min(n, int(6.9 / d * sr) + 1) if d > 0 else n
        tk = t[:m]
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * fk * tk + phase)
        if detune:
            wave += np.sin(2 * np.pi * fk * (1 + detune) * tk + 1.7 * phase)
        y[:m] += a * np.exp(-tk * d) * wave
    return y


TEMPLATE_SECONDS = {"piano": 2.5, "pluck": 1.2, "pad": 4.0, "bass": 1.5}  # note template lengths
INSTRUMENT_KINDS = tuple(TEMPLATE_SECONDS)


@functools.lru_cache(maxsize=512)
def note_template(kind: str, midi: int, sr: int = SYNTH_RATE) -> np.ndarray:
    """One note of an instrument, peak 1, ending in silence: (n,) float64.

    A pure function of its arguments (its partial phases come from a generator
    seeded by them), so it is cached across songs without changing any output.
    """
    rng = np.random.default_rng([INSTRUMENT_KINDS.index(kind), midi, sr])
    n = int(TEMPLATE_SECONDS[kind] * sr)
    f = 440.0 * 2 ** ((midi - 69) / 12)
    k = np.arange(1, 17)
    if kind == "piano":
        y = _partials(f, sr, n, k**-1.2, (1.2 + f / 400) * (1 + 0.35 * (k - 1)), rng, 3e-4)
        attack = 0.004
    elif kind == "pluck":
        y = _partials(f, sr, n, k**-1.2 * (1 + (k % 2)), 3.0 * (1 + 0.6 * (k - 1)), rng, 1e-4)
        attack = 0.002
    elif kind == "pad":
        # two slightly detuned sawtooth-like voices, read from one wavetable
        table_size = 2048
        phase = np.arange(table_size) / table_size
        table = sum(h**-1.5 * np.sin(2 * np.pi * h * phase + rng.uniform(0, 2 * np.pi)) for h in range(1, 13) if h
                    * f < MAX_PARTIAL_HZ)
        t = np.arange(n) / sr
        y = sum(np.interp((f * d * t + rng.random()) % 1.0, phase, table, period=1.0) for d in (1.0, 1.004))
        attack = 0.25
    else:  # bass
        y = _partials(f, sr, n, k[:10] ** -1.6, 2.0 * (1 + 0.5 * (k[:10] - 1)), rng)
        attack = 0.006
    t = np.arange(n) / sr
    fade = np.clip((n / sr - t) / 0.05, 0, 1)  # templates end smoothly
    y = y * np.clip(t / attack, 0, 1) * fade
    return y / max(np.abs(y).max(), 1e-9)


def _brighten(y: np.ndarray, brightness: float, sr: int) -> np.ndarray:
    """Blend ``y`` with its low-passed self: brightness 1 keeps it, 0 keeps only the low-passed part."""
    low = scipy.signal.sosfilt(scipy.signal.butter(1, 1200.0, fs=sr, output="sos"), y)
    return brightness * y + (1.0 - brightness) * 1.5 * low


def _place(out: np.ndarray, template: np.ndarray, start_s: float, length_s: float, gain: float, sr: int,
           release_s: float) -> None:
    """Add ``template`` at ``start_s``, released (faded out linearly) after ``length_s``."""
    a = int(round(start_s * sr))
    if a >= out.size or a < 0:
        return
    hold = min(template.size, out.size - a, int(length_s * sr))
    span = min(template.size, out.size - a, int((length_s + release_s) * sr))
    out[a : a + hold] += gain * template[:hold]
    if span > hold:
        ramp = 1.0 - (np.arange(1, span - hold + 1) / (release_s * sr))
        out[a + hold : a + span] += gain * template[hold:span] * np.clip(ramp, 0.0, 1.0)


def _drum_kit(rng: np.random.Generator, sr: int) -> dict[str, np.ndarray]:
    t = np.arange(int(0.5 * sr)) / sr
    kick_f = 48 + 110 * np.exp(-t / 0.03)
    kick = np.sin(2 * np.pi * np.cumsum(kick_f) / sr) * np.exp(-t / rng.uniform(0.12, 0.25))
    kick[: int(0.003 * sr)] += rng.standard_normal(int(0.003 * sr)) * 0.3
    noise = rng.standard_normal(t.size)
    tone = rng.uniform(170, 220)
    snare = (0.5 * np.sin(2 * np.pi * tone * t) + 0.3 * np.sin(2 * np.pi * 1.6 * tone * t)) * np.exp(-t / 0.06)
    snare += _bandpass(noise, 1200.0, 8000.0, sr) * 2.5 * np.exp(-t / rng.uniform(0.08, 0.15))
    hat = scipy.signal.sosfilt(scipy.signal.butter(4, min(6000.0, 0.4 * sr), "highpass", fs=sr, output="sos"),
                               noise[::-1])
    kit = {"kick": kick, "snare": snare, "hat": hat * np.exp(-t / 0.035), "open_hat": hat * np.exp(-t / 0.18)}
    return {name: y / np.abs(y).max() for name, y in kit.items()}


def render_accompaniment(score: Score, rng: np.random.Generator, *, sr: int = SYNTH_RATE,
                         length: int | None = None) -> np.ndarray:
    """Play the chords, bass and drums of ``score``; a short final chord on the downbeat after the last bar.

    Everything has died away (but the reverb) about 1.5 s after ``score.music_s``.

    Returns:
        (length, 2) float64 stereo; the mean of the channels is the mono accompaniment, peak about 1.
    """
    beat = score.beat_s
    n = length if length is not None else int(np.ceil(score.music_s * sr)) + 3 * sr
    parts: dict[str, np.ndarray] = {}
    bars = range(score.n_bars + 1)  # one more bar: the final chord on the last downbeat
    for kind in score.instruments:
        y = np.zeros(n)
        for bar in bars:
            t0 = score.lead_in_s + bar * BEATS_PER_BAR * beat
            degrees = score.chord(bar)[: 3 + int(rng.random() < 0.4)]
            notes = [score.scale_midi(d, 0) for d in degrees]
            notes = [m + 12 * int(np.ceil((50 - m) / 12)) if m < 50 else m for m in notes]  # voiced in 50..~70
            final = bar == score.n_bars
            if kind == "pad":
                for m in notes:
                    _place(y, note_template(kind, m, sr), t0, BEATS_PER_BAR * beat * (0.5 if final else 1.0), 0.5, sr,
                           0.4)
            elif kind == "piano":
                hits = (0.0,) if final else score.piano_rhythm
                for j, h in enumerate(hits):
                    nxt = hits[j + 1] if j + 1 < len(hits) else BEATS_PER_BAR
                    vel = rng.uniform(0.6, 1.0)
                    for m in notes:
                        _place(y, note_template(kind, m, sr), t0 + h * beat + rng.normal(0, 0.004),
                               (nxt - h) * beat * (0.25 if final else 1), vel, sr, 0.3 if final else 0.12)
            else:  # pluck: eighth-note arpeggio an octave up, right in the vocal's range
                steps = 1 if final else 2 * BEATS_PER_BAR
                for s in range(steps):
                    m = notes[s % len(notes)] + 12 * (s % 4 == 3)
                    _place(y, note_template(kind, m, sr), t0 + s * beat / 2, beat / 2 * (2 if final else 1),
                           rng.uniform(0.5, 0.9), sr, 0.1)
        parts[kind] = _brighten(y, score.brightness, sr)
    bass = np.zeros(n)
    for bar in bars:
        t0 = score.lead_in_s + bar * BEATS_PER_BAR * beat
        root = score.scale_midi(score.chord(bar)[0], 0)
        root = root - 12 * int(np.ceil((root - 45) / 12)) if root > 45 else root
        hits = (0.0,) if bar == score.n_bars else score.bass_rhythm
        for j, h in enumerate(hits):
            nxt = hits[j + 1] if j + 1 < len(hits) else BEATS_PER_BAR
            m = root + (7 if (j % 3 == 2) else 0)
            _place(bass, note_template("bass", m, sr), t0 + h * beat, (nxt - h) * beat * 0.9, rng.uniform(0.7, 1.0), sr,
                   0.05)
    parts["bass"] = bass
    kit = _drum_kit(rng, sr)
    drums = {name: np.zeros(n) for name in ("kick", "snare", "hat")}
    for bar in range(score.n_bars):
        t0 = score.lead_in_s + bar * BEATS_PER_BAR * beat
        for h in score.kick:
            _place(drums["kick"], kit["kick"], t0 + h * beat, 0.5, rng.uniform(0.8, 1.0), sr, 0.01)
        for h in score.snare:
            _place(drums["snare"], kit["snare"], t0 + h * beat + rng.normal(0, 0.003), 0.5, rng.uniform(0.7, 1.0), sr,
                   0.01)
        fill = bar % 4 == 3 and rng.random() < 0.5
        for s in np.arange(0.0, BEATS_PER_BAR, score.hat_step):
            if fill and s >= 3.0:
                _place(drums["snare"], kit["snare"], t0 + s * beat, 0.3, rng.uniform(0.4, 0.8), sr, 0.01)
                continue
            which = "open_hat" if (s % 2 == 1.5 and rng.random() < 0.3) else "hat"
            _place(drums["hat"], kit[which], t0 + s * beat + rng.normal(0, 0.003), 0.5,
                   rng.uniform(0.4, 0.9) * (1.2 if s % 1 == 0 else 1), sr, 0.01)
    if score.n_bars > 0:  # crash-like open hat on the final downbeat
        _place(drums["hat"], kit["open_hat"], score.lead_in_s + score.n_bars * BEATS_PER_BAR * beat, 0.5, 1.0, sr, 0.01)
    parts.update(drums)

    # mix: RMS-normalised parts at per-song levels (dB), amplitude-panned so mean(L, R) = sum of parts
    levels = {"piano": -4.0, "pad": -8.0, "pluck": -9.0, "bass": -5.0, "kick": -6.0, "snare": -9.0, "hat": -17.0}
    pans = {"piano": 0.25, "pad": 0.0, "pluck": -0.35, "bass": 0.0, "kick": 0.0, "snare": 0.05, "hat": 0.4}
    out = np.zeros((n, 2))
    for name, y in parts.items():
        rms = np.sqrt(np.mean(y**2)) + 1e-12
        x = y / rms * 10 ** ((levels[name] + rng.uniform(-2.0, 2.0)) / 20)
        p = pans[name] * rng.choice([-1.0, 1.0])
        out[:, 0] += x * (1 + p)
        out[:, 1] += x * (1 - p)
        if name == "pad":  # width: a delayed side signal, which cancels in the mono downmix
            d = int(0.013 * sr)
            side = np.concatenate([np.zeros(d), x[:-d]]) * 0.4
            out[:, 0] += side
            out[:, 1] -= side
    ir = _room(rng, sr, rng.uniform(0.4, 1.0))
    out += rng.uniform(0.05, 0.15) * scipy.signal.oaconvolve(out.mean(axis=1), ir)[:n, None]  # reverb of the mid
    return out / max(np.abs(out).max(), 1e-9)
