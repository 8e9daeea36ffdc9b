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
    batch_size: int = 500,
    on_stage: Callable[[type[Stage]], Callable[[int, int], None]] | None = None,
) -> list[StageReport]:
    """Run every registered stage (or ``only`` those), in order."""
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
        reports.append(cls().run(store, batch_size=batch_size, progress=progress))
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
