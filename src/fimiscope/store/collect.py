"""Store access for the collection runner: connector state, schedule and run records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.store import Store
from fimiscope.store.tables import sources
from fimiscope.store.tables_collect import collect_runs, collect_state


@dataclass(slots=True)
class SourceStatus:
    name: str
    kind: str | None
    location: str | None
    interval_s: int | None
    last_run_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    next_run_at: datetime | None = None
    items_total: int = 0
    items_per_day: dict[str, int] = field(default_factory=dict)
    last_status: str | None = None


def _t(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


def load_state(conn: Connection, source_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(collect_state.c.state).where(collect_state.c.source_id == source_id)).first()
    return dict(row[0] or {}) if row else {}


def _ensure(conn: Connection, source_id: str) -> None:
    exists = conn.execute(sa.select(collect_state.c.source_id).where(collect_state.c.source_id == source_id)).first()
    if not exists:
        conn.execute(collect_state.insert().values(source_id=source_id, state={}, updated_at=utcnow()))


def save_state(conn: Connection, source_id: str, state: dict[str, Any], items: int = 0) -> None:
    """Persist the connector state (in the same transaction as the batch it describes)."""
    _ensure(conn, source_id)
    conn.execute(
        collect_state.update()
        .where(collect_state.c.source_id == source_id)
        .values(state=state, items_total=collect_state.c.items_total + items, updated_at=utcnow())
    )


def start_run(conn: Connection, source_id: str, when: datetime) -> int:
    _ensure(conn, source_id)
    conn.execute(collect_state.update().where(collect_state.c.source_id == source_id).values(last_run_at=when))
    result = conn.execute(
        collect_runs.insert().values(source_id=source_id, started_at=when, status="running", details={})
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def update_run(conn: Connection, run_id: int, **values: Any) -> None:
    conn.execute(collect_runs.update().where(collect_runs.c.id == run_id).values(**values))


def finish_run(
    conn: Connection,
    source_id: str,
    run_id: int,
    *,
    status: str,
    error: str | None,
    next_run_at: datetime | None,
    details: dict[str, Any],
    counts: dict[str, int],
) -> None:
    now = utcnow()
    update_run(conn, run_id, finished_at=now, status=status, error=error, details=details, **counts)
    values: dict[str, Any] = {"next_run_at": next_run_at, "updated_at": now}
    if status in ("ok", "partial", "stopped"):
        values.update(last_success_at=now, failures=0)
    if error:
        values.update(last_error_at=now, last_error=error)
    if status == "error":
        values["failures"] = collect_state.c.failures + 1
    conn.execute(collect_state.update().where(collect_state.c.source_id == source_id).values(**values))


def failures(conn: Connection, source_id: str) -> int:
    row = conn.execute(sa.select(collect_state.c.failures).where(collect_state.c.source_id == source_id)).first()
    return int(row[0]) if row else 0


def next_runs(store: Store) -> dict[str, datetime | None]:
    """Source name -> when it is next due (None: never run, due now)."""
    q = (
        sa.select(sources.c.name, collect_state.c.next_run_at)
        .select_from(sources.outerjoin(collect_state, collect_state.c.source_id == sources.c.id))
        .where(sources.c.kind.is_not(None))
    )
    with store.connect() as c:
        return {r[0]: _t(r[1]) for r in c.execute(q)}


def statuses(store: Store, *, days: int = 7) -> list[SourceStatus]:
    since = utcnow() - timedelta(days=days)
    with store.connect() as c:
        rows = c.execute(
            sa.select(sources, collect_state)
            .select_from(sources.outerjoin(collect_state, collect_state.c.source_id == sources.c.id))
            .where(sources.c.kind.is_not(None))
            .order_by(sources.c.name)
        ).mappings().all()
        runs = c.execute(
            sa.select(
                collect_runs.c.source_id, collect_runs.c.started_at, collect_runs.c["items"], collect_runs.c.status
            )
            .where(collect_runs.c.started_at >= since)
            .order_by(collect_runs.c.started_at)
        ).all()
        last = dict(
            c.execute(
                sa.select(collect_runs.c.source_id, collect_runs.c.status).where(
                    collect_runs.c.id.in_(sa.select(sa.func.max(collect_runs.c.id)).group_by(collect_runs.c.source_id))
                )
            ).all()
        )
    per_day: dict[str, dict[str, int]] = {}
    for source_id, started, items, _status in runs:
        day = to_utc(started).date().isoformat()
        bucket = per_day.setdefault(source_id, {})
        bucket[day] = bucket.get(day, 0) + int(items or 0)
    out = []
    for r in rows:
        out.append(
            SourceStatus(
                name=r["name"],
                kind=r["kind"],
                location=r["location"],
                interval_s=r["interval_s"],
                last_run_at=_t(r["last_run_at"]),
                last_success_at=_t(r["last_success_at"]),
                last_error_at=_t(r["last_error_at"]),
                last_error=r["last_error"],
                failures=int(r["failures"] or 0),
                next_run_at=_t(r["next_run_at"]),
                items_total=int(r["items_total"] or 0),
                items_per_day=per_day.get(r["id"], {}),
                last_status=last.get(r["id"]),
            )
        )
    return out
