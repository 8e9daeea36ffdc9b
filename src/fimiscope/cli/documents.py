"""`fimiscope documents show ID`: one stored document with its version history."""

from __future__ import annotations

import typer

from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import check_format, emit_record, plain
from fimiscope.store import documents as document_store

documents_app = typer.Typer(help="Look at stored documents.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")


@documents_app.command("show")
def show(
    ctx: typer.Context,
    doc_id: str = typer.Argument(..., help="Document id (doc_...)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Show a document: metadata, text and earlier versions."""
    check_format(fmt)
    store = open_store(ctx)
    doc = store.read(document_store.get_document, doc_id)
    data = plain(doc)
    data.pop("raw", None)
    meta = data.pop("metadata")
    data["version"] = meta.pop("_version", 1)
    meta.pop("_seq", None)
    data["metadata"] = meta
    data["earlier_versions"] = [
        {"version": v["version"], "title": v["title"], "recorded_at": v["recorded_at"]}
        for v in store.read(document_store.document_versions, doc_id)
    ]
    emit_record(plain(data), fmt, title=doc.title or doc.id)
