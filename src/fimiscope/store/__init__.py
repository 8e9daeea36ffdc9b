"""Persistence: one ``Store`` over SQLite (default) or PostgreSQL, same code, same migrations.

The ``Store`` owns the connections and nothing else (after datasette's ``Database``). What is
stored lives in modules of functions over a ``Connection``, one per kind of thing:
``sources``, ``documents``, ``search``, ``signals``, ``watermarks``, ``stats``, and one per
room (``laundering``, ``claims``, ``collect``, ...). A caller opens the connection::

    with store.connect() as conn:              # reads
        sig = signals.get_signal(conn, sig_id)
    with store.transaction() as conn:          # writes, atomic
        documents.upsert_documents(conn, docs)
    sig = store.read(signals.get_signal, sig_id)    # the same, for one call
    store.write(documents.upsert_documents, docs)

A pipeline stage is handed the connection of its batch and writes through it, so its results
and its watermark commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.engine import Connection, Engine

from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput, Unavailable
from fimiscope.store.db import create_engine, migrate, sqlite_url
from fimiscope.store.documents import UpsertResult
from fimiscope.store.sources import source_name_for

__all__ = ["Store", "UpsertResult", "source_name_for"]

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
    ) -> Store:
        """Open (and migrate) the store: ``database_url`` if given, else SQLite in ``data_dir``."""
        if database_url is None:
            if data_dir is None:
                raise InvalidInput("give a data folder or a database URL")
            try:
                data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Unavailable(f"cannot create the data folder {data_dir} ({exc.strerror}): check the path and "
                                  "its permissions (--data-dir / FIMISCOPE_DATA_DIR)") from exc
            database_url = sqlite_url(data_dir)
        engine = create_engine(database_url, schema=schema)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store the settings name: ``database_url``, else SQLite in ``data_dir``."""
        return cls.open(settings.database_url, settings.data_dir)

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
