"""I/O of one shard group: its shard array and its part record, both written atomically.

A group is the unit of work and of resumption. Its part record (a small JSON
file in ``<shards>/parts/``) is written after its shard, so a group whose part
exists, matches the current pairs and config, and whose shard has the recorded
number of rows is finished and is skipped on a re-run.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import numpy as np

from vocalmine.core.atomic import save_npy_atomic, write_text_atomic
from vocalmine.core.constants import SHARD_DTYPE
from vocalmine.core.errors import storage_error  # noqa: F401 - build and export take it from here
from vocalmine.core.contract.shards import shard_path
from vocalmine.core.contract.shards import PARTS_FOLDER

log = logging.getLogger(__name__)

PART_VERSION = 2  # bump when the part record's layout changes
_SHARD_RE = re.compile(r"^shard-(\d{5,})\.npy$")
_PART_RE = re.compile(r"^group-(\d{5,})\.json$")


def part_path(folder: str | os.PathLike, group: int) -> Path:
    """Path of group ``group``'s part record."""
    return Path(folder) / PARTS_FOLDER / f"group-{group:05d}.json"


def write_group(folder: str | os.PathLike, group: int, waveforms: list[np.ndarray], record: dict, *,
                channels: int = 1) -> Path:
    """Write the group's shard (``waveforms`` concatenated along time) and then its part record.

    Args:
        folder: the shards folder.
        group: group number, also the shard number.
        waveforms: arrays (2 · channels, n_i) float16, in the order of their offsets.
        record: JSON-serialisable part record; ``shard_rows`` is filled in here.

    Raises:
        VocalmineError: when a file cannot be written (disk full, ...), naming it.
    """
    array = np.concatenate(waveforms, axis=1) if waveforms else np.zeros((2 * channels, 0), dtype=SHARD_DTYPE)
    path = shard_path(folder, group)
    try:
        save_npy_atomic(path, array.astype(SHARD_DTYPE, copy=False))
        record = {**record, "version": PART_VERSION, "group": group, "shard_rows": int(array.shape[1])}
        path = part_path(folder, group)
        return write_text_atomic(path, json.dumps(record, allow_nan=True))
    except OSError as exc:
        raise storage_error(exc, path) from exc


def _shard_rows(path: Path) -> int | None:
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, _ = reader(fh)
        return int(shape[1]) if len(shape) == 2 else None
    except (OSError, ValueError):
        return None


def read_finished_group(folder: str | os.PathLike, group: int, *, pair_ids: list[str], fingerprint: str) -> dict | None:
    """The group's part record when the group is finished for these pairs and config, else None."""
    path = part_path(folder, group)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = (PART_VERSION, fingerprint, pair_ids)
    if (record.get("version"), record.get("fingerprint"), record.get("pair_ids")) != current:
        log.info("%s: stale (pairs or config changed), rebuilding group %d", path, group)
        return None
    if _shard_rows(shard_path(folder, group)) != record.get("shard_rows"):
        log.info("%s: shard missing or of the wrong length, rebuilding group %d", path, group)
        return None
    return record


def read_part(folder: str | os.PathLike, group: int) -> dict:
    """Read a part record (it must exist)."""
    return json.loads(part_path(folder, group).read_text(encoding="utf-8"))


def surplus(folder: str | os.PathLike, n_groups: int) -> list[Path]:
    """Shards and parts numbered >= ``n_groups`` (left by an earlier, larger build)."""
    folder = Path(folder)
    found = []
    for directory, pattern in ((folder, _SHARD_RE), (folder / PARTS_FOLDER, _PART_RE)):
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            match = pattern.match(path.name)
            if match and int(match.group(1)) >= n_groups:
                found.append(path)
    return sorted(found)


def remove_surplus(folder: str | os.PathLike, n_groups: int) -> int:
    """Delete shards and parts numbered >= ``n_groups`` (left by an earlier, larger build)."""
    paths = surplus(folder, n_groups)
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)
