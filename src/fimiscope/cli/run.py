"""`fimiscope run` (every stage from its watermark) and `fimiscope stats`."""

from __future__ import annotations

import typer

from fimiscope import pipeline
from fimiscope.cli.app import app, open_store, settings
from fimiscope.cli.output import check_format, emit_json, emit_list, emit_record, progress, stderr, stdout
from fimiscope.core.errors import InvalidInput
from fimiscope.store import Store
from fimiscope.store import stats as stats_store


@app.command("run")
def run(
    ctx: typer.Context,
    stage: list[str] = typer.Option(
        [], "--stage", help="Run only this stage (repeatable): detect.laundering, or laundering for short."
    ),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Documents per committed batch."),
    workers: int = typer.Option(
        None, "--workers", min=1, max=64,
        help="Worker processes for stages whose batches may run at once (PostgreSQL only).",
    ),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Run every stage on what is new since its last run. Safe to interrupt and re-run (even a
    killed --workers process: its batch goes back to the queue)."""
    check_format(fmt)
    chosen = set(pipeline.stage_names(stage)) if stage else None  # an unknown name fails before any work
    cfg = settings(ctx)
    store = Store.from_settings(cfg)
    if workers and workers > 1 and store.dialect != "postgresql":
        raise InvalidInput("--workers needs PostgreSQL (--database-url postgresql://...): SQLite has one writer "
                           "at a time")
    reports = []
    for cls in pipeline.stages():
        if chosen is not None and cls.name not in chosen:
            continue
        with progress(cls.name) as update:
            reports.extend(pipeline.run(store, only=[cls.name], settings=cfg, batch_size=batch_size,
                                        on_stage=lambda _c: update, workers=workers))
    for r in reports:
        if r.details.get("workers_lost"):
            stderr.print(f"warning: {r.details['workers_lost']} worker(s) of {r.stage} died; the others redid "
                         "their batches in flight")
    if fmt == "json":
        emit_json(reports)
        return
    emit_list(
        reports,
        "table",
        [
            ("stage", lambda r: r.stage),
            ("processed", lambda r: r.processed),
            ("signals", lambda r: r.signals),
            ("watermark", lambda r: r.watermark),
        ],
        title="pipeline run",
    )


@app.command("stats")
def stats(
    ctx: typer.Context,
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Counts of what the store holds."""
    check_format(fmt)
    data = open_store(ctx).read(stats_store.stats)
    if fmt == "json":
        emit_json(data)
    else:
        emit_record(data, "table", title="fimiscope store")
        stdout.print(f"stages: {', '.join(c.name for c in pipeline.stages())}")
