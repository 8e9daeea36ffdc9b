"""Incidents, their linked signals and audit log, and stored DISARM releases."""

from __future__ import annotations

import builtins
import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import Actor, Attribution, Channel, Incident, SignalStatus
from fimiscope.store import Store
from fimiscope.store.tables import signals
from fimiscope.store.tables_cases import disarm_entries, disarm_releases, incident_audit, incident_signals, incidents

# Fields an analyst may change; each change is one audit row.
EDITABLE = (
    "title",
    "summary",
    "status",
    "tlp",
    "first_seen",
    "last_seen",
    "narratives",
    "actors",
    "channels",
    "techniques",
    "attribution",
    "impact",
)


@dataclass(slots=True)
class AuditEntry:
    at: datetime
    who: str
    action: str
    field: str | None
    old: Any
    new: Any


@dataclass(slots=True)
class DisarmEntry:
    external_id: str
    kind: str  # tactic | technique | sub-technique | counter | detection | actor-type
    name: str
    description: str = ""
    tactic: str | None = None  # tactic name, for techniques
    parent: str | None = None  # parent technique, for sub-techniques
    url: str | None = None


def _json_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _json_value(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime):
        return to_utc(value).isoformat()
    return value


def _row(inc: Incident) -> dict[str, Any]:
    return {
        "title": inc.title,
        "summary": inc.summary,
        "status": inc.status,
        "tlp": inc.tlp,
        "first_seen": to_utc(inc.first_seen) if inc.first_seen else None,
        "last_seen": to_utc(inc.last_seen) if inc.last_seen else None,
        "narratives": list(inc.narratives),
        "actors": _json_value(inc.actors),
        "channels": _json_value(inc.channels),
        "techniques": list(inc.techniques),
        "attribution": _json_value(inc.attribution),
        "impact": inc.impact,
    }


def _incident_from(row: RowMapping, signal_ids: list[str]) -> Incident:
    def aware(v: datetime | None) -> datetime | None:
        return to_utc(v) if v is not None else None

    return Incident(
        id=row["id"],
        stix_id=row["stix_id"],
        title=row["title"],
        summary=row["summary"],
        status=row["status"],
        tlp=row["tlp"],
        first_seen=aware(row["first_seen"]),
        last_seen=aware(row["last_seen"]),
        narratives=list(row["narratives"] or []),
        actors=[Actor(**a) for a in row["actors"] or []],
        channels=[Channel(**c) for c in row["channels"] or []],
        techniques=list(row["techniques"] or []),
        attribution=Attribution(**(row["attribution"] or {})),
        impact=row["impact"],
        origin=row["origin"],
        created_by=row["created_by"],
        created_at=aware(row["created_at"]),
        updated_at=aware(row["updated_at"]),
        signal_ids=signal_ids,
    )


class IncidentStore:
    """Incidents in a ``Store``. Every write records who changed what in the audit log."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, inc: Incident, who: str, conn: Connection | None = None) -> Incident:
        now = utcnow()
        inc.id = inc.id or new_id("inc_")
        inc.stix_id = inc.stix_id or f"incident--{uuid.uuid4()}"
        inc.created_by = who
        with self.store.transaction(conn) as c:
            c.execute(
                incidents.insert().values(
                    id=inc.id,
                    stix_id=inc.stix_id,
                    origin=inc.origin,
                    created_by=who,
                    created_at=now,
                    updated_at=now,
                    **_row(inc),
                )
            )
            self._audit(c, inc.id, who, "create", None, None, _json_value(_row(inc)), now)
            for sid in inc.signal_ids:
                self._link(c, inc.id, sid, who, now)
            return self.get(inc.id, c)

    def get(self, incident_id: str, conn: Connection | None = None) -> Incident:
        q = sa.select(incidents).where((incidents.c.id == incident_id) | (incidents.c.stix_id == incident_id))
        with self._read(conn) as c:
            row = c.execute(q).mappings().first()
            if row is None:
                raise NotFound(f"no incident {incident_id!r} (see `fimiscope incidents list`)")
            sids = [
                r[0]
                for r in c.execute(
                    sa.select(incident_signals.c.signal_id)
                    .where(incident_signals.c.incident_id == row["id"])
                    .order_by(incident_signals.c.signal_id)
                )
            ]
        return _incident_from(row, sids)

    @contextmanager
    def _read(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.store.connect() as c:
                yield c

    def find_by_stix_id(self, stix_id: str, conn: Connection) -> Incident | None:
        row = conn.execute(sa.select(incidents.c.id).where(incidents.c.stix_id == stix_id)).first()
        return self.get(row[0], conn) if row else None

    @staticmethod
    def _filtered(q: Any, status: str | None, tlp: str | None) -> Any:
        if status:
            q = q.where(incidents.c.status == status)
        if tlp:
            q = q.where(incidents.c.tlp == tlp)
        return q

    def count(self, *, status: str | None = None, tlp: str | None = None) -> int:
        q = self._filtered(sa.select(sa.func.count()).select_from(incidents), status, tlp)
        with self.store.connect() as c:
            return int(c.execute(q).scalar() or 0)

    def list(
        self, *, status: str | None = None, tlp: str | None = None, limit: int | None = None, offset: int = 0
    ) -> list[Incident]:
        q = sa.select(incidents).order_by(incidents.c.updated_at.desc(), incidents.c.id.desc())
        q = self._filtered(q, status, tlp)
        if limit:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        with self.store.connect() as c:
            rows = c.execute(q).mappings().all()
            links: dict[str, list[str]] = {}
            ids = [r["id"] for r in rows]
            if ids:
                for iid, sid in c.execute(
                    sa.select(incident_signals.c.incident_id, incident_signals.c.signal_id).where(
                        incident_signals.c.incident_id.in_(ids)
                    )
                ):
                    links.setdefault(iid, []).append(sid)
        return [_incident_from(r, sorted(links.get(r["id"], []))) for r in rows]

    def for_signal(self, signal_id: str) -> builtins.list[Incident]:
        """The incidents a signal is linked to, most recently changed first."""
        q = (
            sa.select(incidents.c.id)
            .join(incident_signals, incident_signals.c.incident_id == incidents.c.id)
            .where(incident_signals.c.signal_id == signal_id)
            .order_by(incidents.c.updated_at.desc())
        )
        with self.store.connect() as c:
            return [self.get(row[0], c) for row in c.execute(q).all()]

    def update(self, incident_id: str, who: str, changes: dict[str, Any], conn: Connection | None = None) -> Incident:
        """Apply ``changes`` (field -> new value); unchanged fields write no audit row."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
        now = utcnow()
        with self.store.transaction(conn) as c:
            current = self.get(incident_id, c)
            assert current.id is not None
            old_row = _json_value(_row(current))
            for name, value in changes.items():
                setattr(current, name, value)
            new_row = _json_value(_row(current))
            diff = {k: (old_row[k], new_row[k]) for k in changes if old_row[k] != new_row[k]}
            if diff:
                values = _row(current)
                c.execute(
                    incidents.update()
                    .where(incidents.c.id == current.id)
                    .values(updated_at=now, **{k: values[k] for k in diff})
                )
                for name, (old, new) in diff.items():
                    self._audit(c, current.id, who, "update", name, old, new, now)
            return self.get(current.id, c)

    def link_signals(self, incident_id: str, signal_ids: Sequence[str], who: str) -> Incident:
        """Attach signals; each becomes ``escalated``. Linking twice changes nothing."""
        now = utcnow()
        with self.store.transaction() as c:
            inc = self.get(incident_id, c)
            assert inc.id is not None
            for sid in signal_ids:
                if sid not in inc.signal_ids:
                    self._link(c, inc.id, sid, who, now)
            return self.get(inc.id, c)

    def _link(self, c: Connection, incident_id: str, signal_id: str, who: str, now: datetime) -> None:
        status = c.execute(sa.select(signals.c.status).where(signals.c.id == signal_id)).scalar()
        if status is None:
            raise NotFound(f"no signal {signal_id!r} (see `fimiscope signals list`)")
        c.execute(incident_signals.insert().values(incident_id=incident_id, signal_id=signal_id, linked_at=now))
        c.execute(
            signals.update()
            .where(signals.c.id == signal_id)
            .values(status=SignalStatus.ESCALATED.value, updated_at=now)
        )
        self._audit(c, incident_id, who, "link-signal", "signals", None, signal_id, now)
        if status != SignalStatus.ESCALATED.value:
            c.execute(incidents.update().where(incidents.c.id == incident_id).values(updated_at=now))

    @staticmethod
    def _audit(
        c: Connection, incident_id: str, who: str, action: str, field: str | None, old: Any, new: Any, at: datetime
    ) -> None:
        c.execute(
            incident_audit.insert().values(
                incident_id=incident_id, at=at, who=who, action=action, field=field, old=old, new=new
            )
        )

    def audit(self, incident_id: str) -> builtins.list[AuditEntry]:
        inc = self.get(incident_id)
        with self.store.connect() as c:
            rows = c.execute(
                sa.select(incident_audit).where(incident_audit.c.incident_id == inc.id).order_by(incident_audit.c.id)
            ).mappings()
            return [
                AuditEntry(
                    at=to_utc(r["at"]), who=r["who"], action=r["action"], field=r["field"], old=r["old"], new=r["new"]
                )
                for r in rows
            ]


# -- DISARM releases --------------------------------------------------------------------------


def active_disarm_version(store: Store) -> str | None:
    with store.connect() as c:
        return c.execute(sa.select(disarm_releases.c.version).where(disarm_releases.c.active.is_(True))).scalar()


def save_disarm_release(store: Store, version: str, source: str, entries: Sequence[DisarmEntry]) -> int:
    """Store a release and make it the active one. Importing the same version again replaces it."""
    with store.transaction() as c:
        c.execute(disarm_releases.update().values(active=False))
        c.execute(disarm_entries.delete().where(disarm_entries.c.version == version))
        c.execute(disarm_releases.delete().where(disarm_releases.c.version == version))
        c.execute(disarm_releases.insert().values(version=version, source=source, imported_at=utcnow(), active=True))
        rows = [{"version": version, **dataclasses.asdict(e)} for e in entries]
        if rows:
            c.execute(disarm_entries.insert(), rows)
    return len(rows)


def load_disarm_entries(store: Store, version: str) -> list[DisarmEntry]:
    with store.connect() as c:
        rows = c.execute(
            sa.select(disarm_entries).where(disarm_entries.c.version == version).order_by(disarm_entries.c.external_id)
        ).mappings()
        return [DisarmEntry(**{k: v for k, v in r.items() if k != "version"}) for r in rows]
