"""Engine creation and migrations. One code path for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

from fimiscope.core.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'fimiscope.sqlite3').resolve()}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~64 MB of WAL instead of 4 MB: fewer fsyncs during bulk import.
    cur.execute("PRAGMA wal_autocheckpoint=16384")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front so two of them queue (busy_timeout) instead of failing
    # mid-transaction; readers stay deferred and never block a writer under WAL.
    immediate = conn.get_execution_options().get("fimiscope_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str, *, schema: str | None = None) -> Engine:
    """An engine for ``url``. ``schema`` (PostgreSQL only) isolates a tenant or a test run."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        # A pool keeps connections open between transactions: with NullPool every batch paid
        # for a fresh connection, its PRAGMAs, and the WAL checkpoint SQLite runs when the last
        # connection to a database closes (about a sixth of bulk-import time, collect_bench.py).
        in_memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        pool = sa.pool.StaticPool if in_memory else sa.pool.QueuePool
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, poolclass=pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy stop issuing its own BEGIN so ours (IMMEDIATE) takes effect.
        event.listen(
            engine, "connect", lambda c, _r: setattr(c, "isolation_level", None)
        )
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql+psycopg"):
        connect_args: dict[str, Any] = {}
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``. Safe to call on every start: it is a no-op when current.

    Each room that owns tables has its own branch of the history, rooted at the foundation
    revision ``0001``; ``heads`` brings every branch up to date.
    """
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The current revisions, comma-separated (one per branch), or None on an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None
