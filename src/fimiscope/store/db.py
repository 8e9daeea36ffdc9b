"""The ``Store`` (connections and transactions), engine creation, migrations, and the
translation of database failures into operator errors. One code path for SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext

from fimiscope.config import Settings
from fimiscope.core.errors import ConfigError, FimiscopeError, InvalidInput, Unavailable

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT_S = 10


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'fimiscope.sqlite3').resolve()}"


SQLITE_CACHE_MB = 64  # the page cache per connection unless a store is opened with another


def _sqlite_pragmas(dbapi_conn: Any, _record: Any, cache_mb: int = SQLITE_CACHE_MB) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")  # negative: KiB
    # Checkpoint every ~64 MB of WAL instead of 4 MB: fewer fsyncs during bulk import.
    cur.execute("PRAGMA wal_autocheckpoint=16384")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers take the lock up front so two of them queue (busy_timeout) instead of failing
    # mid-transaction; readers stay deferred and never block a writer under WAL.
    immediate = conn.get_execution_options().get("fimiscope_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(url: str, *, schema: str | None = None, sqlite_cache_mb: int = SQLITE_CACHE_MB) -> Engine:
    """An engine for ``url``. ``schema`` (PostgreSQL only) isolates a tenant or a test run;
    ``sqlite_cache_mb``: SQLite's page cache per connection."""
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
        event.listen(engine, "connect", lambda c, r: _sqlite_pragmas(c, r, sqlite_cache_mb))
        # Let SQLAlchemy stop issuing its own BEGIN so ours (IMMEDIATE) takes effect.
        event.listen(
            engine, "connect", lambda c, _r: setattr(c, "isolation_level", None)
        )
        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "handle_error", _translate_error)
        return engine
    if url.startswith("postgresql+psycopg"):
        connect_args: dict[str, Any] = {}
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        if "connect_timeout" not in url:
            # A host that drops packets would otherwise hold the command for minutes.
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        event.listen(engine, "handle_error", _translate_error)
        return engine
    raise ConfigError(f"unsupported database URL {url.split(':', 1)[0]!r}: use sqlite:/// or postgresql://")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision``. Safe to call on every start: it is a no-op when current.

    Each room that owns tables has its own branch of the history, rooted at the foundation
    revision ``0001``; ``heads`` brings every branch up to date. A store already at the heads
    costs one query: Alembic (half a second of imports) is loaded only when there is work.
    """
    if revision == "heads" and _at_heads(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.M)


@cache
def head_revisions() -> frozenset[str]:
    """The heads of the migration history, read from the scripts' ``revision`` and
    ``down_revision`` lines (what Alembic's script directory computes; a test holds them equal)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        fields = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(ast.literal_eval(fields["revision"]))
        down = ast.literal_eval(fields["down_revision"])
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents)


def _at_heads(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            current = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    except sa.exc.DBAPIError:  # no version table yet: a new store
        return False
    return current == head_revisions()


def current_revision(engine: Engine) -> str | None:
    """The current revisions, comma-separated (one per branch), or None on an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


# -- the store: connections and transactions --------------------------------------------------

P = ParamSpec("P")
R = TypeVar("R")


class Store:
    """The one way into the database: it opens connections and transactions; the store
    modules' functions do the work. Cheap to create; thread-safe through its engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(fimiscope_write=True)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        database_url: str | None = None,
        data_dir: Path | None = None,
        *,
        schema: str | None = None,
        upgrade: bool = True,
        sqlite_cache_mb: int = SQLITE_CACHE_MB,
    ) -> Store:
        """Open (and migrate) the store: ``database_url`` if given, else SQLite in ``data_dir``
        (``sqlite_cache_mb``: its page cache per connection)."""
        if database_url is None:
            if data_dir is None:
                raise InvalidInput("give a data folder or a database URL")
            try:
                data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Unavailable(f"cannot create the data folder {data_dir} ({exc.strerror}): check the path and "
                                  "its permissions (--data-dir / FIMISCOPE_DATA_DIR)") from exc
            database_url = sqlite_url(data_dir)
        engine = create_engine(database_url, schema=schema, sqlite_cache_mb=sqlite_cache_mb)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store the settings name: ``database_url``, else SQLite in ``data_dir``."""
        return cls.open(settings.database_url, settings.data_dir, sqlite_cache_mb=settings.sqlite_cache_mb)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    # -- connections ---------------------------------------------------------------------------

    @contextmanager
    def transaction(self, conn: Connection | None = None) -> Iterator[Connection]:
        """One atomic unit: everything written through the connection commits together or not
        at all. Given the connection of a transaction already open, joins it instead."""
        if conn is not None:
            yield conn
            return
        with self._writer.begin() as own:
            yield own

    @contextmanager
    def connect(self, conn: Connection | None = None) -> Iterator[Connection]:
        """A connection for reading (given one, that one). Under SQLite's WAL, readers never
        block the writer."""
        if conn is not None:
            yield conn
            return
        with self.engine.connect() as own:
            yield own

    def read(self, fn: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(conn, *args, **kwargs)`` on a reading connection: one store function, one call."""
        with self.connect() as conn:
            return fn(conn, *args, **kwargs)

    def write(self, fn: Callable[Concatenate[Connection, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(conn, *args, **kwargs)`` in a transaction of its own."""
        with self.transaction() as conn:
            return fn(conn, *args, **kwargs)


# -- the database's failures, in the operator's words ------------------------------------------
# The one place where a driver error becomes ours (``Unavailable``, exit code 5, HTTP 503):
# the database cannot be reached, refuses us, or is full. Everything else the driver raises
# (a constraint, a syntax error) is a bug and keeps its traceback.

_URL_HELP = "--database-url / FIMISCOPE_DATABASE_URL"
_NAMED = re.compile(r'(?:database|role|user) "([^"]+)"')
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_READONLY, _SQLITE_IOERR = 13, 14, 8, 10
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_PG_DISK_FULL, _PG_OUT_OF_MEMORY = "53100", "53200"


def _translate_error(context: ExceptionContext) -> None:
    """SQLAlchemy's ``handle_error`` hook: raise our error in place of the driver's."""
    ours = database_error(context.original_exception, context.engine.url if context.engine else None)
    if ours is not None:
        raise ours from context.original_exception


def database_error(exc: BaseException, url: URL | None) -> FimiscopeError | None:
    """What to tell the operator about a driver error, or None when it is not about reaching the
    database or its room (those are bugs and keep their traceback)."""
    if url is not None and url.get_backend_name() == "sqlite":
        return _sqlite_error(exc, url.database or "")
    import psycopg

    if not isinstance(exc, psycopg.OperationalError):
        return None
    where = f"{url.host or 'localhost'}:{url.port or 5432}" if url is not None else "the database server"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    state = getattr(exc, "sqlstate", None)
    if state == _PG_DISK_FULL or "No space left on device" in str(exc):
        return Unavailable(f"the database server at {where} is out of disk space ({first}): free space there and run "
                           "the command again; what was committed before is kept")
    if state == _PG_OUT_OF_MEMORY:
        return Unavailable(f"the database server at {where} is out of memory ({first})")
    if "does not exist" in first and "database" in first:
        name = _quoted(first) or (url.database if url is not None else "")
        return Unavailable(f"the database server at {where} has no database {name!r}: check the database name in "
                           f"{_URL_HELP}, or create it (createdb {name})")
    if ("role" in first and "does not exist" in first) or "authentication failed" in first:
        name = _quoted(first) or (url.username if url is not None else "")
        return Unavailable(f"the database server at {where} refused the user {name!r} ({_after_failed(first)}): check "
                           f"the user name and password in {_URL_HELP}")
    if "resolve host" in first or "translate host name" in first:
        host = url.host if url is not None else "?"
        return Unavailable(f"cannot find the database host {host!r} ({_after_failed(first)}): check the host name in "
                           f"{_URL_HELP}")
    if "Connection refused" in first:
        return Unavailable(f"nothing answers at {where} (connection refused): check the host and port in {_URL_HELP} "
                           "and that PostgreSQL is running there")
    return Unavailable(f"cannot reach the database server at {where} ({_after_failed(first)}): check the host and "
                       f"port in {_URL_HELP}, the network, and that PostgreSQL is running there")


def _sqlite_error(exc: BaseException, path: str) -> FimiscopeError | None:
    import sqlite3

    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None  # extended codes keep the primary in the low byte
    if primary == _SQLITE_FULL:
        return Unavailable(f"the database file {path} cannot grow: the disk is full ({exc}). Free space on that disk "
                           "and run the command again; what was committed before is kept")
    if primary == _SQLITE_IOERR:
        return Unavailable(f"the disk failed while writing the database file {path} ({exc}): check that the disk is "
                           "not full and works")
    if primary == _SQLITE_CANTOPEN:
        return Unavailable(f"cannot open the database file {path}: check that its folder exists and is writable "
                           "(--data-dir / FIMISCOPE_DATA_DIR)")
    if primary == _SQLITE_READONLY:
        return Unavailable(f"the database file {path} is read-only: check its permissions and those of its folder")
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return Unavailable(f"the database file {path} stayed locked by another process ({exc}): wait for it to "
                           "finish (a running `fimiscope run` or `collect --watch`) and try again")
    return None


def _quoted(text: str) -> str | None:
    m = _NAMED.search(text)
    return m.group(1) if m else None


def _after_failed(first: str) -> str:
    """The driver's reason without its 'connection to server at ... failed:' preamble."""
    reason = first.rsplit("failed:", 1)[-1].strip()
    return reason.replace("FATAL:", "").strip() or first
