"""The separation API: ``Separator.from_file(path).separate(waveform, sample_rate)``.

>>> from vocalmine import Separator
>>> sep = Separator.from_file("vocalmine-model.pt")          # exported file, checkpoint or models folder
>>> stems = sep.separate(waveform, 44100)                     # waveform (channels, samples)
>>> stems["vocals"].shape == waveform.shape
True
>>> sep.separate_file("song.mp3", "out/")                     # out/song.vocals.wav, out/song.instrumental.wav

The models see the input at their own signal spec (:mod:`vocalmine.core.spec`,
carried by the model file): the mono downmix at 8192 Hz for the paper's preset,
16 kHz mono, or 44.1 kHz stereo. By default their masks are made into ratio
masks and applied to every channel's STFT at the input's own rate, extended
above the model's top bin (``vocalmine.model.fullband``); ``output="model"``
gives the output at the model's rate and channels instead. Either way the masks
are applied through an STFT with the model's hop and a window of at least two
hops; ``MaskOptions(synthesis="paper")`` uses the model's own window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vocalmine.core.audio import resample_channels, to_channels
from vocalmine.core.errors import AudioError, ConfigError
from vocalmine.core.spec import SignalSpec
from vocalmine.core.stft import istft, stft
from vocalmine.model.checkpoint import TARGETS
from vocalmine.model.fullband import MaskOptions, apply_native, combine_masks
from vocalmine.model.device import resolve_device, resolve_precision
from vocalmine.model.loading import LoadedModels, load_model_file
from vocalmine.core.audio import read_audio
from vocalmine.model.output import check_free, write_outputs
from vocalmine.model.windowing import track_masks, unet_mask_fn

log = logging.getLogger(__name__)

WINDOW_OVERLAP = 0.25  # share of a model window that the next one overlaps (96 frames between 128-frame windows)
OUTPUTS = ("native", "model")  # native: input's rate and channels, full band; model: the model's rate and channels
MAX_CHANNELS = 16  # a first axis longer than this is taken for samples, not channels


@dataclass(frozen=True)
class SeparatedFile:
    """Outputs of :meth:`Separator.separate_file` for one input."""

    source: Path  # the input audio file
    vocals: Path  # NAME.vocals.wav
    instrumental: Path  # NAME.instrumental.wav
    duration_s: float  # input duration in seconds
    seconds: float  # wall time of the separation (decode to write)
    sample_rate: int  # rate of the written files
    channels: int = 1  # channels of the written files


class Separator:
    """Vocals / instrumental separation with trained U-Nets.

    Args:
        loaded: models by target (see :func:`vocalmine.model.loading.load_model_file`).
        device: torch device name; None takes CUDA when available.
        batch_size: model windows per forward pass.
        window_hop: frames between window starts (None: 25% overlap, cross-faded: 96 of 128 frames;
            64 of 128 is 50%).
        mask: :class:`MaskOptions` (ratio or own masks, power, extension above 4 kHz, channels).
        precision: "auto" (bf16 on GPUs and on CPUs with native bf16, else fp32), "fp32" or "bf16".

    The defaults (25% overlap, bf16 where native) score within 0.02 dB of 50% overlap
    in fp32 on the demo's stereo evaluation songs, and run the models about 3x faster.

    Raises:
        ConfigError: an unavailable device or an unknown option.
    """

    def __init__(self, loaded: LoadedModels, *, device: str | None = None, batch_size: int = 8,
                 window_hop: int | None = None, mask: MaskOptions = MaskOptions(), precision: str = "auto"):
        if precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"precision must be auto, fp32 or bf16, got {precision!r}")
        self.device = resolve_device(device)
        if precision == "auto":
            precision = resolve_precision("auto", self.device)
        self.loaded = loaded
        self.spec: SignalSpec = loaded.spec
        self.targets = tuple(t for t in TARGETS if t in loaded.models)
        self.batch_size = batch_size
        self.window_hop = window_hop or round(self.spec.patch_frames * (1 - WINDOW_OVERLAP))
        self.mask = mask
        self.precision = precision
        channels_last = self.device.type == "cuda" or precision == "bf16"
        self._mask_fn = unet_mask_fn([loaded.models[t] for t in self.targets], device=self.device,
                                     batch_size=batch_size,
                                     channels_last=channels_last)

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, device: str | None = None, name: str = "unet",
                  **options) -> "Separator":
        """A separator from an exported model file, a training checkpoint or a models folder (model set ``name``)."""
        return cls(load_model_file(path, name=name), device=device, **options)

    def model_input(self, channels: np.ndarray, sample_rate: int) -> np.ndarray:
        """(channels, n) audio at ``sample_rate`` as the model takes it: (n,) mono or (2, n), at its rate.

        Raises:
            AudioError: when no sample is left at the model's rate.
        """
        signal = resample_channels(np.ascontiguousarray(to_channels(channels, self.spec.channels)), int(sample_rate),
                                   self.spec.sample_rate)
        if signal.shape[-1] == 0:
            raise AudioError(f"waveform of {channels.shape[-1]} samples at {sample_rate} Hz has no samples at "
                             f"{self.spec.sample_rate} Hz")
        return signal[0] if self.spec.channels == 1 else signal

    def model_masks(self, signal: np.ndarray) -> np.ndarray:
        """Masks (2, [channels,] bins, frames) of (vocals, instrumental) on the model's STFT of ``signal``
        (:meth:`model_input`).

        With one model the other target's mask is its complement, softened as a ratio mask of
        ``mask.power`` (m^p / (m^p + (1 − m)^p)) when that is not 1.
        """
        ctx = torch.autocast(self.device.type,
                             dtype=torch.bfloat16) if self.precision == "bf16" else contextlib.nullcontext()
        with ctx:
            masks = track_masks(signal, self._mask_fn, n_sources=len(self.targets), window_hop=self.window_hop,
                                spec=self.spec)
        if len(self.targets) == 1:
            masks = np.concatenate([masks,
                                    1.0 - masks]) if self.targets[0] == "vocals" else np.concatenate([1.0 - masks,
                                                                                                      masks])
            if self.mask.mode == "own" or self.mask.power == 1:
                return masks  # the ratio of a mask and its complement is the mask itself
        return combine_masks(masks, self.mask)

    def separate(self, waveform: np.ndarray, sample_rate: int, *, output: str = "native") -> dict[str, np.ndarray]:
        """Separate one signal.

        Args:
            waveform: float array (channels, samples) or (samples,), any rate.
            sample_rate: its rate in Hz.
            output: "native" (default): arrays of the input's shape at its rate, full band;
                "model": the output at the model's rate and channels ((samples,) for a mono model).

        Returns:
            {"vocals": array, "instrumental": array}, float32.

        Raises:
            AudioError: a waveform that is not 1-D or (channels, samples), or too short.
        """
        if output not in OUTPUTS:
            raise ConfigError(f"output must be one of {OUTPUTS}, got {output!r}")
        x = np.asarray(waveform, dtype=np.float32)
        if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[0] > MAX_CHANNELS):
            raise AudioError(f"waveform must be (channels, samples) or (samples,), got shape {x.shape}"
                             + (" (transpose a soundfile (samples, channels) array)" if x.ndim == 2 else ""))
        channels = x if x.ndim == 2 else x[None]
        if channels.shape[1] == 0:
            raise AudioError("waveform has no samples")
        spec = self.spec
        signal = self.model_input(channels, sample_rate)
        masks = self.model_masks(signal)
        # ratio masks sum to 1 in every bin: instrumental = mixture - vocals, one iSTFT fewer
        complementary = len(self.targets) == 1 or self.mask.mode == "ratio"
        if output == "model":
            if self.mask.synthesis == "paper":  # the model's own STFT, as the paper resynthesises
                full = stft(signal, n_fft=spec.n_fft, hop=spec.hop)
                padded = np.zeros(masks.shape[:-2] + full.shape[-2:], dtype=np.float32)
                padded[..., : spec.bins, :] = masks  # no mask above the model's top bin
                est = istft(padded * full[None], signal.shape[-1], n_fft=spec.n_fft, hop=spec.hop)
            else:
                est = apply_native(signal.reshape(-1, signal.shape[-1]), masks, sample_rate=spec.sample_rate,
                                   extension=self.mask.extension, complementary=complementary, spec=spec)
                est = est.reshape((est.shape[0],) + signal.shape)
            return {t: est[k] for k, t in enumerate(TARGETS)}
        if masks.ndim == 4 and masks.shape[1] != channels.shape[0]:
            masks = masks.mean(axis=1)  # a stereo model's masks on a mono (or multichannel) input: one mask for all
        est = apply_native(channels, masks, sample_rate=int(sample_rate), extension=self.mask.extension,
                           complementary=complementary, mid=self.mask.channels == "mid",
                           centre_power=self.mask.centre_power, band_centre_power=self.mask.band_centre_power,
                           synthesis=self.mask.synthesis, spec=spec)
        return {t: est[k].reshape(x.shape) for k, t in enumerate(TARGETS)}

    def separate_file(self, path: str | os.PathLike, out_dir: str | os.PathLike, *, name: str | None = None,
                      output: str = "native", sample_rate: int | None = None, subtype: str = "PCM_16",
                      overwrite: bool = True) -> SeparatedFile:
        """Separate an audio file into out_dir/NAME.vocals.wav and NAME.instrumental.wav.

        Args:
            path: WAV, FLAC, OGG or MP3 (any rate, channels, length).
            out_dir: output folder (created).
            name: NAME of the outputs (default: the input's stem).
            output: "native" (input's rate and channels, full band) or "model" (the model's rate and channels).
            sample_rate: resample the outputs to this rate (None: as ``output`` gives them).
            subtype: WAV sample format: "PCM_16" (default), "PCM_24" or "FLOAT".
            overwrite: replace existing outputs (False: an existing output is a ConfigError).
        """
        path = Path(path)
        out_dir = Path(out_dir)
        name = name or path.stem
        targets = {t: out_dir / f"{name}.{t}.wav" for t in TARGETS}
        check_free(list(targets.values()), overwrite=overwrite)
        t0 = time.perf_counter()
        data, rate = read_audio(path)
        stems = self.separate(data, rate, output=output)
        out_rate = rate if output == "native" else self.spec.sample_rate
        if sample_rate is not None and sample_rate != out_rate:
            stems = {t: resample_channels(s, out_rate, sample_rate) for t, s in stems.items()}
            out_rate = sample_rate
        written = write_outputs(stems, out_rate, out_dir, name, subtype=subtype)
        seconds = time.perf_counter() - t0
        duration = data.shape[1] / rate
        log.info("%s: %.1f s of audio separated in %.2f s (%.0fx realtime)", path, duration, seconds,
                 duration / max(seconds, 1e-9))
        channels = stems["vocals"].shape[0] if stems["vocals"].ndim == 2 else 1
        return SeparatedFile(path, written["vocals"], written["instrumental"], duration, seconds, out_rate, channels)
