"""How model masks become the masks applied to a mixture: the one declaration of the mask options.

:class:`MaskOptions` is used by the separator (``vocalmine.model.fullband``,
``vocalmine.model.separator``), carried by `evaluate`'s config and clip jobs,
and turned into the CLI options of `separate` and `evaluate`
(``vocalmine.commands.mask_options``): each field's metadata holds its
option name, choices or range, and help. This module imports neither numpy
nor torch, so that `--help` stays fast. The measurements behind the defaults
are in ``vocalmine.model.fullband``'s docstring.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from vocalmine.core.errors import ConfigError

MASK_MODES = ("ratio", "own")  # ratio: Spleeter-style m^p / sum m^p; own: each model's sigmoid mask
EXTENSIONS = ("zeros", "top-mean", "top", "mean", "mean-squared")  # how the mask continues above the model's top bin
SYNTHESES = ("overlap", "paper")  # the window that applies the masks: two hops or more (>= 50% overlap), or the model's
CHANNEL_MODES = ("each", "mid")  # what a mono model's vocal mask is applied to: every channel, or their mean


def _option(default, *, cli: str, help: str, choices: tuple[str, ...] | None = None,
            bounds: tuple[float, float] | None = None):
    """A dataclass field with what its CLI option needs: name, choices or (low, high), help."""
    return field(default=default, metadata={"cli": cli, "help": help, "choices": choices, "bounds": bounds})


@dataclass(frozen=True)
class MaskOptions:
    """How model masks become the masks applied to the mixture."""

    mode: str = _option("ratio", cli="--mask", choices=MASK_MODES,
                        help="ratio: both models' masks to the power p, divided by their sum (Spleeter); own: each "
                             "model's mask.")
    power: float = _option(1.0, cli="--power", bounds=(0.1, 8.0), help="p of the ratio mask.")
    extension: str = _option("mean-squared", cli="--extension", choices=EXTENSIONS,
                             help="Vocal mask above the model's top bin (4 kHz at the paper's preset, 8 kHz at 16k, "
                                  "11 kHz at fullband): zeros (with ratio masks all of the band goes to the "
                                  "instrumental), the mean of the model's top bins per frame, its top bin, its mean, "
                                  "or that mean squared (shy where the model is unsure; measured best).")
    channels: str = _option("mid", cli="--channels", choices=CHANNEL_MODES,
                            help="A mono model on stereo input: each: the vocal mask on every channel; mid: on the "
                                 "channels' mean (a centred lead vocal), the rest of every channel, side content "
                                 "included, to the instrumental. A stereo model masks each channel itself.")
    centre_power: float = _option(8.0, cli="--centre-power", bounds=(0.0, 64.0),
                                  help="With --channels mid on stereo input: weight the vocal mask above the model's "
                                       "top bin by the channels' similarity to this power, so that sources panned "
                                       "aside stay in the instrumental (0 = off).")
    band_centre_power: float = _option(2.0, cli="--band-centre-power", bounds=(0.0, 64.0),
                                       help="The same below the model's top bin, on the models' mask: a bin whose "
                                            "channels differ in level holds panned accompaniment (0 = off).")
    synthesis: str = _option("overlap", cli="--synthesis", choices=SYNTHESES,
                             help="The STFT that applies the masks: the model's hop with a window of at least two "
                                  "hops (measured best), or the model's own window (the paper's resynthesis).")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value, choices, bounds = getattr(self, f.name), f.metadata["choices"], f.metadata["bounds"]
            name = f.name.replace("_", " ")
            if choices is not None and value not in choices:
                raise ConfigError(f"mask {name} must be one of {choices}, got {value!r}")
            if bounds is not None and not bounds[0] <= value <= bounds[1]:
                raise ConfigError(f"mask {name} must be in [{bounds[0]}, {bounds[1]}], got {value}")
