"""data_catalog.yaml: the named inputs and outputs of every stage.

Loaded with ``yaml.safe_load`` and validated into frozen dataclasses. Only
``tracks.path`` and ``tracks.columns`` (track_id, artist, title, duration) are
required; every other key has a default: an output left out goes beside the
outputs the file names (the folder of the first one named, in field order), or
under ``data/work/`` next to the yaml when it names none; audio roots are the
folder of their CSV. Every problem in the file
(unknown keys, missing keys, wrong types) is reported in one CatalogError that
names the file and each key. Every path is relative to the yaml file unless absolute.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vocalmine.core.errors import CatalogError

DEFAULT_CATALOG_FILE = "data_catalog.yaml"
DURATION_UNITS = ("auto", "s", "ms", "m:ss")
WORK_DIR = "data/work"  # default home of every output, relative to the yaml file
EVAL_CSV = "data/eval/eval.csv"  # default evaluation set, relative to the yaml file


def _output(name: str) -> Any:
    """A DataCatalog output field: ``name`` in the work folder when the yaml leaves it out (see _output_folder)."""
    return field(metadata={"default": f"{WORK_DIR}/{name}", "output": name})


def _output_folder(data: dict, catalog: dict[str, Any], file: Path) -> Path:
    """Where the outputs a catalog file leaves out go: beside the outputs it names.

    A user who names ``pairs: out/pairs.parquet`` expects rejects and unpaired rows in out/ too,
    not in a data/work/ they never asked for.

    Args:
        data: the parsed yaml document.
        catalog: the fields parsed so far (name -> absolute path or None when invalid).
        file: the yaml file.

    Returns:
        The folder of the first output named in ``data`` (DataCatalog field order), else data/work next to ``file``.
    """
    for f in dataclasses.fields(DataCatalog):
        if "output" in f.metadata and f.name in data and catalog.get(f.name) is not None:
            return catalog[f.name].parent
    return (file.parent / WORK_DIR).resolve()


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
    # every audio path must resolve inside this folder
    audio_root: Path = field(metadata={"default": "the CSV's folder"})
    columns: ColumnMap  # column mapping
    duration_unit: str = "auto"  # auto | s | ms | m:ss; auto reads "m:ss" strings and numbers as seconds
    delimiter: str = ","  # CSV field separator


@dataclass(frozen=True)
class EvalSet:
    """The multitrack evaluation set: a CSV of song, mixture, vocals, accompaniment."""

    path: Path = field(metadata={"default": EVAL_CSV})  # eval.csv
    # the CSV's audio paths resolve inside this folder
    audio_root: Path = field(metadata={"default": "the CSV's folder"})


@dataclass(frozen=True)
class DataCatalog:
    """Every artifact of the pipeline, as absolute paths."""

    source: Path  # the yaml file this was loaded from
    tracks: TrackCatalog  # input of `mine`
    pairs: Path = _output("pairs.parquet")  # output of `mine`
    rejects: Path = _output("rejects.parquet")  # output of `mine`
    # output of `mine`: valid rows with no partner, nearest candidate and why
    unpaired: Path = _output("unpaired.parquet")
    # fingerprint cache of `mine` (Parquet), keyed by path, size, mtime
    fingerprints: Path = _output("fingerprints.parquet")
    shards: Path = _output("shards")  # folder: shard-*.npy, index.parquet, quality.parquet, rejects.parquet (`build`)
    report: Path = _output("report")  # folder: index.html (`report`)
    models: Path = _output("models")  # folder: one sub-folder per trained model (`train`)
    eval_set: EvalSet = field(metadata={"default": EVAL_CSV})  # input of `evaluate`
    evaluation: Path = _output("evaluation")  # folder: scores.parquet, tables, plots (`evaluate`)
    separated: Path = _output("separated")  # folder: default output of `separate`
    dataset: Path = _output("dataset")  # folder: the kept pairs as per-track stem folders (`export-dataset`)


class _Problems:
    """Every mistake found in one catalog file, raised together as one CatalogError."""

    def __init__(self, file: Path):
        self.file = file
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if len(self.items) == 1:
            raise CatalogError(f"{self.file}: {self.items[0]}")
        if self.items:
            raise CatalogError(f"{self.file}: {len(self.items)} problems: " + "; ".join(self.items))


def _required(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.name != "source" and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        and "default" not in f.metadata
    ]


def _check_keys(data: Any, cls: type, where: str, problems: _Problems) -> bool:
    """Note unknown and missing keys of one section; False when it is not a mapping at all."""
    if not isinstance(data, dict):
        problems.add(f"'{where or 'top level'}' must be a mapping, got {type(data).__name__}")
        return False
    known = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    for key in sorted(set(map(str, data)) - set(known)):
        problems.add(f"unknown key '{_join(where, key)}' (expected one of {', '.join(known)})")
    for name in _required(cls):
        if name not in data:
            problems.add(f"missing key '{_join(where, name)}'")
    return True


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _string(value: Any, key: str, problems: _Problems, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        problems.add(f"key '{key}' must be a non-empty string, got {value!r}")
        return None
    return value


def _path(value: Any, file: Path, key: str, problems: _Problems) -> Path | None:
    text = _string(value, key, problems)
    if text is None:
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else (file.parent / path).resolve()


def _columns(data: Any, problems: _Problems) -> ColumnMap | None:
    if not _check_keys(data, ColumnMap, "tracks.columns", problems):
        return None
    values = {}
    for f in dataclasses.fields(ColumnMap):
        if f.name in data:
            values[f.name] = _string(data[f.name], f"tracks.columns.{f.name}", problems, optional=f.default is None)
    return None if any(name not in values for name in _required(ColumnMap)) else ColumnMap(**values)


def _tracks(data: Any, file: Path, problems: _Problems) -> TrackCatalog | None:
    if not _check_keys(data, TrackCatalog, "tracks", problems):
        return None
    unit = data.get("duration_unit", "auto")
    if unit not in DURATION_UNITS:
        problems.add(f"key 'tracks.duration_unit' must be one of {DURATION_UNITS}, got {unit!r}")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        problems.add(f"key 'tracks.delimiter' must be a single character, got {delimiter!r}")
    path = _path(data["path"], file, "tracks.path", problems) if "path" in data else None
    columns = _columns(data["columns"], problems) if "columns" in data else None
    root = _path(data["audio_root"], file, "tracks.audio_root", problems) if "audio_root" in data else None
    if path is None or columns is None:
        return None
    return TrackCatalog(path=path, audio_root=root or path.parent, columns=columns, duration_unit=unit,
                        delimiter=delimiter)


def _eval_set(data: Any, file: Path, problems: _Problems) -> EvalSet | None:
    if not _check_keys(data, EvalSet, "eval_set", problems):
        return None
    path = _path(data.get("path", EVAL_CSV), file, "eval_set.path", problems)
    root = _path(data["audio_root"], file, "eval_set.audio_root", problems) if "audio_root" in data else None
    return None if path is None else EvalSet(path=path, audio_root=root or path.parent)


def parse_catalog(data: Any, file: Path) -> DataCatalog:
    """Validate a parsed yaml document into a :class:`DataCatalog`.

    Raises:
        CatalogError: one message naming ``file`` and every missing, unknown or invalid key.
    """
    problems = _Problems(file)
    if data is None:
        data = {}  # an empty file: report the missing keys, not "NoneType"
    if not _check_keys(data, DataCatalog, "", problems):
        problems.raise_if_any()
    values: dict[str, Any] = {"source": file}
    left_out = []
    for f in dataclasses.fields(DataCatalog):
        if f.name == "source":
            continue
        if f.name == "tracks":
            values[f.name] = _tracks(data["tracks"], file, problems) if "tracks" in data else None
        elif f.name == "eval_set":
            values[f.name] = _eval_set(data.get("eval_set", {}), file, problems)
        elif "output" in f.metadata and f.name not in data:
            left_out.append(f)
        else:
            values[f.name] = _path(data.get(f.name, f.metadata.get("default")), file, f.name, problems)
    work = _output_folder(data, values, file)
    for f in left_out:
        values[f.name] = work / f.metadata["output"]
    problems.raise_if_any()
    return DataCatalog(**values)


def load_catalog(path: str | os.PathLike = DEFAULT_CATALOG_FILE) -> DataCatalog:
    """Load and validate ``data_catalog.yaml``.

    Raises:
        CatalogError: naming the file and every key that is wrong, in one message.
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
unpaired: {work}/unpaired.parquet
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
