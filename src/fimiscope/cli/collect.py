"""`fimiscope collect` and `fimiscope sources status`: run the collectors, see how they fare."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import typer

from fimiscope.cli.app import app, open_store, settings
from fimiscope.cli.output import check_format, emit_list, plain, stderr
from fimiscope.cli.sources import sources_app
from fimiscope.store import Store


def _report_json(r: Any) -> dict[str, Any]:
    data: dict[str, Any] = plain(r)
    data["item_errors"] = r.item_errors[:20]
    data["item_error_count"] = len(r.item_errors)
    return data


def _install_stop() -> threading.Event:
    """SIGINT/SIGTERM set an event: the batch in hand is committed, then the run stops."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        stderr.print(f"{signal.Signals(signum).name}: finishing the batch in hand, then stopping")
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
    return stop


@app.command("collect")
def collect_cmd(
    ctx: typer.Context,
    source: list[str] = typer.Option([], "--source", help="Only this source (repeatable); default: all with a kind."),
    watch: bool = typer.Option(False, "--watch", help="Keep polling each source at its interval until stopped."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Collect from sources (feeds, sitemaps, pages, crawls, files) into the store."""
    from fimiscope.collect import runner

    check_format(fmt)
    cfg = settings(ctx)
    store = Store.from_settings(cfg)
    stop = _install_stop()
    if watch:

        def on_report(r: Any) -> None:
            if fmt == "json":
                sys.stdout.write(__import__("orjson").dumps(_report_json(r)).decode() + "\n")
                sys.stdout.flush()
            else:
                msg = f"{r.source}: {r.status}, {r.items} items ({r.new} new)"
                stderr.print(msg + (f" — {r.error}" if r.error else ""))

        runner.watch(store, cfg, source or None, stop=stop, on_report=on_report)
        stderr.print("stopped")
        return
    reports = runner.collect(store, cfg, source or None, stop=stop)
    emit_list(
        reports,
        fmt,
        [
            ("source", lambda r: r.source),
            ("status", lambda r: r.status),
            ("items", lambda r: r.items),
            ("new", lambda r: r.new),
            ("updated", lambda r: r.updated),
            ("item errors", lambda r: len(r.item_errors)),
            ("error", lambda r: r.error),
        ],
        empty="No collectable sources. Add one with `fimiscope sources add NAME --kind rss --location URL`.",
        to_json=_report_json,
    )


@sources_app.command("status")
def status(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, help="Days of items-per-day history."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """How each collected source fares: last success, last error, items per day, next run."""
    from fimiscope.store.collect import statuses

    check_format(fmt)
    rows = statuses(open_store(ctx), days=days)
    emit_list(
        rows,
        fmt,
        [
            ("name", lambda s: s.name),
            ("kind", lambda s: s.kind),
            ("last status", lambda s: s.last_status),
            ("last success", lambda s: s.last_success_at),
            ("last error", lambda s: f"{s.last_error_at:%Y-%m-%d %H:%M} {s.last_error}" if s.last_error else None),
            ("items/day", lambda s: " ".join(f"{d[5:]}:{n}" for d, n in sorted(s.items_per_day.items()))),
            ("total", lambda s: s.items_total),
            ("next run", lambda s: s.next_run_at),
        ],
        empty="No collected sources yet. Add one with `fimiscope sources add NAME --kind rss --location URL`.",
    )
