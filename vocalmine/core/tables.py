"""Parquet artifacts with declared schemas: written atomically, checked on read."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vocalmine.core.atomic import atomic_path
from vocalmine.core.errors import CatalogError


def write_table(df: pd.DataFrame, path: str | os.PathLike, schema: pa.Schema) -> Path:
    """Write ``df`` to Parquet at ``path`` atomically, cast to ``schema``.

    Columns are selected and ordered by the schema; extra columns are dropped.

    Raises:
        CatalogError: when ``df`` lacks a column of the schema.
    """
    missing = [name for name in schema.names if name not in df.columns]
    if missing:
        raise CatalogError(f"{path}: table to write lacks column(s) {missing}")
    table = pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def read_table(path: str | os.PathLike, schema: pa.Schema) -> pd.DataFrame:
    """Read a Parquet artifact and check it has every column of ``schema``.

    Raises:
        CatalogError: when the file is missing, unreadable, or lacks a column.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: not found (run the stage that writes it first)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogError(f"{path}: not a readable Parquet file ({exc})") from exc
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise CatalogError(f"{path}: missing column(s) {missing}; expected schema columns {schema.names}")
    return table.select(schema.names).cast(schema).to_pandas()


# Rejects are shared by every stage: one row per set-aside input, with its reason.
REJECTS_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),  # ingest | pairing | content | features
        ("reason", pa.string()),  # a reason code, see mining/reasons.py and features
        ("track_id", pa.string()),  # the catalog row's id, when the reject is a row
        ("pair_id", pa.string()),  # the pair's id, when the reject is a pair or candidate
        ("detail", pa.string()),  # human-readable explanation with the offending value
        ("row", pa.string()),  # the original row(s) as JSON, so nothing is lost
    ]
)
