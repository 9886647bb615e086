"""The training objective and the validation measures, in torch on the training device.

Batches come from :class:`vocalmine.model.data.WaveDataset` as waveforms; the
spectrograms, the remixed mixture and the target are made here for the whole
batch at once, with the core STFT at the shards' signal spec. Shapes: inputs, targets
and masks (b, channels, bins, patch_frames); ``valid`` (b,) frames per example that
are not padding.
"""

from __future__ import annotations

import torch

from vocalmine.core.errors import ConfigError
from vocalmine.core.spec import PAPER, SignalSpec
from vocalmine.core.stft import torch_stft
from vocalmine.core.target import vocal_target
from vocalmine.model.checkpoint import TARGETS

# A patch whose target holds less energy than this (normalised magnitudes) has
# nothing to separate; its SDR is undefined, so the proxy skips it.
SILENT_TARGET_ENERGY = 1e-6
EPS = 1e-8
MAX_SCALE_RATIO = 1e3  # bound on (track max / crop max) for a (nearly) silent crop


def batch_spectrograms(batch: dict, *, target: str, spec: SignalSpec = PAPER
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Model input X and the target magnitude of a batch of waveform crops, float32 on their device.

    The mixture is made in the time domain: ``gv·(original − g·instrumental) + ga·accompaniment``
    (the mined original itself when both gains are 1 and the accompaniment is the
    pair's own instrumental at the same place). The target is the paper's
    half-wave-rectified difference of that mixture and that accompaniment,
    max(|X| − |A|, 0), for "vocals", and |A| for "instrumental".

    Normalisation (NORMALISATION "track_max"): magnitudes are divided by the
    crop's max |X| times the voice pair's (track max / crop max) of its original,
    which is exactly the track's max |X| for an unremixed crop, as inference uses.

    Args:
        batch: ``wave`` (b, 3 · channels, segment), ``gain`` (b, 2), ``scale`` (b,), ``valid`` (b,), see
            :class:`vocalmine.model.data.WaveDataset`.
        target: "vocals" or "instrumental".
        spec: the shards' signal spec.

    Returns:
        x, y: (b, channels, bins, patch_frames) float32; valid (b,) int64.
    """
    if target not in TARGETS:
        raise ConfigError(f"target must be one of {TARGETS}, got {target!r}")
    wave = batch["wave"].float()
    b, rows, length = wave.shape
    wave = wave.view(b, 3, rows // 3, length)
    gain = batch["gain"].float()[:, :, None, None]
    original, instrumental, accompaniment = wave[:, 0], wave[:, 1], wave[:, 2]  # (b, channels, length) each
    accompaniment = gain[:, 1] * accompaniment
    mixture = gain[:, 0] * (original - instrumental) + accompaniment
    mags = torch_stft(torch.stack([mixture, accompaniment, original], dim=1), n_fft=spec.n_fft, hop=spec.hop,
                      center=False)[..., : spec.bins, :].abs()  # (b, 3, channels, bins, frames)
    x, a, o = mags[:, 0], mags[:, 1], mags[:, 2]
    crop_max_o = o.amax(dim=(1, 2, 3))
    track = batch["scale"].float()
    ratio = (track / crop_max_o.clamp_min(EPS)).clamp(1.0, MAX_SCALE_RATIO)
    scale = (x.amax(dim=(1, 2, 3)) * ratio).clamp_min(EPS)[:, None, None, None]
    x, a = x / scale, a / scale
    y = vocal_target(x, a) if target == "vocals" else a
    return x, y, batch["valid"]


def frame_mask(valid: torch.Tensor, frames: int) -> torch.Tensor:
    """(b, 1, 1, frames) float mask: 1 on real frames, 0 on padding."""
    positions = torch.arange(frames, device=valid.device)
    return (positions[None, :] < valid[:, None]).float()[:, None, None, :]


def l1_sums(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                torch.Tensor]:
    """Sum of |mask ⊙ X − Y| over real frames, and the number of summed elements."""
    frames = frame_mask(valid, x.shape[-1])
    error = (torch.abs(mask.float() * x - y) * frames).sum()
    return error, frames.sum() * x.shape[-2]


def masked_l1(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The paper's loss ||mask ⊙ X − Y||₁, averaged over the real (unpadded) elements."""
    error, count = l1_sums(mask, x, y, valid)
    return error / count.clamp_min(1.0)


def sdr_sums(mask: torch.Tensor, x: torch.Tensor, y: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                 torch.Tensor]:
    """Magnitude-domain SDR proxy: sum over patches of 10·log10(‖Y‖² / ‖mask⊙X − Y‖²), and their count.

    Computed on real frames only; patches with a (near) silent target are
    skipped. A cheap stand-in for mir_eval's SDR to watch during training, not
    comparable with it in absolute terms.
    """
    frames = frame_mask(valid, x.shape[-1])
    signal = (y.float() ** 2 * frames).sum(dim=(1, 2, 3))
    noise = ((mask.float() * x - y) ** 2 * frames).sum(dim=(1, 2, 3))
    keep = signal > SILENT_TARGET_ENERGY
    sdr = 10 * torch.log10((signal + EPS) / (noise + EPS))
    return (sdr * keep).sum(), keep.sum().float()
