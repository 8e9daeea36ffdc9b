"""The collection runner: runs each collectable source's connector, extracts fetched pages,
stores documents a batch per transaction with the connector's state in the same transaction,
and records each run (table ``collect_runs``) and the source's schedule (``collect_state``).

It sits above the connectors (``fimiscope.collect.base`` and one module per kind), which never
write to the store: only this module does. Killing a run loses at most the batch in flight;
a failing source is recorded and the next one runs. See docs/sources.md.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fimiscope.collect.base import CollectContext, ItemError, RawPage, connectors
from fimiscope.collect.fetch import Fetcher
from fimiscope.config import Settings
from fimiscope.core.clock import utcnow
from fimiscope.core.errors import FimiscopeError, InvalidInput
from fimiscope.core.model import Document, Source
from fimiscope.extract.html import extract
from fimiscope.store import Store
from fimiscope.store import collect as collect_store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

DEFAULT_INTERVAL_S = 3600  # a source without --interval is polled hourly by --watch
MAX_BACKOFF_S = 24 * 3600
_ERRORS_KEPT = 20  # item errors kept in a run's details


@dataclass(slots=True)
class CollectReport:
    source: str
    status: str = "ok"  # ok, partial (some items failed), error (the source failed), stopped
    items: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # pages without main text that were optional (crawl navigation pages)
    item_errors: list[str] = field(default_factory=list)
    error: str | None = None
    next_run_at: datetime | None = None
    seconds: float = 0.0


def _page_document(page: RawPage) -> Document:
    """A fetched page -> Document. Extraction first; the feed's/sitemap's hints fill gaps."""
    ex = extract(page.body, page.url, encoding=page.encoding)
    hints = page.hints or {}
    metadata: dict[str, Any] = {"content_type": page.content_type, "encoding": page.encoding}
    url = page.url
    if ex.canonical_url and _same_site(ex.canonical_url, page.url, page.source):
        # A page's own canonical URL is its identity (tracking parameters, mirrors, loopback
        # copies collapse into one document); a canonical pointing at another site is not trusted.
        metadata["fetched_url"] = page.url
        url = ex.canonical_url
    return Document(
        text=ex.text,
        url=url,
        source=page.source,
        title=ex.title or hints.get("title"),
        author=ex.author or hints.get("author"),
        # a feed's timestamp is exact; a date extracted from the page is often the day alone
        published_at=hints.get("published_at") or ex.published_at,
        language=ex.language or hints.get("language"),
        canonical_url=ex.canonical_url,
        links=list(ex.links),
        collected_at=page.fetched_at,
        raw=page.body,
        metadata=metadata,
    )


def _same_site(canonical: str, fetched: str, source: str | None) -> bool:
    host = (urlsplit(canonical).hostname or "").removeprefix("www.")
    if not host or urlsplit(canonical).scheme not in ("http", "https"):
        return False
    return host in {(urlsplit(fetched).hostname or "").removeprefix("www."), (source or "").removeprefix("www.")}


def next_run(interval_s: int | None, failures: int, now: datetime) -> datetime:
    """When a source is next due: its interval with ±10% jitter, doubled per consecutive failure."""
    base = interval_s or DEFAULT_INTERVAL_S
    if failures:
        base = min(base * (2 ** min(failures, 16)), max(MAX_BACKOFF_S, interval_s or 0))
    return now + timedelta(seconds=base * random.uniform(0.9, 1.1))


def collect_source(
    store: Store,
    settings: Settings,
    source: Source,
    *,
    stop: threading.Event | None = None,
    on_item: Callable[[CollectReport], None] | None = None,
) -> CollectReport:
    """Collect one source. Never raises for the source's own failure: it is recorded."""
    if source.id is None:
        raise InvalidInput(f"source {source.name!r} is not in the store: add it with `fimiscope sources add`")
    source_id = source.id
    t0 = time.monotonic()
    report = CollectReport(source=source.name)
    log_lines: list[str] = []
    with store.transaction() as conn:
        state = collect_store.load_state(conn, source_id)
        run_id = collect_store.start_run(conn, source_id, utcnow())
    batch: dict[str, Document] = {}
    batch_size = max(1, settings.batch_size)

    def flush() -> None:
        docs = list(batch.values())
        with store.transaction() as conn:
            result = document_store.upsert_documents(conn, docs)
            collect_store.save_state(conn, source_id, state, items=len(docs))
            collect_store.update_run(
                conn, run_id, items=report.items + len(docs), new=report.new + result.new,
                updated=report.updated + result.updated, item_errors=len(report.item_errors),
            )
        report.items += len(docs)
        report.new += result.new
        report.updated += result.updated
        report.unchanged += result.unchanged
        batch.clear()

    validators = state.setdefault("http_validators", {})
    fetcher = Fetcher.from_settings(settings, validators=validators)
    ctx = CollectContext(settings=settings, state=state, fetcher=fetcher, log=log_lines.append)
    try:
        cls = connectors().get(source.kind or "")
        if cls is None:
            raise FimiscopeError(f"unknown source kind {source.kind!r}; kinds: {', '.join(connectors())}")
        for item in cls().collect(source, ctx):
            if isinstance(item, ItemError):
                report.item_errors.append(f"{item.where}: {item.reason}")
            elif isinstance(item, RawPage):
                try:
                    doc = _page_document(item)
                except FimiscopeError as exc:
                    if (item.hints or {}).get("optional"):
                        report.skipped += 1
                    else:
                        report.item_errors.append(f"{item.url}: {exc}")
                else:
                    batch[doc.key] = doc
            elif isinstance(item, Document):
                item.source = item.source or source.name
                batch[item.key] = item
            if len(batch) >= batch_size:
                flush()
            if on_item:
                on_item(report)
            if stop is not None and stop.is_set():
                report.status = "stopped"
                break
        if batch:
            flush()
        else:  # nothing new, but the state (validators, seen) may have moved on
            with store.transaction() as conn:
                collect_store.save_state(conn, source_id, state)
    except Exception as exc:  # the source failed as a whole: record it and go on with the next
        try:
            if batch:
                flush()  # keep what was fetched before the failure
        except Exception as inner:
            log_lines.append(f"could not store the last batch: {inner}")
        report.status = "error"
        report.error = str(exc) if isinstance(exc, FimiscopeError) else f"{type(exc).__name__}: {exc}"
    finally:
        fetcher.close()
    if report.status == "ok" and report.item_errors:
        report.status = "partial"
        if not report.items:
            report.status = "error"
        first = report.item_errors[0]
        report.error = f"{len(report.item_errors)} item(s) failed; first: {first}"
    with store.transaction() as conn:
        now = utcnow()
        fails = collect_store.failures(conn, source_id) + (1 if report.status == "error" else 0)
        report.next_run_at = next_run(source.interval_s, fails if report.status == "error" else 0, now)
        if report.status == "stopped":  # cut short: due again as soon as a watcher runs
            report.next_run_at = now
        collect_store.finish_run(
            conn, source_id, run_id, status=report.status, error=report.error, next_run_at=report.next_run_at,
            details={"item_errors": report.item_errors[:_ERRORS_KEPT], "log": log_lines[:_ERRORS_KEPT],
                     "skipped": report.skipped},
            counts={"items": report.items, "new": report.new, "updated": report.updated,
                    "item_errors": len(report.item_errors)},
        )
    report.seconds = time.monotonic() - t0
    return report


def collect(
    store: Store,
    settings: Settings,
    source_names: Sequence[str] | None = None,
    *,
    due_only: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[CollectReport], None] | None = None,
) -> list[CollectReport]:
    """Collect every collectable source (``kind`` set), or the named ones, one after the other.
    A failing source is recorded and the next one runs. ``stop`` ends the run after the batch
    in hand is committed."""
    if source_names:
        chosen = [store.read(source_store.get_source, n) for n in source_names]
        missing = [s.name for s in chosen if not s.kind]
        if missing:
            raise InvalidInput(f"source(s) {', '.join(missing)} have no --kind: nothing to collect them with")
    else:
        chosen = store.read(source_store.list_sources, collected_only=True)
    if due_only:
        due = collect_store.next_runs(store)
        now = utcnow()
        chosen = [s for s in chosen if (when := due.get(s.name)) is None or when <= now]
    reports = []
    for src in chosen:
        if stop is not None and stop.is_set():
            break
        reports.append(collect_source(store, settings, src, stop=stop, on_item=on_progress))
    return reports


def watch(
    store: Store,
    settings: Settings,
    source_names: Sequence[str] | None = None,
    *,
    stop: threading.Event,
    on_report: Callable[[CollectReport], None] | None = None,
    max_sleep_s: float = 60.0,
) -> None:
    """Poll sources as they fall due until ``stop`` is set. The schedule lives in the store
    (collect_state.next_run_at), so a restarted watcher picks up where the last one was."""
    while not stop.is_set():
        for report in collect(store, settings, source_names, due_only=True, stop=stop):
            if on_report:
                on_report(report)
        if stop.is_set():
            break
        due = collect_store.next_runs(store)
        if source_names:
            due = {k: v for k, v in due.items() if k in source_names}
        now = utcnow()
        waits = [max((w - now).total_seconds(), 0.0) for w in due.values() if w is not None]
        pause = min([*waits, max_sleep_s]) if waits else max_sleep_s
        stop.wait(max(pause, 0.2))
