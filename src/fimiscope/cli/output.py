"""Printing results: tables for people, JSON/JSONL for scripts (shapes in docs/cli.md).

Data goes to stdout; progress and messages go to stderr so pipes stay clean."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fimiscope.core.serialize import plain as plain  # re-exported for the command modules

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)

FORMATS = ("table", "json")
FORMATS_JSONL = ("table", "json", "jsonl")


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r}; choose one of {', '.join(allowed)}", param_hint="--format")
    return fmt


def emit_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(plain(data), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())
    sys.stdout.write("\n")


def emit_jsonl(rows: Sequence[Any]) -> None:
    for row in rows:
        sys.stdout.write(orjson.dumps(plain(row), option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


def emit_list(
    rows: Sequence[Any],
    fmt: str,
    columns: Sequence[tuple[str, Callable[[Any], Any]]],
    *,
    title: str | None = None,
    empty: str = "Nothing here yet.",
    to_json: Callable[[Any], Any] = plain,
) -> None:
    if fmt == "json":
        emit_json([to_json(r) for r in rows])
        return
    if fmt == "jsonl":
        emit_jsonl([to_json(r) for r in rows])
        return
    if not rows:
        stderr.print(empty)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for name, _ in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(get(row)) for _, get in columns])
    stdout.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def emit_record(data: dict[str, Any], fmt: str, *, title: str | None = None) -> None:
    if fmt == "json":
        emit_json(data)
        return
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in data.items():
        if isinstance(value, list | dict):
            value = orjson.dumps(plain(value)).decode() if value else ""
        table.add_row(key, _cell(value))
    stdout.print(table)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on stderr; yields ``update(done, total)``. Silent when stderr is not a TTY."""
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def update(done: int, new_total: int | None = None) -> None:
            bar.update(task, completed=done, total=new_total if new_total is not None else total)

        yield update
