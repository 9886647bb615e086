"""The one error hierarchy. The CLI turns these into a one-line message and exit code 1."""


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
