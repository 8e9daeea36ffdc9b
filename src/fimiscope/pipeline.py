"""The stage contract, and the loop that runs stages in order, each from its own watermark.

A stage is one small class with one job, registered by name (``@register``):

- ``name`` is ``room.name`` (``extract.language``, ``detect.laundering``). It is also the
  stage's watermark key, so renaming a stage needs a migration of the ``watermarks`` rows.
- ``order`` places it: extract stages below 50, detectors from 50.
- ``from_settings(settings)`` builds it with what it needs from the settings table; a stage
  never reads the environment.
- A ``DocumentStage`` implements ``process(store, docs, conn)``: it handles one batch of
  documents whose ``seq`` is past its watermark and writes its results through ``conn``; the
  batch's results and the new watermark commit in one transaction. Killing a run loses at most
  the batch in flight, and the next run starts after the last committed batch. A stage that
  looks at the whole store (clustering, graph detectors) overrides ``run`` instead and keeps
  the same promise.

Built-in stages live in the modules of ``STAGE_MODULES``, imported by name the first time
the stages are needed, so this module imports no room above the store. ``ingest`` stores
documents from an importer, a batch per transaction.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import queue
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy.engine import Connection

from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import batches as batch_store
from fimiscope.store import documents as document_store
from fimiscope.store import watermarks as watermark_store

# Every module that defines built-in stages. A new detector adds one line.
STAGE_MODULES: tuple[str, ...] = (
    "fimiscope.extract.language",
    "fimiscope.extract.fingerprints_stage",
    "fimiscope.detect.laundering",
    "fimiscope.detect.claims",
    "fimiscope.detect.coordination",
    "fimiscope.detect.narratives",
    "fimiscope.detect.persuasion",
    "fimiscope.detect.infrastructure_stage",
)
_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


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

    name: ClassVar[str]  # room.name: also the watermark key
    order: ClassVar[int] = 50  # extract stages < 50 <= detectors
    description: ClassVar[str] = ""
    # True when ``process`` depends only on its documents and stored reference data (claims,
    # models), not on what other batches wrote: on PostgreSQL such a stage's batches are then
    # leased from a queue, and several workers may run them at once (``run(workers=N)``).
    parallel: ClassVar[bool] = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Stage:
        """The stage as configured by ``settings``; override to take what it needs from them."""
        return cls()

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        raise NotImplementedError


class DocumentStage(Stage):
    """A stage fed documents in ``seq`` order from its watermark, one transaction per batch."""

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        """Handle one batch inside ``conn``'s transaction; return the number of signals written."""
        raise NotImplementedError

    # Set by ``run`` for a ``parallel`` stage: how many worker processes, and the settings
    # they open the store and build the stage with.
    workers: int = 1
    worker_settings: Settings | None = None

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        if self.parallel and store.dialect == "postgresql":
            return _run_leased(self, store, batch_size=batch_size, progress=progress, workers=self.workers,
                               settings=self.worker_settings)
        with store.connect() as conn:
            report = StageReport(stage=self.name, watermark=watermark_store.watermark(conn, self.name))
            total = max(document_store.max_document_seq(conn) - report.watermark, 0)
        while True:
            with store.transaction() as conn:
                start = watermark_store.watermark(conn, self.name)
                docs = document_store.documents_after(conn, start, batch_size)
                if not docs:
                    break
                report.signals += self.process(store, docs, conn)
                report.watermark = int(docs[-1].metadata["_seq"])
                watermark_store.set_watermark(conn, self.name, report.watermark)
            report.processed += len(docs)
            progress(report.processed, max(total, report.processed))
        return report


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def drain(stage: DocumentStage, store: Store, progress: Callable[[int, int], None] | None = None) -> tuple[int, int]:
    """Process leased batches of ``stage`` until none is left to take; returns (documents,
    signals). Each batch, its results, its ``done`` mark and the watermark moved over the done
    prefix commit in one transaction, so a worker killed mid-batch leaves that batch to the
    next worker and nothing before it (store/batches.py)."""
    done = signals = 0
    me = _worker_name()
    while True:
        with store.transaction() as conn:
            batch = batch_store.take(conn, stage.name)
            if batch is None:
                return done, signals
            docs = document_store.documents_between(conn, batch.lo, batch.hi)
            found = stage.process(store, docs, conn) if docs else 0
            batch_store.finish(conn, batch, me, found)
            batch_store.advance(conn, stage.name)
        done += len(docs)
        signals += found
        if progress is not None:
            progress(len(docs), found)


def _worker_main(settings: Settings, stage_name: str, counts: Any, workers: int = 1) -> None:
    """A worker process of ``run(workers=N)``: its own store connection and stage instance;
    ``counts`` (shared documents and signals) grows as its batches commit. ``workers``: how many
    run, so a stage can leave the other cores to them (one thread per match)."""
    stages()
    stage = _STAGES[stage_name].from_settings(settings)
    assert isinstance(stage, DocumentStage)
    stage.workers = workers
    store = Store.from_settings(settings)

    def tick(docs: int, signals: int) -> None:
        with counts.get_lock():
            counts[0] += docs
            counts[1] += signals

    try:
        drain(stage, store, tick)
    finally:
        store.close()


def _run_leased(
    stage: DocumentStage, store: Store, *, batch_size: int, progress: Callable[[int, int], None], workers: int,
    settings: Settings | None,
) -> StageReport:
    report = StageReport(stage=stage.name)
    with store.transaction() as conn:
        batch_store.plan(conn, stage.name, batch_size)
        total = batch_store.pending_documents(conn, stage.name)
    ctx = multiprocessing.get_context("spawn")
    counts = ctx.Array("q", 2)  # documents, signals: every worker's, this process's included
    helpers = []
    if workers > 1 and total:
        if settings is None:
            raise ValueError("parallel workers need the settings to open the store in each")
        for _ in range(workers - 1):
            proc = ctx.Process(target=_worker_main, args=(settings, stage.name, counts, workers), daemon=True)
            proc.start()
            helpers.append(proc)

    def tick(docs: int, signals: int) -> None:
        with counts.get_lock():
            counts[0] += docs
            counts[1] += signals
            seen = counts[0]
        progress(seen, max(total, seen))

    drain(stage, store, tick)
    lost = 0
    for proc in helpers:
        proc.join()
        lost += proc.exitcode != 0
    drain(stage, store, tick)  # what a worker that died after we ran out left behind
    with store.transaction() as conn:
        report.watermark = batch_store.advance(conn, stage.name)
    report.processed, report.signals = int(counts[0]), int(counts[1])
    report.details["workers"] = workers
    if lost:
        report.details["workers_lost"] = lost  # died mid-run; their batches went back to the queue
    progress(report.processed, max(total, report.processed))
    return report


_STAGES: dict[str, type[Stage]] = {}


def register(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a stage available under its ``name`` (``room.name``)."""
    if not _NAME.match(cls.name):
        raise ValueError(f"stage name {cls.name!r} is not room.name (e.g. detect.laundering)")
    if cls.name in _STAGES and _STAGES[cls.name] is not cls:
        raise ValueError(f"two stages are named {cls.name!r}")
    _STAGES[cls.name] = cls
    return cls


def stages() -> list[type[Stage]]:
    """Every registered stage, in run order."""
    for module in STAGE_MODULES:
        importlib.import_module(module)
    return sorted(_STAGES.values(), key=lambda s: (s.order, s.name))


def stage_names(names: Iterable[str]) -> list[str]:
    """Full stage names for what a user typed: ``detect.laundering``, or ``laundering`` when
    only one stage ends so. InvalidInput naming the stages for anything else."""
    known = [s.name for s in stages()]
    out = []
    for name in names:
        if name in known:
            out.append(name)
            continue
        short = [k for k in known if k.split(".", 1)[1] == name]
        if len(short) != 1:
            raise InvalidInput(f"unknown stage {name!r}; stages are: {', '.join(known)}")
        out.append(short[0])
    return out


def run(
    store: Store,
    *,
    only: Sequence[str] | None = None,
    settings: Settings | None = None,
    batch_size: int | None = None,
    on_stage: Callable[[type[Stage]], Callable[[int, int], None]] | None = None,
    workers: int | None = None,
) -> list[StageReport]:
    """Run every registered stage (or ``only`` those), in order, each built with
    ``from_settings(settings)`` (``Settings()`` when not given); ``batch_size`` and
    ``workers`` override the settings. ``workers`` > 1 runs the batches of ``parallel``
    stages in that many processes on PostgreSQL; other stages run in this one."""
    settings = settings if settings is not None else Settings()
    batch_size = batch_size or settings.batch_size
    workers = workers or settings.pipeline_workers
    if workers > 1 and store.dialect != "postgresql":
        raise InvalidInput("parallel workers need PostgreSQL (--database-url postgresql://...); SQLite has one "
                           "writer at a time, so run with --workers 1")
    chosen = stages()
    if only:
        wanted = set(stage_names(only))
        chosen = [s for s in chosen if s.name in wanted]
    reports = []
    for cls in chosen:
        progress = on_stage(cls) if on_stage else (lambda _done, _total: None)
        stage = cls.from_settings(settings)
        if isinstance(stage, DocumentStage) and stage.parallel:
            stage.workers, stage.worker_settings = workers, settings
        reports.append(stage.run(store, batch_size=batch_size, progress=progress))
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


def import_processes() -> int:
    """Worker processes an import prepares documents in: ``FIMISCOPE_IMPORT_PROCESSES``, else
    one per core beyond the first, at most four (past that the single SQLite writer is the
    bound); none on one core (docs/benchmarks.md, "import, fifth pass")."""
    configured = os.environ.get("FIMISCOPE_IMPORT_PROCESSES")
    if configured is not None:
        return max(0, int(configured))
    return max(0, min(4, (os.cpu_count() or 1) - 1))


# Full batches prepared in the reading thread before the worker processes start: an import
# smaller than this starts none (a worker's start, modules and lemma dictionaries cost ~3 s
# of CPU, repaid only over tens of thousands of documents).
_POOL_AFTER_BATCHES = 2


def ingest(
    store: Store,
    items: Any,
    *,
    batch_size: int = 5000,
    on_batch: Callable[[IngestReport], None] | None = None,
    processes: int | None = None,
) -> IngestReport:
    """Store documents from an iterator of ``Document | Rejection``, a batch per transaction.

    Rejections are collected, never raised: the rest of the input still goes in, and what a
    batch committed stays committed if a later one fails.

    Reading, validating and preparing a batch (hashes, compressed raw bodies, ids) runs in a
    second thread while the previous batch is written: the database, zstd and hashing release
    the GIL, so the two overlap (benchmarks/import_bench.py). At most two batches are held.

    The per-document preparation that needs neither the database nor shared state (content
    hash, zstd, lemmas: ``store.documents.prepare_columns``) runs in ``processes`` worker
    processes (default ``import_processes()``; 0: in the reading thread), started at the third
    full batch, so a small import starts none. Batches are written in input order, the same
    rows as without workers; at most ``processes + 2`` batches are then held.
    """
    processes = import_processes() if processes is None else processes
    report = IngestReport()
    pg = store.dialect == "postgresql"  # lemma vectors built here, parsed by the server
    ready: queue.Queue[document_store.Prepared | BaseException | None] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: document_store.Prepared | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        batch: list[Document] = []
        pool: ProcessPoolExecutor | None = None
        full = 0
        pending: deque[tuple[list[Document], Future[document_store.Columns]]] = deque()

        def send(docs: Sequence[Document], last: bool) -> bool:
            nonlocal pool, full
            full += not last
            if pool is None and processes > 0 and full > _POOL_AFTER_BATCHES:
                pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
            if pool is None:
                return put(document_store.prepare_documents(docs, vectors=pg))
            if docs:
                clean = document_store.storable_documents(docs)
                inputs = document_store.column_inputs(clean)
                pending.append((clean, pool.submit(document_store.prepare_columns, inputs)))
            while len(pending) > (0 if last else processes):
                done, columns = pending.popleft()
                if not put(document_store.prepare_documents(done, columns.result(), vectors=pg)):
                    return False
            return True

        try:
            for item in items:
                if isinstance(item, Document):
                    batch.append(item)
                    if len(batch) >= batch_size:
                        if not send(batch, last=False):
                            return
                        batch = []
                else:
                    report.rejected.append(item)
            if batch or pending:
                send(batch, last=True)
            put(None)
        except BaseException as exc:  # handed to the writer, which raises it
            put(exc)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    reader = threading.Thread(target=produce, name="fimiscope-ingest-reader", daemon=True)
    reader.start()
    try:
        while True:
            prepared = ready.get()
            if prepared is None:
                break
            if isinstance(prepared, BaseException):
                raise prepared
            result = store.write(document_store.upsert_documents, prepared.docs, prepared)
            report.new += result.new
            report.updated += result.updated
            report.unchanged += result.unchanged
            if on_batch:
                on_batch(report)
    finally:
        stop.set()
        reader.join()
    return report
