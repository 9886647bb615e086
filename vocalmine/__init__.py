"""vocalmine: mine (original, instrumental) pairs and train a singing voice separator."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vocalmine")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
