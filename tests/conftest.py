"""Shared fixtures: a real store on SQLite and, when FIMISCOPE_TEST_DATABASE_URL is set, on
PostgreSQL too (each test in its own schema, dropped afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from fimiscope.store import Store

PG_URL = os.environ.get("FIMISCOPE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _pg_schema_url(schema: str) -> str:
    assert PG_URL
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fimiscope.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set FIMISCOPE_TEST_DATABASE_URL (.ci/run does)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store.open(database_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(None, tmp_path / "data")
    yield s
    s.close()


class Cli:
    """Runs the real CLI in-process against one database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()

    def __call__(self, *args: str, ok: bool = True, input: str | None = None):  # type: ignore[no-untyped-def]
        from fimiscope.cli import app

        result = self.runner.invoke(app, ["--database-url", self.database_url, *args], input=input)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"fimiscope {' '.join(args)} exited {result.exit_code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli(database_url)
