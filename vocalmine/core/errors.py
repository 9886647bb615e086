"""The one error hierarchy. The CLI turns these into a one-line message and exit code 1."""

from __future__ import annotations

import errno
import os

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)  # errnos of a write that found no space left


class VocalmineError(Exception):
    """Base of every error the CLI reports without a traceback."""


class CatalogError(VocalmineError):
    """A catalog (data_catalog.yaml or the track CSV) is unusable."""


class AudioError(VocalmineError):
    """An audio file cannot be decoded or is unusable (silent, too short, ...)."""


class ConfigError(VocalmineError):
    """A configuration value is unknown, missing or of the wrong type."""


class NothingUsableError(VocalmineError):
    """A stage ended with no usable output: every input was rejected."""


def storage_error(exc: OSError, path: str | os.PathLike) -> VocalmineError:
    """A one-line VocalmineError for an OSError met while writing ``path`` (disk full, read-only, ...)."""
    if exc.errno in DISK_FULL:
        return VocalmineError(f"{path}: disk full ({exc.strerror}); free space and re-run the same command to resume")
    return VocalmineError(f"{path}: cannot write ({exc.strerror or exc})")
