"""Click options that `separate` and `evaluate` share: how the models' masks are applied."""

from __future__ import annotations

import click

# the choices of vocalmine.model.fullband.SYNTHESES, not imported here: it loads torch, and --help should not
_SHARED = [
    click.option("--band-centre-power", type=click.FloatRange(0.0, 64.0), default=2.0, show_default=True,
                 help="The same below 4 kHz, on the models' mask: a bin whose channels differ in level holds panned "
                      "accompaniment (0 = off)."),
    click.option("--synthesis", type=click.Choice(["overlap", "paper"]), default="overlap", show_default=True,
                 help="The STFT that applies the masks: windows of two hops (50% overlap, measured best), or the "
                      "model's own window (the paper's resynthesis, 25% overlap)."),
]


def band_and_synthesis_options(command):
    """Add --band-centre-power and --synthesis to a click command (in that order in its help)."""
    for option in reversed(_SHARED):
        command = option(command)
    return command
