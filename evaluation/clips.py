"""Scoring one evaluation clip: reference systems, model estimates, BSS Eval, NSDR.

Everything here is pure (arrays in, rows out) except :func:`load_clip` and the
per-process model cache, so that one Dask task scores one clip for every system.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalmine.core.audio import load_audio
from vocalmine.core.constants import N_BINS, SAMPLE_RATE
from vocalmine.core.errors import AudioError
from vocalmine.evaluation.bss import BssEvalV3, mir_eval_sources
from vocalmine.evaluation.schema import SOURCES, SYSTEM_MIXTURE, SYSTEM_ORACLE

log = logging.getLogger(__name__)

LENGTH_TOLERANCE = 64  # samples a stem may differ from the mixture (resampler rounding) before exclusion


@dataclass(frozen=True)
class ClipJob:
    """One clip to score: absolute paths and what to score it with (picklable for Dask)."""

    song: str  # eval.csv song id
    mixture: Path  # mixture audio
    vocals: Path  # reference vocals
    accompaniment: Path  # reference accompaniment (the "instrumental" source)
    systems: tuple[str, ...]  # reference systems and model set names, in column order
    model_sets: tuple[tuple[str, str, str], ...]  # (name, vocals best.pt, instrumental best.pt)
    backend: str = "fast"  # "fast" (BssEvalV3) or "mir_eval"
    silence_db: float = -60.0  # a reference quieter than this vs the mixture (energy, dB) is silent
    device: str = "cpu"  # torch device for the models
    batch_size: int = 8  # windows per forward pass


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


def silence_reason(mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray, *, silence_db: float) -> str | None:
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


def oracle_irm(mixture: np.ndarray, vocals: np.ndarray, accompaniment: np.ndarray) -> np.ndarray:
    """Ideal ratio mask estimates (2, n): |S| / (|V| + |A|) on the mixture STFT, mixture phase.

    The upper bound for any magnitude mask at this STFT; bins without the
    Nyquist bin, like the models.
    """
    from vocalmine.core.stft import istft, stft

    n = mixture.shape[0]
    x = stft(mixture)[:N_BINS]
    mv, ma = np.abs(stft(vocals)[:N_BINS]), np.abs(stft(accompaniment)[:N_BINS])
    total = mv + ma
    safe = np.where(total > 0, total, 1.0)
    mask_v = np.where(total > 0, mv / safe, 0.5)
    return np.stack([istft(mask_v * x, n), istft((1.0 - mask_v) * x, n)]).astype(np.float64)


@functools.lru_cache(maxsize=4)
def _cached_models(vocals_path: str, instrumental_path: str, mtimes: tuple[float, float]):
    """Models loaded once per worker process (keyed by file and mtime)."""
    import torch

    from vocalmine.model.checkpoint import build_model, load_checkpoint

    torch.set_num_threads(1)  # one Dask worker per core
    return tuple(
        build_model(load_checkpoint(p, expected_target=t)) for p, t in ((vocals_path, "vocals"), (instrumental_path, "instrumental"))
    )


def model_estimates(mixture: np.ndarray, vocals_path: str, instrumental_path: str, *, device: str, batch_size: int) -> np.ndarray:
    """(2, n) vocals and instrumental estimated by a model set on ``mixture``."""
    from vocalmine.model.inference import separate_track

    mtimes = (Path(vocals_path).stat().st_mtime, Path(instrumental_path).stat().st_mtime)
    vocals_model, instrumental_model = _cached_models(vocals_path, instrumental_path, mtimes)
    v, i = separate_track(
        mixture.astype(np.float32), vocals_model=vocals_model, instrumental_model=instrumental_model, device=device, batch_size=batch_size
    )
    return np.stack([v, i]).astype(np.float64)


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


def score_clip(job: ClipJob) -> dict:
    """Score one clip for every system of ``job``.

    Returns:
        {"song", "rows": list of score dicts (SCORES_SCHEMA), "excluded": None or
        {"song", "reason", "detail"}}. Never raises for a bad clip: it is excluded.
    """
    try:
        mixture, vocals, accompaniment = load_clip(job)
    except AudioError as exc:
        reason = "length_mismatch" if "lengths differ" in str(exc) else "undecodable"
        return {"song": job.song, "rows": [], "excluded": {"song": job.song, "reason": reason, "detail": str(exc)}}
    reason = silence_reason(mixture, vocals, accompaniment, silence_db=job.silence_db)
    if reason is not None:
        detail = f"{job.song}: reference {reason.split('_', 1)[1]} below {job.silence_db} dB of the mixture energy"
        return {"song": job.song, "rows": [], "excluded": {"song": job.song, "reason": reason, "detail": detail}}
    references = np.stack([vocals, accompaniment])
    estimates: dict[str, np.ndarray] = {SYSTEM_MIXTURE: np.stack([mixture, mixture])}
    paths = {name: (v, i) for name, v, i in job.model_sets}
    for name in job.systems:
        if name == SYSTEM_ORACLE:
            estimates[name] = oracle_irm(mixture, vocals, accompaniment)
        elif name in paths:
            estimates[name] = model_estimates(mixture, *paths[name], device=job.device, batch_size=job.batch_size)
    scores = score_estimates(references, estimates, backend=job.backend)
    sdr_mix = scores[SYSTEM_MIXTURE][0]
    duration = mixture.shape[0] / SAMPLE_RATE
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
                }
            )
    return {"song": job.song, "rows": rows, "excluded": None}
