"""`fimiscope import jsonl|csv PATH`: documents in the generic schema."""

from __future__ import annotations

from pathlib import Path

import typer

from fimiscope.cli.app import import_app, open_store
from fimiscope.cli.output import check_format, emit_json, progress, stderr, stdout
from fimiscope.collect.generic import Note, ReadStats, open_input, parse_mapping, read_csv, read_jsonl
from fimiscope.core.errors import InvalidInput
from fimiscope.pipeline import IngestReport, ingest

_SHOW_REJECTIONS = 20


def _report(report: IngestReport, fmt: str, path: Path, notes: list[Note]) -> None:
    if fmt == "json":
        emit_json(
            {
                "file": str(path),
                "new": report.new,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": len(report.rejected),
                "rejections": [
                    {"line": r.line, "field": r.field, "reason": r.reason} for r in report.rejected
                ],
                "notes": [{"line": n.line, "field": n.field, "note": n.note} for n in notes],
            }
        )
        return
    stdout.print(
        f"{path}: [green]{report.new} new[/], {report.updated} updated, {report.unchanged} unchanged, "
        f"[{'red' if report.rejected else 'green'}]{len(report.rejected)} rejected[/]"
    )
    for rej in report.rejected[:_SHOW_REJECTIONS]:
        stdout.print(f"  rejected {rej}", markup=False, highlight=False)
    if len(report.rejected) > _SHOW_REJECTIONS:
        stdout.print(f"  ... and {len(report.rejected) - _SHOW_REJECTIONS} more (use --format json for all)")
    for note in notes[:_SHOW_REJECTIONS]:
        stdout.print(f"  imported {note}", markup=False, highlight=False)
    if len(notes) > _SHOW_REJECTIONS:
        stdout.print(f"  ... and {len(notes) - _SHOW_REJECTIONS} more notes (use --format json for all)")


def _run(ctx: typer.Context, path: Path, items_for, fmt: str) -> None:  # type: ignore[no-untyped-def]
    check_format(fmt)
    store = open_store(ctx)
    size = path.stat().st_size if path.exists() else 0
    stats = ReadStats()
    with open_input(path) as stream, progress(f"importing {path.name}", total=size or None) as update:
        report = ingest(store, items_for(stream, stats), on_batch=lambda _r: update(stats.bytes_read, None))
    _report(report, fmt, path, stats.notes)
    if report.accepted == 0 and report.rejected:
        stderr.print("error: no row of the file could be imported")
        raise typer.Exit(1)


@import_app.command("jsonl")
def import_jsonl(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="JSONL file (one document a line; .gz accepted)."),
    source: str = typer.Option(None, "--source", help="Source name for rows that do not say."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import documents from JSONL in the generic schema (docs/formats.md)."""
    _not_csv(path)
    _run(ctx, path, lambda s, st: read_jsonl(s, stats=st, default_source=source), fmt)


def _not_csv(path: Path) -> None:
    """A CSV handed to `import jsonl` would fail on every row: say which command reads it."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        raise InvalidInput(f"{path} looks like CSV: use `fimiscope import csv {path}` (with --map FIELD=COLUMN)")
    try:
        with open_input(path) as stream:
            first = next((line for line in stream if line.strip()), b"")
    except OSError:
        return  # the import itself reports a missing or unreadable file
    head = first.lstrip() if isinstance(first, bytes) else first.encode("utf-8", "replace").lstrip()
    if head and not head.startswith(b"{") and b"," in head:
        raise InvalidInput(f"{path} is not JSONL (its first line is not a JSON object) and looks like CSV: "
                           f"use `fimiscope import csv {path}`")


@import_app.command("csv")
def import_csv(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="CSV file with a header row."),
    mapping: list[str] = typer.Option(
        [], "--map", "-m", help="FIELD=COLUMN, e.g. --map text=body --map published_at=date (repeatable)."
    ),
    delimiter: str = typer.Option(",", "--delimiter", help="Column separator."),
    source: str = typer.Option(None, "--source", help="Source name for rows that do not say."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Import documents from CSV, mapping its columns to the generic schema."""
    cols = parse_mapping(mapping)

    def items(stream, stats):  # type: ignore[no-untyped-def]
        stats.bytes_read = 0
        return read_csv(stream, mapping=cols, stats=stats, default_source=source, delimiter=delimiter)

    _run(ctx, path, items, fmt)
