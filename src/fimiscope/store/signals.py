"""Signals and their evidence: what the detectors found, with why. Functions over a
``Connection``; a detector writes through the connection of its batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import Evidence, Signal, SignalStatus
from fimiscope.store.sql import chunks
from fimiscope.store.tables import documents, evidence, signals
from fimiscope.store.tables_cases import incident_signals


def upsert_signals(conn: Connection, items: Sequence[Signal]) -> tuple[int, int]:
    """Store signals by their key. A re-run updates score and evidence but keeps the analyst's
    status. Returns (new, updated)."""
    new = updated = 0
    now = utcnow()
    facets = evidence_facets(conn, {e.document_id for sig in items for e in sig.evidence if e.document_id})
    for sig in items:
        key = sig.key or new_id("key_")
        row = {
            "type": sig.type,
            "title": sig.title,
            "summary": sig.summary,
            "score": float(sig.score),
            "detector": sig.detector,
            "detector_version": sig.detector_version,
            "parameters": sig.parameters,
            "details": sig.details,
            "updated_at": now,
        }
        old = conn.execute(sa.select(signals.c.id, signals.c.status).where(signals.c.key == key)).first()
        if old is None:
            sig.id = sig.id or new_id("sig_")
            conn.execute(signals.insert().values(id=sig.id, key=key, status=sig.status.value, created_at=now, **row))
            new += 1
        else:
            sig.id, sig.status = old[0], SignalStatus(old[1])
            conn.execute(signals.update().where(signals.c.id == sig.id).values(**row))
            conn.execute(evidence.delete().where(evidence.c.signal_id == sig.id))
            updated += 1
        if sig.evidence:
            conn.execute(
                evidence.insert(),
                [
                    {
                        "signal_id": sig.id,
                        "document_id": e.document_id,
                        "role": e.role,
                        "span_start": e.span_start,
                        "span_end": e.span_end,
                        "score": e.score,
                        "details": e.details,
                        "language": facets.get(e.document_id or "", (None, None))[0],
                        "source_id": facets.get(e.document_id or "", (None, None))[1],
                    }
                    for e in sig.evidence
                ],
            )
    return new, updated


def withdraw_signals(conn: Connection, keys: Sequence[str]) -> int:
    """Remove the signals with these keys that a detector no longer raises (a re-run found an
    earlier origin, say), so the same data gives the same signals however it was batched. A
    signal an analyst has already triaged or linked to an incident stays: their work is kept.
    Returns how many went."""
    gone = 0
    for part in chunks(sorted(set(keys)), 500):
        ids = (
            conn.execute(
                sa.select(signals.c.id).where(
                    signals.c.key.in_(part),
                    signals.c.status == SignalStatus.NEW.value,
                    signals.c.id.not_in(sa.select(incident_signals.c.signal_id)),
                )
            )
            .scalars()
            .all()
        )
        if ids:
            conn.execute(evidence.delete().where(evidence.c.signal_id.in_(ids)))
            conn.execute(signals.delete().where(signals.c.id.in_(ids)))
            gone += len(ids)
    return gone


def evidence_facets(conn: Connection, doc_ids: set[str]) -> dict[str, tuple[str | None, str | None]]:
    """(language, source id) of the cited documents, copied onto their evidence rows."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for part in chunks(sorted(doc_ids), 500):
        q = sa.select(documents.c.id, documents.c.language, documents.c.source_id).where(documents.c.id.in_(part))
        out.update((r[0], (r[1], r[2])) for r in conn.execute(q))
    return out


def sync_evidence_facets(conn: Connection, doc_ids: Sequence[str]) -> None:
    """A document's language or source changed: its evidence rows follow."""
    for part in chunks(list(doc_ids), 500):
        lang = sa.select(documents.c.language).where(documents.c.id == evidence.c.document_id)
        src = sa.select(documents.c.source_id).where(documents.c.id == evidence.c.document_id)
        conn.execute(
            evidence.update()
            .where(evidence.c.document_id.in_(part))
            .values(language=lang.scalar_subquery(), source_id=src.scalar_subquery())
        )


def _iso(value: datetime | None) -> str | None:
    return to_utc(value).isoformat() if value is not None else None


def signal_from(row: RowMapping, ev: list[Evidence] | None = None) -> Signal:
    return Signal(
        id=row["id"],
        key=row["key"],
        type=row["type"],
        title=row["title"],
        summary=row["summary"],
        score=row["score"],
        status=SignalStatus(row["status"]),
        detector=row["detector"],
        detector_version=row["detector_version"],
        parameters=dict(row["parameters"] or {}),
        details={
            **(row["details"] or {}),
            "created_at": _iso(row["created_at"]),
            "updated_at": _iso(row["updated_at"]),
        },
        evidence=ev or [],
    )


def list_signals(
    conn: Connection,
    *,
    type: str | None = None,
    status: str | None = None,
    min_score: float | None = None,
    limit: int = 50,
    offset: int = 0,
    order: str = "score",
) -> list[Signal]:
    q = sa.select(signals)
    if type:
        q = q.where(signals.c.type == type)
    if status:
        q = q.where(signals.c.status == SignalStatus.parse(status).value)
    if min_score is not None:
        q = q.where(signals.c.score >= min_score)
    q = q.order_by(signals.c.score.desc() if order == "score" else signals.c.created_at.desc(), signals.c.id)
    q = q.limit(limit).offset(offset)
    return [signal_from(r) for r in conn.execute(q).mappings()]


def get_signal(conn: Connection, signal_id: str) -> Signal:
    row = conn.execute(sa.select(signals).where(signals.c.id == signal_id)).mappings().first()
    if row is None:
        raise NotFound(f"no signal {signal_id!r} (see `fimiscope signals list`)")
    ev = [
        Evidence(
            document_id=e["document_id"],
            role=e["role"],
            span_start=e["span_start"],
            span_end=e["span_end"],
            score=e["score"],
            details=dict(e["details"] or {}),
        )
        for e in conn.execute(
            sa.select(evidence).where(evidence.c.signal_id == signal_id).order_by(evidence.c.id)
        ).mappings()
    ]
    return signal_from(row, ev)


def set_signal_status(conn: Connection, signal_ids: Sequence[str], status: str) -> int:
    """Record an analyst's verdict; returns how many signals changed."""
    value = SignalStatus.parse(status).value
    res = conn.execute(
        signals.update().where(signals.c.id.in_(list(signal_ids))).values(status=value, updated_at=utcnow())
    )
    return int(res.rowcount or 0)
