"""The first version's separation entry points, kept as thin layers over :class:`Separator`.

:func:`separate_track` (8192 Hz mono in and out, each model's own mask through the
model's own STFT, as the paper separates) and :func:`separate_files` call the
separator, so there is one separation path; new code should use
``vocalmine.Separator`` directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from vocalmine.core.constants import SAMPLE_RATE
from vocalmine.model.loading import LoadedModels
from vocalmine.model.mask_options import MaskOptions
from vocalmine.model.output import output_names
from vocalmine.model.separator import SeparatedFile, Separator
from vocalmine.model.unet import UNet
from vocalmine.model.windowing import WINDOW_HOP


def separate_track(
    mixture: np.ndarray,
    *,
    vocals_model: UNet,
    instrumental_model: UNet,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
    window_hop: int = WINDOW_HOP,
) -> tuple[np.ndarray, np.ndarray]:
    """Separate a whole track into vocals and instrumental with each model's own mask.

    Args:
        mixture: float (n_samples,) mono at 8192 Hz, any length.
        vocals_model, instrumental_model: trained :class:`UNet` mask estimators of the paper's spec.
        device: torch device for the models ("cpu", "cuda", ...).
        batch_size: windows per forward pass.
        window_hop: frames between window starts (default 64: 50% overlap).

    Returns:
        (vocals, instrumental), float32 arrays of shape (n_samples,).
    """
    loaded = LoadedModels({"vocals": vocals_model, "instrumental": instrumental_model}, Path("."))
    separator = Separator(loaded, device=str(device), batch_size=batch_size, window_hop=window_hop, precision="fp32",
                          mask=MaskOptions(mode="own", synthesis="paper"))
    stems = separator.separate(np.asarray(mixture, dtype=np.float32), SAMPLE_RATE, output="model")
    return stems["vocals"], stems["instrumental"]


def separate_files(
    *,
    paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    models_dir: str | os.PathLike,
    name: str = "unet",
    sample_rate: int | None = SAMPLE_RATE,
    device: str | None = None,
    batch_size: int = 8,
    overwrite: bool = True,
) -> list[SeparatedFile]:
    """Separate audio files into ``out_dir``/NAME.vocals.wav and NAME.instrumental.wav.

    Args:
        paths: WAV, FLAC, MP3 (any rate, channels, length).
        out_dir: output folder (created).
        models_dir: catalog.models (or an exported model file); ``name`` selects the model set.
        sample_rate: 8192 (default here): the paper's mono output as float WAV; None: full band
            at each input's own rate and channels (16-bit); another rate: the full-band output resampled.
        device: torch device; None picks CUDA when available.

    Returns:
        One :class:`SeparatedFile` per input, in order.
    """
    separator = Separator.from_file(models_dir, name=name, device=device, batch_size=batch_size)
    names = output_names(paths)
    model_rate = sample_rate == SAMPLE_RATE
    out_dir = Path(out_dir)
    return [
        separator.separate_file(path, out_dir, name=stem, output="model" if model_rate else "native",
                                sample_rate=None if model_rate else sample_rate,
                                subtype="FLOAT" if model_rate else "PCM_16", overwrite=overwrite)
        for path, stem in zip(paths, names)
    ]
