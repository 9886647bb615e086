"""The object the root group hands every subcommand."""

from __future__ import annotations

from pathlib import Path

import click

from vocalmine.core.catalog import DataCatalog, load_catalog


class Context:
    """The catalog path from ``--catalog``, loaded on first use, and the verbosity."""

    def __init__(self, catalog_path: Path, verbose: int):
        self.catalog_path = catalog_path
        self.verbose = verbose
        self._catalog: DataCatalog | None = None

    @property
    def catalog(self) -> DataCatalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.catalog_path)
        return self._catalog


pass_context = click.make_pass_decorator(Context)


def check_device(name: str | None) -> None:
    """Refuse, before any work, a ``--device`` this machine does not have (one line, exit 1).

    "auto" and None (pick the best there is) and "cpu" always pass; "cuda" and "cuda:N" need a
    visible CUDA device N; "mps" needs Apple's Metal backend.

    Raises:
        ConfigError: naming the device and what this machine has.
    """
    if name in (None, "auto", "cpu"):
        return
    from vocalmine.model.device import resolve_device  # here: it imports torch, slow for --help

    resolve_device(name, label=f"--device {name}")
