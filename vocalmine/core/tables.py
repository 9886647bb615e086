"""Parquet artifacts with declared schemas: written atomically, self-describing, checked on read.

Every artifact carries, in its Parquet key-value metadata under ``vocalmine``,
a JSON record: the schema version, the vocalmine version, the stage that wrote
it and the settings that stage ran with (:class:`ArtifactMeta`). A schema's
version is declared with the schema (:func:`versioned`); a file whose version is
not the one this vocalmine reads is refused with a line that says how to rebuild it.
A column added to a schema later is declared :func:`optional`: files written
before it read with nulls there, so the addition needs no new version.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vocalmine import __version__
from vocalmine.core.atomic import atomic_path
from vocalmine.core.errors import CatalogError

META_KEY = b"vocalmine"  # Parquet key-value metadata key holding the ArtifactMeta JSON
_VERSION_KEY = b"vocalmine.schema_version"  # schema-level metadata key set by versioned()
_OPTIONAL_KEY = b"vocalmine.optional"  # field-level metadata key set by optional()
UNVERSIONED = 0  # the schema version of files written before artifacts described themselves


@dataclass(frozen=True)
class ArtifactMeta:
    """What an artifact says about itself."""

    schema_version: int  # version of the artifact's schema when it was written (0: before versions existed)
    vocalmine_version: str = "unknown"  # the vocalmine package that wrote it
    stage: str | None = None  # the command that wrote it (mine, build, evaluate, ...)
    settings: dict = field(default_factory=dict)  # the settings that stage ran with, as plain JSON values
    written_at: str | None = None  # UTC time of writing, ISO 8601


def parts_folder(path: str | os.PathLike) -> Path:
    """The folder of a table's part files, beside it (``NAME.parquet.parts``): a stage writes parts there while it
    runs (checkpoints, or one part per partition) and removes them once the table holds them."""
    return Path(path).with_name(Path(path).name + ".parts")


def optional(name: str, type_: pa.DataType) -> pa.Field:
    """A column added to a schema after files of it were written: a file or frame without it reads and writes as nulls.

    Adding one needs no new schema version: every reader accepts a table with or without it.
    """
    return pa.field(name, type_, metadata={_OPTIONAL_KEY: b"1"})


def _absent_optional(schema: pa.Schema, present) -> list[pa.Field]:
    """The optional fields of ``schema`` whose column is not in ``present``."""
    return [f for f in schema if f.name not in present and (f.metadata or {}).get(_OPTIONAL_KEY) == b"1"]


def versioned(schema: pa.Schema, version: int) -> pa.Schema:
    """``schema`` with its version declared; bump it whenever the artifact's layout changes incompatibly."""
    return schema.with_metadata({**(schema.metadata or {}), _VERSION_KEY: str(int(version)).encode()})


def schema_version(schema: pa.Schema) -> int:
    """The version declared by :func:`versioned`; 1 for a schema that declares none."""
    raw = (schema.metadata or {}).get(_VERSION_KEY)
    return int(raw) if raw is not None else 1


def _plain(value: Any) -> Any:
    """Settings as JSON values: dataclasses become dicts, paths and other objects their str()."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def artifact_table(df: pd.DataFrame | pa.Table, path: str | os.PathLike, schema: pa.Schema, *,
                   stage: str | None = None, settings: Mapping[str, Any] | Any = None) -> pa.Table:
    """``df`` as the Arrow table :func:`write_table` writes: cast to ``schema``, with an :class:`ArtifactMeta`.

    Columns are selected and ordered by the schema; extra columns are dropped, an absent optional one is null.

    Args:
        df: the rows to write.
        path: the artifact's file.
        schema: its declared schema (see :func:`versioned`).
        stage: the command that writes it, so a stale file can say how to rebuild it.
        settings: the settings the stage ran with (a mapping or a config dataclass); kept as JSON.

    Raises:
        CatalogError: when ``df`` lacks a column of the schema.
    """
    if isinstance(df, pa.Table):  # already Arrow (a table too large to hold as Python objects)
        missing = [name for name in schema.names if name not in df.column_names]
        if missing:
            raise CatalogError(f"{path}: table to write lacks column(s) {missing}")
        table = df.select(schema.names).cast(schema)
    else:
        df = df.assign(**{f.name: None for f in _absent_optional(schema, df.columns)})
        missing = [name for name in schema.names if name not in df.columns]
        if missing:
            raise CatalogError(f"{path}: table to write lacks column(s) {missing}")
        table = pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **_meta_entry(schema, stage, settings)})


def write_table(df: pd.DataFrame | pa.Table, path: str | os.PathLike, schema: pa.Schema, *, stage: str | None = None,
                settings: Mapping[str, Any] | Any = None) -> Path:
    """Write ``df`` to Parquet at ``path`` atomically, cast to ``schema``, with an :class:`ArtifactMeta`
    (:func:`artifact_table`).

    Raises:
        CatalogError: when ``df`` lacks a column of the schema.
    """
    table = artifact_table(df, path, schema, stage=stage, settings=settings)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def _meta_entry(schema: pa.Schema, stage: str | None, settings: Mapping[str, Any] | Any) -> dict[bytes, bytes]:
    meta = ArtifactMeta(
        schema_version=schema_version(schema),
        vocalmine_version=__version__,
        stage=stage,
        settings=_plain(settings) if settings is not None else {},
        written_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    return {META_KEY: json.dumps(dataclasses.asdict(meta)).encode()}


def write_batches(batches: Iterable[pa.RecordBatch | pa.Table], path: str | os.PathLike, schema: pa.Schema, *,
                  stage: str | None = None, settings: Mapping[str, Any] | Any = None) -> Path:
    """:func:`write_table` for a table too large to hold: ``batches`` (of ``schema``'s columns) are written one
    row group each, atomically, with the same metadata."""
    schema = schema.with_metadata({**(schema.metadata or {}), **_meta_entry(schema, stage, settings)})
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            for batch in batches:
                writer.write(pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch)
    return Path(path)


def _meta_from(metadata: dict[bytes, bytes] | None) -> ArtifactMeta:
    raw = (metadata or {}).get(META_KEY)
    if raw is None:
        return ArtifactMeta(schema_version=UNVERSIONED)
    try:
        data = json.loads(raw)
        known = {f.name for f in dataclasses.fields(ArtifactMeta)}
        return ArtifactMeta(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError):
        return ArtifactMeta(schema_version=UNVERSIONED)


def read_metadata(path: str | os.PathLike) -> ArtifactMeta:
    """The :class:`ArtifactMeta` of a Parquet artifact (schema_version 0 when it has none).

    Raises:
        CatalogError: when the file is missing or not Parquet.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: not found (run the stage that writes it first)")
    try:
        return _meta_from(pq.read_schema(path).metadata)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{path}: not a readable Parquet file ({exc})") from exc


def _rebuild_hint(meta: ArtifactMeta, stage: str | None = None) -> str:
    stage = meta.stage or stage
    command = f"`vocalmine {stage}`" if stage else "the stage that writes it"
    return f"delete it and re-run {command} to rebuild it"


def check_version(path: Path, meta: ArtifactMeta, schema: pa.Schema, *, stage: str | None = None) -> None:
    """Raise CatalogError unless the file's schema version is the one ``schema`` declares.

    ``stage`` names the command that writes the artifact, for files that do not record it.
    """
    expected = schema_version(schema)
    if meta.schema_version == expected:
        return
    if meta.schema_version < expected:
        written = "before artifacts carried a version" if meta.schema_version == UNVERSIONED else (
            f"with schema version {meta.schema_version} by vocalmine {meta.vocalmine_version}")
        raise CatalogError(f"{path}: written {written}; this vocalmine ({__version__}) reads schema version "
                           f"{expected}: {_rebuild_hint(meta, stage)}")
    raise CatalogError(f"{path}: written with schema version {meta.schema_version} by vocalmine "
                       f"{meta.vocalmine_version}, "
                       f"newer than this vocalmine ({__version__}, schema version {expected}): upgrade vocalmine, or "
                       f"{_rebuild_hint(meta, stage)}")


def read_table(path: str | os.PathLike, schema: pa.Schema, *, stage: str | None = None) -> pd.DataFrame:
    """Read a Parquet artifact and check its schema version and that it has every column of ``schema``.

    An optional column (:func:`optional`) the file lacks reads as nulls.

    ``stage`` (mine, build, ...) is the command that writes the artifact, named in the error of a file
    too old to record it.

    Raises:
        CatalogError: when the file is missing, unreadable, of another schema version, or lacks a column.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: not found (run the stage that writes it first)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{path}: not a readable Parquet file ({exc})") from exc
    check_version(path, _meta_from(table.schema.metadata), schema, stage=stage)
    for f in _absent_optional(schema, table.column_names):  # a file written before the column existed
        table = table.append_column(f, pa.nulls(len(table), f.type))
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise CatalogError(f"{path}: missing column(s) {missing}; expected schema columns {schema.names}")
    return table.select(schema.names).cast(schema).to_pandas()


# Rejects are shared by every stage: one row per set-aside input, with its reason.
REJECTS_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),  # ingest | pairing | content | features
        ("reason", pa.string()),  # a reason code, see vocalmine/core/contract/mining_reasons.py and features
        ("track_id", pa.string()),  # the catalog row's id, when the reject is a row
        ("pair_id", pa.string()),  # the pair's id, when the reject is a pair or candidate
        ("detail", pa.string()),  # human-readable explanation with the offending value
        ("row", pa.string()),  # the original row(s) as JSON, so nothing is lost
    ]
)
