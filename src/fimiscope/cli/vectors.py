"""`fimiscope vectors list|forget`: the encoder vectors the store keeps, by model."""

from __future__ import annotations

import typer

from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import check_format, emit_list, emit_record
from fimiscope.core.errors import NotFound

vectors_app = typer.Typer(help="Stored encoder vectors (claims, document sentences), by model.", no_args_is_help=True)
app.add_typer(vectors_app, name="vectors")


@vectors_app.command("list")
def list_(ctx: typer.Context, fmt: str = typer.Option("table", "--format", help="table or json")) -> None:
    """Which models have vectors stored, per kind: items, vectors, dimension."""
    from fimiscope.store import vectors as vector_store  # numpy: loaded by the commands that use it

    check_format(fmt)
    rows = open_store(ctx).read(vector_store.list_models)
    emit_list(
        rows,
        fmt,
        [("kind", lambda r: r["kind"]), ("model", lambda r: r["model"]), ("items", lambda r: r["items"]),
         ("vectors", lambda r: r["vectors"]), ("dim", lambda r: r["dim"])],
        title="stored vectors",
    )


@vectors_app.command("forget")
def forget(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="The model as `vectors list` names it (name@version)."),
    kind: str = typer.Option(None, "--kind", help="Only this kind (claim or sentences)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Delete a model's stored vectors (after a model change, the old ones are kept until then)."""
    from fimiscope.store import vectors as vector_store  # numpy: loaded by the commands that use it

    check_format(fmt)
    deleted = open_store(ctx).write(vector_store.forget_model, model, kind)
    if not deleted:
        raise NotFound(f"no vectors of model {model!r}{f' and kind {kind!r}' if kind else ''}: see `fimiscope "
                       "vectors list`")
    emit_record({"model": model, "kind": kind, "deleted": deleted}, fmt, title="vectors forgotten")
