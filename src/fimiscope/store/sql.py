"""Small dialect bridges so the rest of the store stays one code path."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

T = TypeVar("T")


def insert_ignore(conn: Connection, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_ignore_many(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT OR IGNORE (SQLite) / INSERT ... ON CONFLICT DO NOTHING (PostgreSQL) of ``rows``,
    all with the same keys, through the driver's ``executemany`` with plain tuples. For hot
    paths that insert many small rows (the laundering stage's band keys and anchor postings):
    building a Core statement and processing its parameters row by row cost more than the
    insert itself (docs/benchmarks.md, pipeline stages by store size, fifth pass). Values go to
    the driver as they are: numbers, text, bytes; not JSON or datetimes (``sqlite_bulk_insert``
    converts those)."""
    if not rows:
        return
    cols = list(rows[0])
    names = ", ".join(cols)
    pick = operator.itemgetter(*cols) if len(cols) > 1 else (lambda row: (row[cols[0]],))
    params = [tuple(pick(row)) for row in rows]
    if conn.dialect.name == "postgresql":
        holes = ", ".join(["%s"] * len(cols))
        sql = f"INSERT INTO {table.name} ({names}) VALUES ({holes}) ON CONFLICT DO NOTHING"
    else:
        sql = f"INSERT OR IGNORE INTO {table.name} ({names}) VALUES ({', '.join('?' * len(cols))})"
    conn.exec_driver_sql(sql, params)


def upsert(conn: Connection, table: sa.Table, keys: Sequence[str], update: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET the ``update`` columns from the new row."""
    stmt: Any
    stmt = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in update}
    )


def upsert_add(conn: Connection, table: sa.Table, keys: Sequence[str], column: str) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET column = column + the new row's value: a
    counter kept per key."""
    stmt: Any
    stmt = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={column: table.c[column] + getattr(stmt.excluded, column)}
    )


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def next_values(conn: Connection, name: str, count: int) -> list[int]:
    """Reserve ``count`` increasing values of a named sequence. Call inside a transaction."""
    if count <= 0:
        raise ValueError("count must be positive")
    if conn.dialect.name == "postgresql":
        # Stages read "everything past my watermark" in seq order; if two writers interleaved
        # (A takes 10, B takes 11, B commits, a stage reads up to 11, then A commits 10), seq
        # 10 would never be read. The transaction-scoped lock makes writers that reserve seqs
        # commit in seq order; SQLite gets the same from its single writer lock.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
        values = conn.execute(
            sa.text(f"SELECT nextval('{name}') FROM generate_series(1, :n)"), {"n": count}
        ).scalars().all()
        return sorted(int(v) for v in values)
    row = conn.execute(
        sa.text("UPDATE counters SET value = value + :n WHERE name = :name RETURNING value"),
        {"n": count, "name": name},
    ).first()
    if row is None:
        conn.execute(sa.text("INSERT INTO counters(name, value) VALUES (:name, :n)"), {"name": name, "n": count})
        return list(range(1, count + 1))
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


def sqlite_bulk_insert(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, or_ignore: bool = False
) -> None:
    """executemany on the driver with plain tuples: SQLAlchemy's per-row parameter processing
    was a third of bulk-import time (benchmarks/import_bench.py). Values are converted the way
    the column types would: JSON through orjson, datetimes in SQLAlchemy's SQLite format."""
    import orjson

    from fimiscope.core.clock import to_utc

    cols = list(rows[0])
    fixes: list[tuple[int, Any]] = []
    times: dict[Any, str] = {}  # a batch's collected_at/updated_at are one value: convert it once

    def time_text(v: Any) -> str:
        text = times.get(v)
        if text is None:
            text = times[v] = to_utc(v).replace(tzinfo=None).isoformat(" ", "microseconds")
        return text

    for i, col in enumerate(cols):
        if isinstance(table.c[col].type, sa.JSON):
            fixes.append((i, lambda v: orjson.dumps(v).decode()))
        elif isinstance(table.c[col].type, sa.DateTime):
            fixes.append((i, time_text))
    pick = operator.itemgetter(*cols) if len(cols) > 1 else (lambda row: (row[cols[0]],))
    params: list[Any] = []
    for row in rows:
        values = list(pick(row))
        for i, fix in fixes:
            if values[i] is not None:
                values[i] = fix(values[i])
        params.append(tuple(values))
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    conn.exec_driver_sql(f"{verb} INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", params)


def pg_copy_insert(
    conn: Connection, table: sa.Table, cols: Sequence[str], rows: Sequence[tuple[Any, ...]], *, conflict: str = ""
) -> None:
    """PostgreSQL bulk insert: COPY the rows into a temporary staging table shaped like
    ``table``, then one ``INSERT ... SELECT`` (with ``conflict``, e.g. ``ON CONFLICT (key) DO
    NOTHING``) into the table, in the caller's transaction. COPY skips the per-statement
    parse/plan/round trip of executemany (benchmarks/import_bench.py: about 10x). JSON values
    must be given as JSON text."""
    if not rows:
        return
    stage = f"_stage_{table.name}"
    names = ", ".join(cols)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {stage}")
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table.name} WITH NO DATA"
    )
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} {conflict}")
    conn.exec_driver_sql(f"DROP TABLE {stage}")
