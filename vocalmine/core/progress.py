"""Progress bars that stay quiet when output is not a terminal."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def interactive() -> bool:
    """True when stderr is a terminal, so bars and colours are wanted."""
    return sys.stderr.isatty()


def progress(iterable: Iterable[T] | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it") -> Iterator[T] | tqdm:
    """A tqdm bar over ``iterable`` (or a manual bar when it is None), hidden off a terminal."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not interactive(), leave=False, dynamic_ncols=True)
