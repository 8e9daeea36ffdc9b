"""`fimiscope export parquet`: the store's documents, signals, clusters, groups and incidents
as Parquet files for DuckDB, pandas, polars or Spark."""

from __future__ import annotations

from pathlib import Path

import typer

from fimiscope.cli.app import export_app, open_store
from fimiscope.cli.output import check_format, emit_json, emit_list
from fimiscope.core.errors import InvalidInput


@export_app.command("parquet")
def export_parquet(
    ctx: typer.Context,
    out_dir: Path = typer.Argument(..., help="Folder to write <table>.parquet files into (created)."),
    only: list[str] = typer.Option(
        [], "--only", help="Only these (repeatable): documents, signals, clusters, groups, incidents."
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Export the store as Parquet (one file per table), readable by DuckDB, pandas and polars."""
    from fimiscope.share import parquet

    check_format(fmt)
    unknown = [o for o in only if o not in parquet.GROUPS]
    if unknown:
        raise InvalidInput(f"unknown export {unknown[0]!r}; choose from {', '.join(parquet.GROUPS)}")
    written = parquet.export_parquet(open_store(ctx), out_dir, only or None)
    if fmt == "json":
        emit_json([{"table": w.table, "path": w.path, "rows": w.rows} for w in written])
        return
    emit_list(written, "table", [("table", lambda w: w.table), ("rows", lambda w: w.rows),
                                 ("path", lambda w: w.path)], title="parquet export")
