"""The signal spec: the rate, channels and transform a dataset is stored at and a model runs at.

One frozen :class:`SignalSpec` travels with every artifact that holds signals:
the shards record it (their index's settings), checkpoints and exported model
files carry it, and training, separation and evaluation read it from what they
are given. Nothing downstream picks a preset itself.

Presets (``vocalmine build --preset NAME``):

- ``paper``: Jansson et al. 2017, 8192 Hz mono, window 1024, hop 768, 512 bins
  (up to 4088 Hz), 128-frame patches (11.9 s). The default.
- ``16k``: MIR-1K's own rate, at which its published figures are scored: 16 kHz
  mono, window 1024, hop 256, 512 bins (up to 7.98 kHz), 256-frame patches (4.1 s).
  Measured on MIR-1K at 16 kHz (bench/bench_mir1k.py, 60 minutes of training on one
  thread): 256 frames 8.39 dB vocal GNSDR, 128 frames (2.0 s) 8.08 dB, 384 frames (6.1 s)
  8.40 dB (fewer steps, no real gain); the steps cost
  about the same on a CPU, so the longer patch shows the model twice the context and audio.
  On a CPU budget it wants small batches: 8.62 dB at batch 8 and 8.69 dB at batch 4 (the paper
  preset scores 8.09 dB at batch 16 and at 8); with another seed, both at batch 4, 8.84 dB
  against the paper preset's 8.18.
- ``fullband``: Spleeter's front end, 44.1 kHz stereo, window 4096, hop 1024,
  1024 bins (up to 11 kHz), the mask extended above at separation. Patches of
  256 frames (5.9 s): a batch of 4 of them costs about what a paper batch of 16
  does on a CPU (4x the bins x frames each), and 6 s still holds a phrase.
  Spleeter trains on 512 frames (11.9 s) on GPUs; ``--set patch_frames=512`` gives that.
- ``fullband-mono``: the same transform on the channels' mean. Stereo songs are
  separated as the paper preset's are (the vocal mask on the mid, weighted by the
  channels' similarity, the side content to the instrumental), now with the model's
  own band up to 11 kHz. At an equal 30-minute budget, on the demo's songs and on a
  corpus generated with another seed, it beat the stereo model's two planes and the
  paper preset in vocal and instrumental SDR and in the vocals' band above 5 kHz
  (bench/bench_presets.py); a vocal panned off centre wants ``fullband``.

The analysis that decides whether a pair is kept (alignment, gain, the phase
coherence gate) always runs on the mono downmix at :data:`ANALYSIS_RATE`,
whatever the spec, so the gate's decisions do not depend on the preset.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from vocalmine.core import constants
from vocalmine.core.errors import ConfigError

ANALYSIS_RATE = constants.SAMPLE_RATE  # Hz: the rate of alignment and of the quality gate, for every spec
UNET_DEPTH = 6  # stride-2 layers of the U-Net: bins and patch frames must be multiples of 2**6
SPEC_FIELDS = ("sample_rate", "channels", "n_fft", "hop", "bins", "patch_frames")


@dataclass(frozen=True)
class SignalSpec:
    """Rate, channels and STFT of stored signals and of a model's input."""

    sample_rate: int = constants.SAMPLE_RATE  # Hz
    channels: int = 1  # 1: the mono downmix; 2: stereo, one input plane and one mask per channel
    n_fft: int = constants.N_FFT  # Hann window length, samples
    hop: int = constants.HOP_LENGTH  # samples between frames
    bins: int = constants.N_BINS  # frequency bins kept from 0 Hz (the model's height); at most n_fft // 2
    patch_frames: int = constants.PATCH_FRAMES  # frames per training patch and inference window (the model's width)

    def __post_init__(self) -> None:
        step = 2**UNET_DEPTH
        checks = [
            (self.sample_rate >= 1000, "sample_rate", ">= 1000 Hz"),
            (self.channels in (1, 2), "channels", "1 (mono) or 2 (stereo)"),
            (self.n_fft >= 16 and self.n_fft % 2 == 0, "n_fft", "an even number >= 16"),
            (1 <= self.hop <= self.n_fft, "hop", f"in [1, n_fft={self.n_fft}]"),
            (step <= self.bins <= self.n_fft // 2 and self.bins % step == 0, "bins",
             f"a multiple of {step} in [{step}, n_fft // 2 = {self.n_fft // 2}]"),
            (self.patch_frames >= step and self.patch_frames % step == 0, "patch_frames", f"a multiple of {step}"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise ConfigError(f"signal spec: {name}={getattr(self, name)!r}, expected {expected}")

    @property
    def bin_hz(self) -> float:
        """Width of one bin, Hz."""
        return self.sample_rate / self.n_fft

    @property
    def top_hz(self) -> float:
        """Centre frequency of the highest bin kept, Hz: above it the mask is extended at separation."""
        return (self.bins - 1) * self.bin_hz

    @property
    def front(self) -> int:
        """Samples before a frame's centre that the frame covers (the centred STFT's padding)."""
        return self.n_fft // 2

    @property
    def segment(self) -> int:
        """Samples behind one patch of ``patch_frames`` frames."""
        return (self.patch_frames - 1) * self.hop + self.n_fft

    @property
    def patch_span(self) -> int:
        """Samples between the first frames of two consecutive grid patches."""
        return self.patch_frames * self.hop

    @property
    def patch_seconds(self) -> float:
        return self.patch_span / self.sample_rate

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def describe(self) -> str:
        """One line: '8192 Hz mono, window 1024 / hop 768, 512 bins to 4088 Hz, 128-frame patches (11.9 s)'."""
        channels = "mono" if self.channels == 1 else "stereo"
        return (f"{self.sample_rate} Hz {channels}, window {self.n_fft} / hop {self.hop}, {self.bins} bins to "
                f"{self.top_hz:.0f} Hz, {self.patch_frames}-frame patches ({self.patch_seconds:.1f} s)")


PAPER = SignalSpec()
PRESETS: dict[str, SignalSpec] = {
    "paper": PAPER,
    "16k": SignalSpec(sample_rate=16000, channels=1, n_fft=1024, hop=256, bins=512, patch_frames=256),
    "fullband": SignalSpec(sample_rate=44100, channels=2, n_fft=4096, hop=1024, bins=1024, patch_frames=256),
    "fullband-mono": SignalSpec(sample_rate=44100, channels=1, n_fft=4096, hop=1024, bins=1024, patch_frames=256),
}


def preset(name: str) -> SignalSpec:
    """The named preset.

    Raises:
        ConfigError: for an unknown name, listing the known ones.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}") from None


def spec_from_dict(data: Mapping[str, Any] | None, *, source: str = "spec") -> SignalSpec:
    """A spec from a mapping (artifact settings, a checkpoint); missing keys take the paper's values.

    Artifacts and models written before specs existed carry none: they are the paper's.

    Raises:
        ConfigError: a value that is not an integer, or out of range.
    """
    values = {}
    for name in SPEC_FIELDS:
        if data is None or data.get(name) is None:
            continue
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ConfigError(f"{source}: {name}={value!r}, expected an integer")
        values[name] = int(value)
    return SignalSpec(**values)


def legacy_stft(spec: SignalSpec) -> dict[str, int]:
    """The ``stft`` record of checkpoints and model files before specs: kept so that older readers still load them."""
    return {"sample_rate": spec.sample_rate, "n_fft": spec.n_fft, "hop_length": spec.hop, "n_bins": spec.bins,
            "patch_frames": spec.patch_frames}


def spec_of_model_record(record: Mapping[str, Any], *, source: str) -> SignalSpec:
    """The spec a checkpoint or model file carries: its ``spec``, else its legacy ``stft`` record (mono)."""
    if isinstance(record.get("spec"), Mapping):
        return spec_from_dict(record["spec"], source=source)
    stft = record.get("stft")
    if isinstance(stft, Mapping):
        return spec_from_dict({"sample_rate": stft.get("sample_rate"), "n_fft": stft.get("n_fft"),
                               "hop": stft.get("hop_length"), "bins": stft.get("n_bins"),
                               "patch_frames": stft.get("patch_frames")}, source=source)
    raise ConfigError(f"{source}: carries no signal spec (not a vocalmine model?)")
