"""Scoring one evaluation clip: reference systems, model estimates, BSS Eval, NSDR, high-band SNR.

Two rates. "model": every file downmixed to mono at 8192 Hz, the paper's
set-up. "native": the files' own rate and channels; each model set is scored
twice, full-band (NAME) and as its output at its own rate resampled back (NAME@model),
beside an oracle ratio mask at the native STFT. Channels are scored as one
signal (concatenated), and ``snr_high`` is a plain SNR above 5 kHz after a
steep high-pass of reference and estimate (no distortion filter).

Everything here is pure (arrays in, rows out) except the loaders and the
per-process model cache, so that one Dask task scores one clip for every system.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import torch

from vocalmine.core.audio import load_audio, read_audio, resample_channels
from vocalmine.core.constants import N_BINS, SAMPLE_RATE
from vocalmine.core.contract.scores import SOURCES, SYSTEM_MIXTURE, SYSTEM_ORACLE
from vocalmine.core.errors import AudioError, ConfigError
from vocalmine.core.spec import PAPER
from vocalmine.core.stft import istft, stft
from vocalmine.evaluation.bss import BssEvalV3, mir_eval_sources
from vocalmine.model.checkpoint import checkpoint_spec
from vocalmine.model.fullband import native_stft_params
from vocalmine.model.loading import LoadedModels, build_model, checked_checkpoint
from vocalmine.model.mask_options import MaskOptions
from vocalmine.model.separator import Separator

log = logging.getLogger(__name__)

LENGTH_TOLERANCE = 64  # samples (at 8192 Hz) a stem may differ from the mixture (resampler rounding) before exclusion
HIGH_BAND_HZ = 5000.0  # snr_high: the band above this frequency
HIGH_PASS_ORDER = 10  # Butterworth order of the high-pass, applied forward and backward (~120 dB/octave)
RATES = ("model", "native")
# native rate: NAME@model is model set NAME's output at its own rate and channels (8192 Hz mono for the paper's
# spec) resampled to the file's rate
SUFFIX_MODEL_RATE = "@model"


@dataclass(frozen=True)
class ClipJob:
    """One clip to score: absolute paths and what to score it with (picklable for Dask)."""

    song: str  # eval.csv song id
    mixture: Path  # mixture audio
    vocals: Path  # reference vocals
    accompaniment: Path  # reference accompaniment (the "instrumental" source)
    systems: tuple[str, ...]  # reference systems and model set names, in column order
    model_sets: tuple[tuple[str, str, str], ...]  # (name, vocals best.pt, instrumental best.pt or "")
    backend: str = "fast"  # "fast" (BssEvalV3) or "mir_eval"
    silence_db: float = -60.0  # a reference quieter than this vs the mixture (energy, dB) is silent
    device: str = "cpu"  # torch device for the models
    batch_size: int = 8  # windows per forward pass
    rate: str = "model"  # "model": mono at 8192 Hz; "native": the files' own rate and channels
    masks: MaskOptions = MaskOptions()  # how the models' masks are applied


def load_clip(job: ClipJob) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixture, vocals, accompaniment) float64 at 8192 Hz, cut to a common length.

    Raises:
        AudioError: undecodable audio, or stems whose length differs from the
            mixture by more than LENGTH_TOLERANCE samples.
    """
    signals = [load_audio(p, SAMPLE_RATE) for p in (job.mixture, job.vocals, job.accompaniment)]
    lengths = [s.shape[0] for s in signals]
    if max(lengths) - min(lengths) > LENGTH_TOLERANCE:
        raise AudioError(f"{job.song}: mixture/vocals/accompaniment lengths differ: {lengths} samples")
    n = min(lengths)
    return tuple(s[:n].astype(np.float64) for s in signals)  # type: ignore[return-value]


def load_clip_native(job: ClipJob) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(mixture, vocals, accompaniment) float64 (channels, n) at the files' own rate, and the rate.

    Mono stems of a multichannel mixture are repeated on every channel.

    Raises:
        AudioError: undecodable audio, differing rates or channel counts, or lengths
            differing by more than LENGTH_TOLERANCE samples at 8192 Hz.
    """
    decoded = [read_audio(p) for p in (job.mixture, job.vocals, job.accompaniment)]
    rates = {r for _, r in decoded}
    if len(rates) > 1:
        raise AudioError(f"{job.song}: mixture/vocals/accompaniment rates differ: {[r for _, r in decoded]} Hz")
    rate = rates.pop()
    channels = decoded[0][0].shape[0]
    signals = []
    for (y, _), path in zip(decoded, (job.mixture, job.vocals, job.accompaniment)):
        if y.shape[0] == 1 and channels > 1:
            y = np.repeat(y, channels, axis=0)
        if y.shape[0] != channels:
            raise AudioError(f"{path}: {y.shape[0]} channels, the mixture has {channels}")
        signals.append(y)
    lengths = [s.shape[1] for s in signals]
    if max(lengths) - min(lengths) > LENGTH_TOLERANCE * rate / SAMPLE_RATE:
        raise AudioError(f"{job.song}: mixture/vocals/accompaniment lengths differ: {lengths} samples")
    n = min(lengths)
    return (*(s[:, :n].astype(np.float64) for s in signals), rate)  # type: ignore[return-value]


def high_band_snr(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, *,
                  cutoff: float = HIGH_BAND_HZ) -> float:
    """Plain SNR (dB) of ``estimate`` vs ``reference`` above ``cutoff`` Hz, after a steep zero-phase high-pass of both.

    Not scale-invariant and without a distortion filter: an estimate with nothing
    above the cutoff scores exactly 0 dB. NaN when the rate has no band above the
    cutoff or the reference has no energy there.
    """
    import scipy.signal

    if sample_rate / 2 <= cutoff * 1.05:
        return float("nan")
    sos = scipy.signal.butter(HIGH_PASS_ORDER, cutoff, btype="highpass", fs=sample_rate, output="sos")
    ref = scipy.signal.sosfiltfilt(sos, np.asarray(reference, dtype=np.float64), axis=-1)
    est = scipy.signal.sosfiltfilt(sos, np.asarray(estimate, dtype=np.float64), axis=-1)
    energy, error = float(np.sum(ref**2)), float(np.sum((ref - est) ** 2))
    if energy == 0.0:
        return float("nan")
    return float("inf") if error == 0.0 else float(10 * np.log10(energy / error))


def silence_reason(mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray, *,
                   silence_db: float) -> str | None:
    """"silent_vocals" / "silent_accompaniment" when a reference is (nearly) silent, else None.

    BSS Eval is undefined for an all-zero reference (mir_eval raises), and the
    paper limits evaluation to clips with vocals.
    """
    e_mix = max(float(np.sum(mixture**2)), float(np.sum((vocals + accompaniment) ** 2)), 1e-30)
    for name, ref in (("vocals", vocals), ("accompaniment", accompaniment)):
        energy = float(np.sum(ref**2))
        if energy == 0.0 or 10 * np.log10(energy / e_mix) < silence_db:
            return f"silent_{name}"
    return None


def oracle_irm(mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray,
               synthesis: str = "overlap") -> np.ndarray:
    """Ideal ratio mask estimates (2, n) at 8192 Hz: |S| / (|V| + |A|) on the mixture STFT, mixture phase.

    The upper bound for any magnitude mask applied through the same STFT as the
    models' masks: windows of two hops ("overlap", see
    ``vocalmine.model.fullband.native_stft_params``), or the model's own STFT
    ("paper"; bins without the Nyquist bin, like the models).
    """
    if synthesis != "paper":
        return oracle_irm_native(mixture[None], vocals[None], accompaniment[None], SAMPLE_RATE, synthesis)[:, 0]
    n = mixture.shape[0]
    x = stft(mixture)[:N_BINS]
    mv, ma = np.abs(stft(vocals)[:N_BINS]), np.abs(stft(accompaniment)[:N_BINS])
    total = mv + ma
    safe = np.where(total > 0, total, 1.0)
    mask_v = np.where(total > 0, mv / safe, 0.5)
    return np.stack([istft(mask_v * x, n), istft((1.0 - mask_v) * x, n)]).astype(np.float64)


def oracle_irm_native(mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray, sample_rate: int,
                      synthesis: str = "overlap") -> np.ndarray:
    """Ideal ratio mask estimates (2, channels, n) per channel at the native STFT (the full-band
    output's, for ``synthesis``), all bins: the ceiling of a full-band magnitude mask."""
    n_fft, hop = native_stft_params(sample_rate, synthesis)
    n = mixture.shape[-1]
    x = stft(mixture, n_fft=n_fft, hop=hop)
    mv, ma = np.abs(stft(vocals, n_fft=n_fft, hop=hop)), np.abs(stft(accompaniment, n_fft=n_fft, hop=hop))
    total = mv + ma
    mask_v = np.where(total > 0, mv / np.where(total > 0, total, 1.0), 0.5)
    return np.stack([istft(mask_v * x, n, n_fft=n_fft, hop=hop),
                     istft((1.0 - mask_v) * x, n, n_fft=n_fft, hop=hop)]).astype(np.float64)


@functools.lru_cache(maxsize=4)
def _cached_separator(vocals_path: str, instrumental_path: str, mtimes: tuple[float, float], device: str,
                      batch_size: int, mask):
    """A Separator built once per worker process (keyed by files, mtimes and options; ``mask``: MaskOptions).

    An empty ``instrumental_path`` leaves the vocal model alone: the instrumental is its mask's complement.
    """
    torch.set_num_threads(1)  # one Dask worker per core
    loaded, specs = {}, set()
    for target, path in (("vocals", vocals_path), ("instrumental", instrumental_path)):
        if not path:
            continue
        payload = checked_checkpoint(Path(path), target)
        loaded[target] = build_model(payload["model_kwargs"], payload["state_dict"])
        specs.add(checkpoint_spec(payload, source=path))
    if len(specs) > 1:
        raise ConfigError(f"{vocals_path} and {instrumental_path}: trained at different signal specs")
    return Separator(LoadedModels(loaded, Path(vocals_path).parent.parent, spec=specs.pop()), device=device,
                     batch_size=batch_size, mask=mask)


def job_separator(job: ClipJob, vocals_path: str, instrumental_path: str):
    """The cached :class:`~vocalmine.model.separator.Separator` of a model set for ``job``'s options."""
    mtimes = tuple(Path(p).stat().st_mtime if p else 0.0 for p in (vocals_path, instrumental_path))
    return _cached_separator(vocals_path, instrumental_path, mtimes, job.device, job.batch_size, job.masks)


def model_estimates(mixture: np.ndarray, vocals_path: str, instrumental_path: str, *, device: str, batch_size: int,
                    job: ClipJob | None = None) -> np.ndarray:
    """(2, n) vocals and instrumental estimated by a model set on ``mixture`` (mono, 8192 Hz).

    A model of another signal spec takes the mixture at its own rate and its masks are applied at 8192 Hz.
    """
    job = job or ClipJob("", Path(), Path(), Path(), (), (), device=device, batch_size=batch_size)
    separator = job_separator(job, vocals_path, instrumental_path)
    output = "model" if separator.spec == PAPER else "native"
    stems = separator.separate(mixture.astype(np.float32), SAMPLE_RATE, output=output)
    return np.stack([stems["vocals"], stems["instrumental"]]).astype(np.float64)


def model_estimates_native(mixture: np.ndarray, sample_rate: int, vocals_path: str, instrumental_path: str,
                           job: ClipJob) -> tuple[np.ndarray, np.ndarray]:
    """(full-band, model-rate output resampled) estimates, each (2, channels, n), of a model set on ``mixture``
    (channels, n)."""
    separator = job_separator(job, vocals_path, instrumental_path)
    x = mixture.astype(np.float32)
    full = separator.separate(x, sample_rate, output="native")
    low = separator.separate(x, sample_rate, output="model")
    n = x.shape[-1]
    back = []
    for target in ("vocals", "instrumental"):
        y = resample_channels(low[target], separator.spec.sample_rate, sample_rate)[..., :n]
        y = np.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n - y.shape[-1])]).reshape(-1, n)
        if y.shape[0] != x.shape[0]:  # a mono model's output (or a stereo one on other channels): on every channel
            y = np.repeat(y.mean(axis=0, keepdims=True), x.shape[0], axis=0)
        back.append(y)
    return np.stack([full["vocals"], full["instrumental"]]).astype(np.float64), np.stack(back).astype(np.float64)


def score_estimates(
    references: np.ndarray, systems: dict[str, np.ndarray], *, backend: str = "fast"
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """BSS Eval (sdr, sir, sar), each (2,), for every system's estimates (2, n)."""
    if backend == "fast":
        scorer = BssEvalV3(references)
        score = scorer.score
    else:
        score = functools.partial(mir_eval_sources, references)
    out = {}
    for name, est in systems.items():
        if np.any(np.all(est == 0, axis=1)):
            # BSS Eval is undefined for an all-zero estimate (mir_eval raises): score it as -inf
            log.warning("system %s gave an all-zero estimate; scored as -inf dB", name)
            out[name] = tuple(np.full(len(SOURCES), -np.inf) for _ in range(3))  # type: ignore[assignment]
            continue
        out[name] = score(est)
    return out


def _estimates(job: ClipJob, mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray,
               rate: int) -> dict[str, np.ndarray]:
    """Every system's estimates (2, ...) shaped like the references (2, ...)."""
    estimates: dict[str, np.ndarray] = {SYSTEM_MIXTURE: np.stack([mixture, mixture])}
    paths = {name: (v, i) for name, v, i in job.model_sets}
    for name in job.systems:
        base = name[: -len(SUFFIX_MODEL_RATE)] if name.endswith(SUFFIX_MODEL_RATE) else name
        if name in estimates:
            continue
        if name == SYSTEM_ORACLE:
            estimates[name] = (oracle_irm_native(mixture, vocals, accompaniment, rate, job.masks.synthesis)
                               if job.rate == "native"
                               else oracle_irm(mixture, vocals, accompaniment, job.masks.synthesis))
        elif base in paths and job.rate == "native":
            full, low = model_estimates_native(mixture, rate, *paths[base], job)
            estimates[base], estimates[base + SUFFIX_MODEL_RATE] = full, low
        elif base in paths:
            estimates[name] = model_estimates(mixture, *paths[base], device=job.device, batch_size=job.batch_size,
                                              job=job)
    return estimates


def score_clip(job: ClipJob) -> dict:
    """Score one clip for every system of ``job``.

    Returns:
        {"song", "rows": list of score dicts (SCORES_SCHEMA), "excluded": None or
        {"song", "reason", "detail"}}. Never raises for a bad clip: it is excluded.
    """
    try:
        if job.rate == "native":
            mixture, vocals, accompaniment, rate = load_clip_native(job)
        else:
            (mixture, vocals, accompaniment), rate = load_clip(job), SAMPLE_RATE
    except AudioError as exc:
        reason = "length_mismatch" if "lengths differ" in str(exc) else "undecodable"
        return {"song": job.song, "rows": [], "excluded": {"song": job.song, "reason": reason, "detail": str(exc)}}
    reason = silence_reason(mixture, vocals, accompaniment, silence_db=job.silence_db)
    if reason is not None:
        detail = f"{job.song}: reference {reason.split('_', 1)[1]} below {job.silence_db} dB of the mixture energy"
        return {"song": job.song, "rows": [], "excluded": {"song": job.song, "reason": reason, "detail": detail}}
    references = np.stack([vocals, accompaniment])
    estimates = _estimates(job, mixture, vocals, accompaniment, rate)
    # channels are scored as one signal: (2, channels, n) -> (2, channels * n)
    flat = lambda a: a.reshape(a.shape[0], -1)  # noqa: E731
    scores = score_estimates(flat(references), {k: flat(v) for k, v in estimates.items()}, backend=job.backend)
    sdr_mix = scores[SYSTEM_MIXTURE][0]
    duration = mixture.shape[-1] / rate
    rows = []
    for name in job.systems:
        sdr, sir, sar = scores[name]
        for k, source in enumerate(SOURCES):
            rows.append(
                {
                    "song": job.song,
                    "system": name,
                    "source": source,
                    "duration_s": duration,
                    "sdr": float(sdr[k]),
                    "sir": float(sir[k]),
                    "sar": float(sar[k]),
                    "sdr_mixture": float(sdr_mix[k]),
                    "nsdr": float(sdr[k] - sdr_mix[k]),
                    "snr_high": high_band_snr(references[k], estimates[name][k], rate),
                    "sample_rate": int(rate),
                    "channels": int(mixture.shape[0]) if mixture.ndim == 2 else 1,
                }
            )
    return {"song": job.song, "rows": rows, "excluded": None}
