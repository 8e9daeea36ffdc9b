"""Parquet export of what the store holds, for the analyst's other tools (DuckDB, pandas,
polars, Spark): one file per table, written in row groups so memory stays bounded whatever
the store's size.

Column types follow the table definitions: text as UTF-8 strings, integers as int64, floats
as float64, booleans, times as UTC timestamps (microseconds), JSON columns as their JSON
text (``json_extract`` in DuckDB, ``json.loads`` in pandas). pyarrow is in the ``parquet``
extra (``pip install 'fimiscope[parquet]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from fimiscope.core.clock import to_utc
from fimiscope.core.errors import Unavailable
from fimiscope.store import Store, tables_cases, tables_coordination, tables_laundering
from fimiscope.store import tables as core_tables

# What `fimiscope export parquet --only` accepts, and the tables each name writes.
GROUPS: dict[str, tuple[sa.Table, ...]] = {
    "documents": (core_tables.documents, core_tables.sources),
    "signals": (core_tables.signals, core_tables.evidence),
    "clusters": (tables_laundering.laundering_clusters, tables_laundering.laundering_members,
                 tables_laundering.laundering_edges),
    "groups": (tables_coordination.coordination_groups, tables_coordination.coordination_members),
    "incidents": (tables_cases.incidents, tables_cases.incident_signals),
}
ROW_GROUP = 20_000


@dataclass(slots=True)
class Written:
    table: str
    path: str
    rows: int


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise Unavailable("Parquet export needs pyarrow: pip install 'fimiscope[parquet]'") from exc
    return pyarrow


def _column(pa: Any, col: sa.Column[Any]) -> tuple[Any, Callable[[Any], Any] | None]:
    """The Arrow type of a column, and how to convert a stored value to it (None: as is)."""
    kind = col.type
    if isinstance(kind, sa.JSON):
        return pa.string(), lambda v: orjson.dumps(v).decode()
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us", tz="UTC"), lambda v: to_utc(v) if isinstance(v, datetime) else v
    if isinstance(kind, sa.Boolean):
        return pa.bool_(), bool
    if isinstance(kind, sa.Integer):
        return pa.int64(), None
    if isinstance(kind, sa.Float):
        return pa.float64(), None
    if isinstance(kind, sa.LargeBinary):
        return pa.binary(), None
    return pa.string(), None


def export_table(store: Store, table: sa.Table, path: Path, *, row_group: int = ROW_GROUP) -> int:
    """Write ``table`` to ``path`` as Parquet, ``row_group`` rows at a time; returns the rows."""
    pa = _pyarrow()
    import pyarrow.parquet as pq

    fields = []
    convert: list[Callable[[Any], Any] | None] = []
    for col in table.columns:
        arrow, fix = _column(pa, col)
        fields.append(pa.field(col.name, arrow, nullable=True))
        convert.append(fix)
    schema = pa.schema(fields)
    order = list(table.primary_key.columns) or list(table.columns)[:1]
    rows = 0
    tmp = path.with_suffix(".parquet.part")
    with store.connect() as conn, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        result = conn.execution_options(stream_results=True, yield_per=row_group).execute(
            sa.select(table).order_by(*order)
        )
        for part in result.partitions(row_group):
            columns: list[list[Any]] = [[] for _ in fields]
            for row in part:
                for i, value in enumerate(row):
                    fix = convert[i]
                    columns[i].append(fix(value) if fix is not None and value is not None else value)
            writer.write_table(pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, fields,
                                                                                               strict=True)],
                                                    schema=schema))
            rows += len(part)
    tmp.replace(path)
    return rows


def export_parquet(store: Store, out_dir: Path, only: Sequence[str] | None = None) -> list[Written]:
    """Every table of the chosen groups (all by default) to ``out_dir/<table>.parquet``."""
    _pyarrow()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in only or list(GROUPS):
        for table in GROUPS[name]:
            path = out_dir / f"{table.name}.parquet"
            written.append(Written(table.name, str(path), export_table(store, table, path)))
    return written
