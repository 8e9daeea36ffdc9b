"""Runs the stages in order, each from its own watermark.

A document stage reads documents whose ``seq`` is past its watermark, in batches; each
batch's results and the new watermark commit in one transaction. Killing a run loses at
most the batch in flight, and the next run starts after the last committed batch.

Stages register themselves (``@register``) in the module that implements them; this file
imports the rooms that hold stages so that they can.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.model import Document
from fimiscope.store import Store


@dataclass(slots=True)
class StageReport:
    stage: str
    processed: int = 0
    signals: int = 0
    watermark: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class Stage:
    """A pipeline step. Subclass ``DocumentStage`` for per-document work; override ``run`` for
    stages that look at the whole store (clustering, graph detectors)."""

    name: ClassVar[str]
    order: ClassVar[int] = 50  # extract stages < 50 <= detectors
    description: ClassVar[str] = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Stage:
        """The stage as configured by ``settings``; override to take what it needs from them."""
        return cls()

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        raise NotImplementedError


class DocumentStage(Stage):
    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        """Handle one batch inside ``conn``'s transaction; return the number of signals written."""
        raise NotImplementedError

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        report = StageReport(stage=self.name, watermark=store.watermark(self.name))
        total = max(store.max_document_seq() - report.watermark, 0)
        while True:
            with store.transaction() as conn:
                start = store.watermark(self.name, conn)
                docs = store.documents_after(start, batch_size, conn)
                if not docs:
                    break
                report.signals += self.process(store, docs, conn)
                report.watermark = int(docs[-1].metadata["_seq"])
                store.set_watermark(self.name, report.watermark, conn)
            report.processed += len(docs)
            progress(report.processed, max(total, report.processed))
        return report


_STAGES: dict[str, type[Stage]] = {}
_ROOMS = ("fimiscope.extract", "fimiscope.detect")


def register(cls: type[Stage]) -> type[Stage]:
    if cls.name in _STAGES and _STAGES[cls.name] is not cls:
        raise ValueError(f"two stages are named {cls.name!r}")
    _STAGES[cls.name] = cls
    return cls


def _load_rooms() -> None:
    for room in _ROOMS:
        pkg = importlib.import_module(room)
        for info in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{room}.{info.name}")


def stages() -> list[type[Stage]]:
    _load_rooms()
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


def run(
    store: Store,
    *,
    only: Sequence[str] | None = None,
    settings: Settings | None = None,
    batch_size: int | None = None,
    on_stage: Callable[[type[Stage]], Callable[[int, int], None]] | None = None,
) -> list[StageReport]:
    """Run every registered stage (or ``only`` those), in order, each built with
    ``from_settings(settings)`` (``Settings()`` when not given); ``batch_size`` overrides the
    setting."""
    settings = settings if settings is not None else Settings()
    batch_size = batch_size or settings.batch_size
    chosen = stages()
    if only:
        unknown = set(only) - {s.name for s in chosen}
        if unknown:
            from fimiscope.core.errors import InvalidInput

            names = ", ".join(s.name for s in chosen)
            raise InvalidInput(f"unknown stage(s) {', '.join(sorted(unknown))}; stages are: {names}")
        chosen = [s for s in chosen if s.name in only]
    reports = []
    for cls in chosen:
        progress = on_stage(cls) if on_stage else (lambda _done, _total: None)
        reports.append(cls.from_settings(settings).run(store, batch_size=batch_size, progress=progress))
    return reports


@dataclass(slots=True)
class IngestReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Any] = field(default_factory=list)  # collect.generic.Rejection

    @property
    def accepted(self) -> int:
        return self.new + self.updated + self.unchanged


def ingest(
    store: Store,
    items: Any,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Store documents from an iterator of ``Document | Rejection``, a batch per transaction.

    Rejections are collected, never raised: the rest of the input still goes in, and what a
    batch committed stays committed if a later one fails.
    """
    report = IngestReport()
    batch: list[Document] = []

    def flush() -> None:
        result = store.upsert_documents(batch)
        report.new += result.new
        report.updated += result.updated
        report.unchanged += result.unchanged
        batch.clear()
        if on_batch:
            on_batch(report)

    for item in items:
        if isinstance(item, Document):
            batch.append(item)
            if len(batch) >= batch_size:
                flush()
        else:
            report.rejected.append(item)
    if batch:
        flush()
    return report


# -- extension points for the demo -------------------------------------------------------------
# Rooms that add data to the demo (claims, collection over loopback) register here, so the
# demo command needs no ladder of imports.

_DEMO_HOOKS: list[Callable[[Store, Any], dict[str, Any]]] = []


def demo_hook(fn: Callable[[Store, Any], dict[str, Any]]) -> Callable[[Store, Any], dict[str, Any]]:
    """Register ``fn(store, scenario) -> counts`` to run after the demo's documents are stored."""
    _DEMO_HOOKS.append(fn)
    return fn


def demo_hooks() -> list[Callable[[Store, Any], dict[str, Any]]]:
    _load_rooms()
    return list(_DEMO_HOOKS)
# -- collection (issue 3) ---------------------------------------------------------------------
# Runs each collectable source's connector, extracts fetched pages, stores documents a batch
# per transaction with the connector's state in the same transaction, and records each run
# (table collect_runs) and the source's schedule (collect_state). See docs/sources.md.

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
    next_run_at: Any = None
    seconds: float = 0.0


def _page_document(page: Any) -> Document:
    """A fetched page -> Document. Extraction first; the feed's/sitemap's hints fill gaps."""
    from fimiscope.extract.html import extract

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
    from urllib.parse import urlsplit

    host = (urlsplit(canonical).hostname or "").removeprefix("www.")
    if not host or urlsplit(canonical).scheme not in ("http", "https"):
        return False
    return host in {(urlsplit(fetched).hostname or "").removeprefix("www."), (source or "").removeprefix("www.")}


def next_run(interval_s: int | None, failures: int, now: Any) -> Any:
    """When a source is next due: its interval with ±10% jitter, doubled per consecutive failure."""
    import random
    from datetime import timedelta

    base = interval_s or DEFAULT_INTERVAL_S
    if failures:
        base = min(base * (2 ** min(failures, 16)), max(MAX_BACKOFF_S, interval_s or 0))
    return now + timedelta(seconds=base * random.uniform(0.9, 1.1))


def collect_source(
    store: Store,
    settings: Any,
    source: Any,
    *,
    stop: Any = None,
    on_item: Callable[[CollectReport], None] | None = None,
) -> CollectReport:
    """Collect one source. Never raises for the source's own failure: it is recorded."""
    import time

    from fimiscope.collect.base import CollectContext, ItemError, RawPage, connectors
    from fimiscope.collect.fetch import Fetcher
    from fimiscope.core.clock import utcnow
    from fimiscope.core.errors import FimiscopeError
    from fimiscope.store import collect as cstore

    t0 = time.monotonic()
    report = CollectReport(source=source.name)
    log_lines: list[str] = []
    with store.transaction() as conn:
        state = cstore.load_state(conn, source.id)
        run_id = cstore.start_run(conn, source.id, utcnow())
    batch: dict[str, Document] = {}
    batch_size = max(1, int(getattr(settings, "batch_size", 500)))

    def flush() -> None:
        docs = list(batch.values())
        with store.transaction() as conn:
            result = store.upsert_documents(docs, conn)
            cstore.save_state(conn, source.id, state, items=len(docs))
            cstore.update_run(
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
        cls = connectors().get(source.kind)
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
                cstore.save_state(conn, source.id, state)
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
        fails = cstore.failures(conn, source.id) + (1 if report.status == "error" else 0)
        report.next_run_at = next_run(source.interval_s, fails if report.status == "error" else 0, now)
        if report.status == "stopped":  # cut short: due again as soon as a watcher runs
            report.next_run_at = now
        cstore.finish_run(
            conn, source.id, run_id, status=report.status, error=report.error, next_run_at=report.next_run_at,
            details={"item_errors": report.item_errors[:_ERRORS_KEPT], "log": log_lines[:_ERRORS_KEPT],
                     "skipped": report.skipped},
            counts={"items": report.items, "new": report.new, "updated": report.updated,
                    "item_errors": len(report.item_errors)},
        )
    report.seconds = time.monotonic() - t0
    return report


def collect(
    store: Store,
    settings: Any,
    source_names: Sequence[str] | None = None,
    *,
    due_only: bool = False,
    stop: Any = None,
    on_progress: Callable[[CollectReport], None] | None = None,
) -> list[CollectReport]:
    """Collect every collectable source (``kind`` set), or the named ones, one after the other.
    A failing source is recorded and the next one runs. ``stop`` (a threading.Event) ends the
    run after the batch in hand is committed."""
    from fimiscope.core.clock import utcnow
    from fimiscope.core.errors import InvalidInput
    from fimiscope.store import collect as cstore

    if source_names:
        chosen = [store.get_source(n) for n in source_names]
        missing = [s.name for s in chosen if not s.kind]
        if missing:
            raise InvalidInput(f"source(s) {', '.join(missing)} have no --kind: nothing to collect them with")
    else:
        chosen = store.list_sources(collected_only=True)
    if due_only:
        due = cstore.next_runs(store)
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
    settings: Any,
    source_names: Sequence[str] | None = None,
    *,
    stop: Any,
    on_report: Callable[[CollectReport], None] | None = None,
    max_sleep_s: float = 60.0,
) -> None:
    """Poll sources as they fall due until ``stop`` is set. The schedule lives in the store
    (collect_state.next_run_at), so a restarted watcher picks up where the last one was."""
    from fimiscope.core.clock import utcnow
    from fimiscope.store import collect as cstore

    while not stop.is_set():
        for report in collect(store, settings, source_names, due_only=True, stop=stop):
            if on_report:
                on_report(report)
        if stop.is_set():
            break
        due = cstore.next_runs(store)
        if source_names:
            due = {k: v for k, v in due.items() if k in source_names}
        now = utcnow()
        waits = [max((w - now).total_seconds(), 0.0) for w in due.values() if w is not None]
        pause = min([*waits, max_sleep_s]) if waits else max_sleep_s
        stop.wait(max(pause, 0.2))
