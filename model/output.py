"""File side of separation: decoding at the file's own rate and channels, output names, writing.

Output names are NAME.vocals.wav and NAME.instrumental.wav. Two inputs with
the same NAME from different folders get distinct names (the folder's name is
prefixed), and an output that already exists on disk is an error naming it,
unless ``overwrite`` is set: a separation never replaces a file silently.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from vocalmine.core.audio import to_pcm16, write_audio
from vocalmine.core.errors import ConfigError

SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "float": "FLOAT"}  # --format value -> WAV subtype


def output_names(paths: Sequence[str | os.PathLike]) -> list[str]:
    """The NAME of each input's outputs: its stem, folder-qualified where two inputs share a stem.

    a/song.mp3 and b/song.mp3 become "a-song" and "b-song"; an input given twice is refused.

    Raises:
        ConfigError: the same file twice, or names that stay equal after qualifying.
    """
    resolved = [Path(p).resolve() for p in paths]
    seen: dict[Path, Path] = {}
    for p, r in zip(paths, resolved):
        if r in seen:
            raise ConfigError(f"{p} and {seen[r]} are the same file; give it once")
        seen[r] = Path(p)
    stems = Counter(r.stem for r in resolved)
    names = [f"{r.parent.name}-{r.stem}" if stems[r.stem] > 1 else r.stem for r in resolved]
    counts = Counter(names)
    clashes = [(str(p), n) for p, n in zip(paths, names) if counts[n] > 1]
    if clashes:
        raise ConfigError("inputs would write the same output names: "
                          + ", ".join(f"{p} -> {n}" for p, n in clashes)
                          + " (separate them into different --out folders)")
    return names


def check_free(paths: Sequence[Path], *, overwrite: bool) -> None:
    """Refuse outputs that exist already, naming them, unless ``overwrite``."""
    if overwrite:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        shown = ", ".join(existing[:4]) + (f" and {len(existing) - 4} more" if len(existing) > 4 else "")
        raise ConfigError(f"output exists: {shown} (pass --resume to keep it and separate the rest, --overwrite to "
                          "replace it, or choose another --out)")


def write_outputs(stems: dict[str, np.ndarray], rate: int, out_dir: Path, name: str, *,
                  subtype: str = "PCM_16") -> dict[str, Path]:
    """Write each source (channels, n) or (n,) to out_dir/NAME.SOURCE.wav; return the paths.

    The files are written by one thread each: the conversion (numpy) and libsndfile's writing both release
    the GIL, so two sources take about the time of one on two cores.
    """
    from concurrent.futures import ThreadPoolExecutor

    def write(source: str) -> Path:
        signal = stems[source]
        data = signal.T if signal.ndim == 2 else signal  # soundfile wants (n, channels)
        if subtype == "PCM_16":
            data = to_pcm16(data)
        return write_audio(out_dir / f"{name}.{source}.wav", data, rate, subtype=subtype)

    with ThreadPoolExecutor(max_workers=max(1, len(stems))) as pool:
        return dict(zip(stems, pool.map(write, stems)))
