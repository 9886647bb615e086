"""data_catalog.yaml: the named inputs and outputs of every stage.

Loaded with ``yaml.safe_load`` and validated into frozen dataclasses. Unknown
keys, missing keys and wrong types are rejected with the file, the key and what
was expected. Every path is relative to the yaml file unless absolute.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vocalmine.core.errors import CatalogError

DEFAULT_CATALOG_FILE = "data_catalog.yaml"
DURATION_UNITS = ("auto", "s", "ms", "m:ss")


@dataclass(frozen=True)
class ColumnMap:
    """Names of the track CSV's columns for each field vocalmine reads."""

    track_id: str  # unique id of a track (release position), any string
    artist: str  # performing artist, may carry "feat." credits
    title: str  # track title, may carry the instrumental marker and qualifiers
    duration: str  # seconds, milliseconds or "m:ss" (see duration_unit)
    audio_path: str | None = None  # audio file relative to audio_root; None for metadata-only catalogs
    album: str | None = None  # release title (optional)
    isrc: str | None = None  # ISRC code (optional)
    release_date: str | None = None  # release date (optional)
    genre: str | None = None  # genre (optional)


@dataclass(frozen=True)
class TrackCatalog:
    """The track catalog CSV and where its audio lives."""

    path: Path  # the CSV file
    audio_root: Path  # every audio path must resolve inside this folder
    columns: ColumnMap  # column mapping
    duration_unit: str = "auto"  # auto | s | ms | m:ss; auto reads "m:ss" strings and numbers as seconds
    delimiter: str = ","  # CSV field separator


@dataclass(frozen=True)
class EvalSet:
    """The multitrack evaluation set: a CSV of song, mixture, vocals, accompaniment."""

    path: Path  # eval.csv
    audio_root: Path  # the CSV's audio paths resolve inside this folder


@dataclass(frozen=True)
class DataCatalog:
    """Every artifact of the pipeline, as absolute paths."""

    source: Path  # the yaml file this was loaded from
    tracks: TrackCatalog  # input of `mine`
    pairs: Path  # pairs.parquet, output of `mine`
    rejects: Path  # rejects.parquet, output of `mine`
    fingerprints: Path  # fingerprint cache of `mine` (Parquet), keyed by path, size, mtime
    shards: Path  # folder: shard-*.npy, index.parquet, quality.parquet, rejects.parquet (`build`)
    report: Path  # folder: index.html (`report`)
    models: Path  # folder: one sub-folder per trained model (`train`)
    eval_set: EvalSet  # input of `evaluate`
    evaluation: Path  # folder: scores.parquet, tables, plots (`evaluate`)
    separated: Path  # folder: default output of `separate`


def _check_keys(data: Any, cls: type, file: Path, where: str) -> dict:
    if not isinstance(data, dict):
        raise CatalogError(f"{file}: '{where or 'top level'}' must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    skip = {"source"}
    unknown = sorted(set(data) - set(fields) - skip)
    if unknown:
        raise CatalogError(f"{file}: unknown key '{_join(where, unknown[0])}'; expected one of {sorted(set(fields) - skip)}")
    required = [
        name
        for name, f in fields.items()
        if name not in skip and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for name in required:
        if name not in data:
            raise CatalogError(f"{file}: missing key '{_join(where, name)}'")
    return fields


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _string(value: Any, file: Path, key: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{file}: key '{key}' must be a non-empty string, got {value!r}")
    return value


def _path(value: Any, file: Path, key: str) -> Path:
    text = _string(value, file, key)
    path = Path(text).expanduser()
    return path if path.is_absolute() else (file.parent / path).resolve()


def _columns(data: Any, file: Path) -> ColumnMap:
    fields = _check_keys(data, ColumnMap, file, "tracks.columns")
    values = {}
    for name, f in fields.items():
        if name in data:
            values[name] = _string(data[name], file, f"tracks.columns.{name}", optional=f.default is None)
    return ColumnMap(**values)


def _tracks(data: Any, file: Path) -> TrackCatalog:
    _check_keys(data, TrackCatalog, file, "tracks")
    unit = data.get("duration_unit", "auto")
    if unit not in DURATION_UNITS:
        raise CatalogError(f"{file}: key 'tracks.duration_unit' must be one of {DURATION_UNITS}, got {unit!r}")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise CatalogError(f"{file}: key 'tracks.delimiter' must be a single character, got {delimiter!r}")
    return TrackCatalog(
        path=_path(data["path"], file, "tracks.path"),
        audio_root=_path(data["audio_root"], file, "tracks.audio_root"),
        columns=_columns(data["columns"], file),
        duration_unit=unit,
        delimiter=delimiter,
    )


def _eval_set(data: Any, file: Path) -> EvalSet:
    _check_keys(data, EvalSet, file, "eval_set")
    return EvalSet(
        path=_path(data["path"], file, "eval_set.path"),
        audio_root=_path(data["audio_root"], file, "eval_set.audio_root"),
    )


def parse_catalog(data: Any, file: Path) -> DataCatalog:
    """Validate a parsed yaml document into a :class:`DataCatalog`."""
    fields = _check_keys(data, DataCatalog, file, "")
    values: dict[str, Any] = {"source": file}
    for name in fields:
        if name == "source":
            continue
        if name == "tracks":
            values[name] = _tracks(data[name], file)
        elif name == "eval_set":
            values[name] = _eval_set(data[name], file)
        else:
            values[name] = _path(data[name], file, name)
    return DataCatalog(**values)


def load_catalog(path: str | os.PathLike = DEFAULT_CATALOG_FILE) -> DataCatalog:
    """Load and validate ``data_catalog.yaml``.

    Raises:
        CatalogError: naming the file and the key when anything is wrong.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise CatalogError(f"{file}: data catalog not found (pass --catalog PATH)")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{file}: not valid YAML ({exc.__class__.__name__}: {exc})") from exc
    return parse_catalog(data, file)


def catalog_for_corpus(yaml_file: Path, corpus_dir: Path, work_dir: Path) -> str:
    """Text of a data_catalog.yaml for a generated demo corpus at ``corpus_dir``."""
    rel = lambda p: os.path.relpath(p, yaml_file.parent)  # noqa: E731
    return DEFAULT_YAML_TEMPLATE.format(corpus=rel(corpus_dir), work=rel(work_dir))


DEFAULT_YAML_TEMPLATE = """\
# Named inputs and outputs of every vocalmine stage; paths are relative to this file.
tracks:
  path: {corpus}/catalog.csv
  audio_root: {corpus}
  duration_unit: auto
  columns:
    track_id: track_id
    artist: artist
    title: title
    duration: duration
    audio_path: audio_path
    album: album
    isrc: isrc
    release_date: release_date
pairs: {work}/pairs.parquet
rejects: {work}/rejects.parquet
fingerprints: {work}/fingerprints.parquet
shards: {work}/shards
report: {work}/report
models: {work}/models
eval_set:
  path: {corpus}/eval/eval.csv
  audio_root: {corpus}/eval
evaluation: {work}/evaluation
separated: {work}/separated
"""
