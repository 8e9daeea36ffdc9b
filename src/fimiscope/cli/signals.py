"""`fimiscope signals list|show|set-status`."""

from __future__ import annotations

import typer

from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import FORMATS_JSONL, check_format, emit_json, emit_list, emit_record, plain, stdout
from fimiscope.core.model import SignalStatus
from fimiscope.store import signals as signal_store
from fimiscope.store import workbench as wb

signals_app = typer.Typer(help="Signals found by the detectors.", no_args_is_help=True)
app.add_typer(signals_app, name="signals")


@signals_app.command("list")
def list_(
    ctx: typer.Context,
    type_: str = typer.Option(None, "--type", help="Only signals of this type (e.g. laundering)."),
    status: str = typer.Option(None, "--status", help="new, confirmed, dismissed or escalated."),
    min_score: float = typer.Option(None, "--min-score", help="Only signals scoring at least this (0..1)."),
    technique: str = typer.Option(None, "--technique", help="Only signals citing documents with this technique."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, help="At most this many signals."),
    offset: int = typer.Option(0, "--offset", min=0, help="Skip this many first (paging)."),
    sort: str = typer.Option("score", "--sort", help="score or newest"),
    fmt: str = typer.Option("table", "--format", help="table, json or jsonl"),
) -> None:
    """List signals, strongest first."""
    check_format(fmt, FORMATS_JSONL)
    if status:
        status = SignalStatus.parse(status).value
    if technique:
        from fimiscope.index.persuasion import parse_technique  # numpy: loaded when asked

        f = wb.SignalFilter(type=type_, status=status, min_score=min_score, technique=parse_technique(technique))
        rows = wb.list_signals(open_store(ctx), f, sort=sort, limit=limit, offset=offset).items
    else:
        rows = open_store(ctx).read(
            signal_store.list_signals, type=type_, status=status, min_score=min_score, limit=limit, offset=offset,
            order=sort,
        )
    emit_list(
        rows,
        fmt,
        [
            ("id", lambda s: s.id),
            ("type", lambda s: s.type),
            ("score", lambda s: s.score),
            ("status", lambda s: s.status),
            ("title", lambda s: s.title),
        ],
        empty="No signals yet. Run `fimiscope run` after collecting or importing documents.",
    )


@signals_app.command("show")
def show(
    ctx: typer.Context,
    signal_id: str = typer.Argument(..., help="Signal id (sig_...)."),
    fmt: str = typer.Option("table", "--format", help="table, json or jsonl"),
) -> None:
    """Show one signal with its evidence."""
    check_format(fmt, FORMATS_JSONL)
    sig = open_store(ctx).read(signal_store.get_signal, signal_id)
    if fmt in ("json", "jsonl"):
        emit_json(sig) if fmt == "json" else stdout.print_json(data=plain(sig), indent=None)
        return
    data = plain(sig)
    ev = data.pop("evidence")
    emit_record(data, fmt, title=sig.title)
    emit_list(
        sig.evidence,
        "table",
        [
            ("role", lambda e: e.role),
            ("document", lambda e: e.document_id),
            ("span", lambda e: f"{e.span_start}-{e.span_end}" if e.span_start is not None else ""),
            ("score", lambda e: e.score),
        ],
        title=f"evidence ({len(ev)})",
        empty="(no evidence rows)",
    )


@signals_app.command("set-status")
def set_status(
    ctx: typer.Context,
    status: str = typer.Argument(..., help="new, confirmed, dismissed or escalated"),
    signal_ids: list[str] = typer.Argument(..., help="One or more signal ids."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Record an analyst's verdict on one or more signals."""
    check_format(fmt)
    value = SignalStatus.parse(status).value
    changed = open_store(ctx).write(signal_store.set_signal_status, signal_ids, value)
    if fmt == "json":
        emit_json({"status": value, "changed": changed})
    else:
        stdout.print(f"{changed} signal(s) now {value}")
