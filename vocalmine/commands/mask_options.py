"""The click options of `separate` and `evaluate` that say how the models' masks are applied.

Made from :class:`vocalmine.model.mask_options.MaskOptions`, the one declaration
(names, choices, ranges, defaults, help); that module loads no torch, so `--help` stays fast.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from vocalmine.model.mask_options import MaskOptions

_FIELDS = dataclasses.fields(MaskOptions)


def _click_option(f: dataclasses.Field):
    meta = f.metadata
    kind = click.Choice(list(meta["choices"])) if meta["choices"] else click.FloatRange(*meta["bounds"])
    return click.option(meta["cli"], f"mask_{f.name}", type=kind, default=f.default, show_default=True,
                        help=meta["help"])


def mask_options(command):
    """Add one option per MaskOptions field to a click command (passed as ``mask_<field>`` keyword arguments)."""
    for f in reversed(_FIELDS):
        command = _click_option(f)(command)
    return command


def mask_options_from(kwargs: dict[str, Any]) -> MaskOptions:
    """Pop the ``mask_<field>`` arguments :func:`mask_options` added and build the MaskOptions."""
    return MaskOptions(**{f.name: kwargs.pop(f"mask_{f.name}") for f in _FIELDS})
