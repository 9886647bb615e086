"""vocalmine: mine (original, instrumental) pairs and train a singing voice separator.

>>> from vocalmine import Separator
>>> stems = Separator.from_file("vocalmine-model.pt").separate(waveform, 44100)  # (channels, samples)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vocalmine")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["Separator", "__version__"]


def __getattr__(name: str):
    # imported on first use: torch costs seconds, and `vocalmine --help` should not pay them
    if name == "Separator":
        from vocalmine.model.separator import Separator

        return Separator
    raise AttributeError(f"module 'vocalmine' has no attribute {name!r}")
