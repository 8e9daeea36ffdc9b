"""The batch queue of parallel pipeline workers (PostgreSQL).

A stage's unprocessed documents (``seq`` past its watermark) are cut into ranges of
``batch_size`` documents, one ``pipeline_batches`` row each. A worker takes the first pending
row with ``SELECT ... FOR UPDATE SKIP LOCKED``, processes its documents and marks it done in
the same transaction. The row lock is the lease: if the worker dies (even ``kill -9``) its
transaction is rolled back, the lock goes with its connection and the batch is pending again
for the next worker, so nothing is lost and nothing is done twice. ``advance`` moves the
stage's watermark over the done prefix and forgets those rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import utcnow
from fimiscope.store import watermarks as watermark_store
from fimiscope.store.tables import documents
from fimiscope.store.tables_pipeline import pipeline_batches


@dataclass(slots=True)
class Batch:
    stage: str
    lo: int
    hi: int
    documents: int


def _lock(conn: Connection, stage: str) -> None:
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"pipeline_batches:{stage}"})


def advance(conn: Connection, stage: str) -> int:
    """Move the watermark over the batches done without a gap and delete their rows; returns
    the watermark. A watermark set back behind the queue (a stage asking to start over)
    empties the queue."""
    _lock(conn, stage)
    mark = watermark_store.watermark(conn, stage)
    t = pipeline_batches
    first = conn.execute(sa.select(sa.func.min(t.c.lo)).where(t.c.stage == stage)).scalar()
    if first is None:
        return mark
    if first > mark + 1 and conn.execute(
        sa.select(sa.func.count()).where(documents.c.seq > mark, documents.c.seq < first)
    ).scalar_one():
        conn.execute(t.delete().where(t.c.stage == stage))  # set back: plan again from the watermark
        return mark
    pending = conn.execute(
        sa.select(sa.func.min(t.c.lo)).where(t.c.stage == stage, t.c.state == "pending")
    ).scalar()
    if pending is None:
        new = conn.execute(sa.select(sa.func.max(t.c.hi)).where(t.c.stage == stage)).scalar_one()
    else:
        new = conn.execute(
            sa.select(sa.func.max(t.c.hi)).where(t.c.stage == stage, t.c.state == "done", t.c.hi < pending)
        ).scalar()
    if new is not None and new > mark:
        watermark_store.set_watermark(conn, stage, int(new))
        conn.execute(t.delete().where(t.c.stage == stage, t.c.state == "done", t.c.hi <= new))
        mark = int(new)
    return mark


def plan(conn: Connection, stage: str, batch_size: int) -> int:
    """Queue the documents past the watermark (and past what is queued already) in batches of
    ``batch_size``; returns the number of pending batches."""
    mark = advance(conn, stage)
    t = pipeline_batches
    queued = conn.execute(sa.select(sa.func.max(t.c.hi)).where(t.c.stage == stage)).scalar()
    start = max(mark, int(queued or 0))
    rows = conn.execute(
        sa.text(
            "SELECT min(seq), max(seq), count(*) FROM ("
            " SELECT seq, (row_number() OVER (ORDER BY seq) - 1) / :size AS g FROM documents WHERE seq > :start"
            ") x GROUP BY g ORDER BY g"
        ),
        {"size": batch_size, "start": start},
    ).all()
    if rows:
        conn.execute(
            t.insert(),
            [{"stage": stage, "lo": lo, "hi": hi, "documents": n, "state": "pending"} for lo, hi, n in rows],
        )
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(t).where(t.c.stage == stage, t.c.state == "pending")
        ).scalar_one()
    )


def take(conn: Connection, stage: str) -> Batch | None:
    """Lease the first pending batch no other worker holds, for the rest of ``conn``'s
    transaction; None when none is left."""
    t = pipeline_batches
    row = conn.execute(
        sa.select(t.c.lo, t.c.hi, t.c.documents)
        .where(t.c.stage == stage, t.c.state == "pending")
        .order_by(t.c.lo)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    return Batch(stage, int(row[0]), int(row[1]), int(row[2])) if row is not None else None


def finish(conn: Connection, batch: Batch, worker: str, signals: int) -> None:
    t = pipeline_batches
    conn.execute(
        t.update()
        .where(t.c.stage == batch.stage, t.c.lo == batch.lo)
        .values(state="done", worker=worker, signals=signals, done_at=utcnow())
    )


def counts(conn: Connection, stage: str) -> dict[str, int]:
    t = pipeline_batches
    rows = conn.execute(
        sa.select(t.c.state, sa.func.count()).where(t.c.stage == stage).group_by(t.c.state)
    ).all()
    return {str(s): int(n) for s, n in rows}


def pending_documents(conn: Connection, stage: str) -> int:
    t = pipeline_batches
    return int(conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(t.c.documents), 0)).where(t.c.stage == stage, t.c.state == "pending")
    ).scalar_one())
