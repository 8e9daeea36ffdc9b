"""When an incident was seen: the analyst's first / last seen when set, else the earliest and
latest publication among the documents its linked signals cite. The incident report and the
STIX export both ask here, so a partner reads the same dates in both."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fimiscope.core.clock import to_utc
from fimiscope.core.model import Incident, Signal
from fimiscope.store import Store
from fimiscope.store.sql import chunks
from fimiscope.store.tables import documents

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Seen:
    first: datetime | None
    last: datetime | None
    derived: bool  # first or last came from the evidence, not from the analyst


def seen(inc: Incident, published: Iterable[datetime | None]) -> Seen:
    """First / last seen of ``inc`` given the publication times of the documents it cites.

    A value the analyst set wins; a derived one never crosses it (a derived last seen earlier
    than the analyst's first seen becomes that first seen), so first <= last always holds."""
    times = sorted(to_utc(t) for t in published if t is not None)
    first = to_utc(inc.first_seen) if inc.first_seen else None
    last = to_utc(inc.last_seen) if inc.last_seen else None
    derived = False
    if first is None and times:
        first, derived = times[0], True
        if last is not None and first > last:
            first = last
    if last is None and times:
        last, derived = times[-1], True
        if first is not None and last < first:
            last = first
    return Seen(first=first, last=last, derived=derived)


def cited_document_ids(signals: Sequence[Signal]) -> list[str]:
    out: dict[str, None] = {}
    for sig in signals:
        for ev in sig.evidence:
            if ev.document_id:
                out.setdefault(ev.document_id)
    return list(out)


def published_times(store: Store, doc_ids: Sequence[str]) -> list[datetime]:
    """The publication times of the stored documents among ``doc_ids`` (undated ones left out)."""
    out: list[datetime] = []
    with store.connect() as conn:
        for part in chunks(sorted(set(doc_ids)), _CHUNK):
            q = sa.select(documents.c.published_at).where(documents.c.id.in_(part))
            out.extend(to_utc(t) for (t,) in conn.execute(q) if t is not None)
    return out


def incident_seen(store: Store, inc: Incident, signals: Sequence[Signal]) -> Seen:
    """First / last seen of ``inc`` from its own fields and the evidence of ``signals``."""
    return seen(inc, published_times(store, cited_document_ids(signals)))
