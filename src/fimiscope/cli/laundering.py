"""`fimiscope detect laundering` and `fimiscope clusters list|show|sources`: republication chains."""

from __future__ import annotations

import typer

from fimiscope.cli.app import app, detect_app, open_store, run_stages
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, stdout
from fimiscope.core.clock import lag_text
from fimiscope.store import laundering as db

clusters_app = typer.Typer(help="Clusters of republished content and their chains.", no_args_is_help=True)
app.add_typer(clusters_app, name="clusters")


def _lag(seconds: float | None) -> str:
    return lag_text(seconds, unknown="?", space="")


@detect_app.command("laundering")
def detect_laundering(
    ctx: typer.Context,
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Documents per committed batch."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Find republished and translated copies of new documents, update clusters, write signals."""
    check_format(fmt)
    (report,) = run_stages(ctx, ["detect.laundering"], batch_size)
    if fmt == "json":
        emit_json(report)
        return
    stdout.print(f"laundering: {report.processed} documents, {report.signals} signals, watermark {report.watermark}")


@clusters_app.command("list")
def list_(
    ctx: typer.Context,
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many clusters."),
    min_size: int = typer.Option(2, "--min-size", min=2, help="Smallest cluster to list."),
    sort: str = typer.Option(
        "affiliation", "--sort", help="affiliation (state-affiliated origins first), size, time or updated."
    ),
    affiliation: str = typer.Option(
        None, "--affiliation", help="Only origins of this affiliation (flagged: any state affiliation)."
    ),
    lang: str = typer.Option(None, "--lang", "--language", help="Only clusters with a member in this language."),
    stripped: bool = typer.Option(False, "--stripped", help="Only clusters with a copy that strips the attribution."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Clusters: chains from state-affiliated origins first, then the most recently updated."""
    check_format(fmt)
    store = open_store(ctx)
    with store.connect() as conn:
        rows = db.list_clusters(conn, limit=limit, min_size=min_size, sort=sort, affiliation=affiliation,
                                language=lang, stripped=stripped)
    emit_list(
        rows,
        fmt,
        [
            ("size", lambda r: r["size"]),
            ("stripped", lambda r: r["stripped_copies"]),
            ("languages", lambda r: ",".join(r["languages"])),
            ("origin", lambda r: r["origin_source"]),
            ("affiliation", lambda r: r["origin_affiliation"]),
            ("first published", lambda r: (r["first_published_at"] or "")[:16]),
            ("title", lambda r: (r["origin_title"] or "")[:60]),
            ("id", lambda r: r["id"]),
        ],
        title="clusters",
        empty="No clusters yet: run `fimiscope detect laundering`.",
    )


@clusters_app.command("show")
def show(
    ctx: typer.Context,
    cluster_id: str = typer.Argument(..., help="Cluster id (clu_...)."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """A cluster: its members (origin first) and its chain edges copier -> copied."""
    check_format(fmt)
    store = open_store(ctx)
    from fimiscope.detect import laundering  # the detector's modules load only for the commands that use them

    with store.connect() as conn:
        data = db.get_cluster(conn, cluster_id)
        data["alignments"] = laundering.cluster_alignments(conn, data)
    if fmt == "json":
        emit_json(data)
        return
    emit_record(
        {k: data[k] for k in ("id", "size", "languages", "origin_document_id", "origin_reason", "first_published_at")},
        "table",
        title=f"cluster {cluster_id}",
    )
    emit_list(
        data["members"],
        "table",
        [
            ("role", lambda m: m["role"]),
            ("document", lambda m: m["document_id"]),
            ("source", lambda m: m["source"]),
            ("affiliation", lambda m: m["affiliation"]),
            ("lang", lambda m: m["language"]),
            ("published", lambda m: (m["published_at"] or "")[:16]),
            ("similarity", lambda m: m["similarity"]),
            ("method", lambda m: m["method"]),
        ],
        title="members",
    )
    emit_list(
        data["edges"],
        "table",
        [
            ("copier", lambda e: e["copier_document_id"]),
            ("copied", lambda e: e["copied_document_id"]),
            ("method", lambda e: e["method"]),
            ("similarity", lambda e: e["similarity"]),
            ("lag", lambda e: _lag(e["lag_s"])),
            ("attribution", lambda e: e["attribution"]),
            (
                "paragraphs",
                lambda e: ",".join(str(p["copier_paragraph"]) for p in e["details"].get("paragraphs") or []),
            ),
        ],
        title="chain (copier -> copied)",
    )


@clusters_app.command("sources")
def sources_stats(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Per source: copies, copies of flagged-origin content, stripped attribution, median lag."""
    check_format(fmt)
    store = open_store(ctx)
    with store.connect() as conn:
        rows = db.source_stats(conn)
    emit_list(
        rows,
        fmt,
        [
            ("source", lambda r: r["source"]),
            ("copies", lambda r: r["copies"]),
            ("of flagged", lambda r: r["copies_of_flagged"]),
            ("stripped", lambda r: r["stripped_attribution"]),
            ("median lag", lambda r: _lag(r["median_lag_s"])),
        ],
        title="republishing sources",
    )
