"""Catalog paths against a declared root: resolved for reading (any that escape it rejected), stored relative to it."""

from __future__ import annotations

import os
from pathlib import Path

from vocalmine.core.errors import CatalogError


def resolve_under(root: str | os.PathLike, relative: str | os.PathLike) -> Path:
    """Resolve ``relative`` against ``root`` and return the real path.

    Symlinks are followed before the check, so a link that points out of the
    root is rejected like ``../../etc/passwd`` or an absolute path elsewhere.
    An absolute path is accepted only when it lies inside the root.

    Raises:
        CatalogError: when the resolved path is not inside ``root``.
    """
    root_real = Path(root).resolve()
    text = os.fspath(relative)
    if "\x00" in text:
        raise CatalogError(f"path {text!r} contains a NUL byte")
    try:
        candidate = (root_real / text).resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop, a name too long for the file system
        raise CatalogError(f"path {text!r} cannot be resolved ({exc})") from exc
    if candidate != root_real and root_real not in candidate.parents:
        raise CatalogError(f"path {text!r} escapes the declared root {root_real}")
    return candidate


def relative_under(root: str | os.PathLike, path: str | os.PathLike) -> str:
    """``path``, a real path inside ``root`` (as :func:`resolve_under` returns), as artifacts store it.

    The inverse of :func:`resolve_under`: POSIX-style and relative to the resolved root
    (``"album/track.flac"``), so that a data folder can be moved or shared.

    Raises:
        ValueError: when ``path`` is not inside the resolved ``root`` (a caller's bug).
    """
    return Path(path).relative_to(Path(root).resolve()).as_posix()
