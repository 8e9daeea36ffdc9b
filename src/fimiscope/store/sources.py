"""The source registry: outlets, accounts and channels, their affiliation and provenance.
Functions over a ``Connection``; open one with ``store.connect()`` or ``store.transaction()``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import AFFILIATION_SEVERITY, Affiliation, Document, Provenance, Reliability, Source
from fimiscope.store.sql import chunks, insert_ignore
from fimiscope.store.tables import sources

KEY_CHUNK = 500  # keys per IN (...) lookup: well under every backend's parameter limit


def source_name_for(doc: Document) -> str | None:
    """The source a document belongs to: as given, else its URL's host without ``www.``."""
    if doc.source:
        return doc.source
    if doc.url:
        host = urlsplit(doc.url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def source_row(src: Source, now: datetime) -> dict[str, Any]:
    return {
        "name": src.name,
        "platform": src.platform,
        "domain": src.domain,
        "handle": src.handle,
        "display_name": src.display_name,
        "country": src.country,
        "language": src.language,
        "affiliation": src.affiliation.value,
        "provenance": [p.as_dict() for p in src.provenance],
        "reliability": src.reliability.value,
        "lists": list(src.lists),
        "kind": src.kind,
        "location": src.location,
        "interval_s": src.interval_s,
        "metadata": dict(src.metadata),
        "updated_at": now,
    }


def source_from(row: RowMapping) -> Source:
    return Source(
        id=row["id"],
        name=row["name"],
        platform=row["platform"],
        domain=row["domain"],
        handle=row["handle"],
        display_name=row["display_name"],
        country=row["country"],
        language=row["language"],
        affiliation=Affiliation(row["affiliation"]),
        provenance=[Provenance(**p) for p in row["provenance"] or []],
        reliability=Reliability(row["reliability"]),
        lists=list(row["lists"] or []),
        kind=row["kind"],
        location=row["location"],
        interval_s=row["interval_s"],
        metadata=dict(row["metadata"] or {}),
    )


def add_source(conn: Connection, src: Source, *, replace: bool = False) -> Source:
    """Create a source. With ``replace`` an existing one of the same name is updated."""
    now = utcnow()
    existing = conn.execute(sa.select(sources.c.id).where(sources.c.name == src.name)).scalar()
    if existing and not replace:
        raise InvalidInput(f"a source named {src.name!r} already exists (use --replace to update it)")
    row = source_row(src, now)
    if existing:
        conn.execute(sources.update().where(sources.c.id == existing).values(**row))
        src.id = existing
    else:
        src.id = src.id or new_id("src_")
        conn.execute(sources.insert().values(id=src.id, created_at=now, **row))
    return src


def merge_sources(conn: Connection, items: Iterable[Source]) -> tuple[int, int]:
    """Registry import: create new sources, merge flags/lists/provenance into existing ones.

    Returns (created, updated). Re-importing the same registry changes nothing.
    """
    created = updated = 0
    now = utcnow()
    for batch in chunks(items, KEY_CHUNK):
        names = [s.name for s in batch]
        rows = conn.execute(sa.select(sources).where(sources.c.name.in_(names))).mappings().all()
        existing = {r["name"]: source_from(r) for r in rows}
        for src in batch:
            old = existing.get(src.name)
            if old is None:
                src.id = new_id("src_")
                conn.execute(sources.insert().values(id=src.id, created_at=now, **source_row(src, now)))
                existing[src.name] = src
                created += 1
                continue
            merged = _merge_source(old, src)
            if merged is not None:
                conn.execute(sources.update().where(sources.c.id == old.id).values(**source_row(merged, now)))
                existing[src.name] = merged
                updated += 1
    return created, updated


def get_source(conn: Connection, name_or_id: str) -> Source:
    q = sa.select(sources).where((sources.c.name == name_or_id) | (sources.c.id == name_or_id))
    row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no source named {name_or_id!r} (see `fimiscope sources list`)")
    return source_from(row)


def list_sources(
    conn: Connection,
    *,
    affiliation: str | None = None,
    kind: str | None = None,
    collected_only: bool = False,
    limit: int | None = None,
) -> list[Source]:
    q = sa.select(sources).order_by(sources.c.name)
    if affiliation:
        q = q.where(sources.c.affiliation == Affiliation.parse(affiliation).value)
    if kind:
        q = q.where(sources.c.kind == kind)
    if collected_only:
        q = q.where(sources.c.kind.is_not(None))
    if limit:
        q = q.limit(limit)
    return [source_from(r) for r in conn.execute(q).mappings()]


def remove_source(conn: Connection, name_or_id: str) -> Source:
    src = get_source(conn, name_or_id)
    conn.execute(sources.delete().where(sources.c.id == src.id))
    return src


def source_ids(conn: Connection, names: Iterable[str], *, platform: str = "web") -> dict[str, str]:
    """Ids for source names, creating unknown ones (affiliation unknown) on the way."""
    wanted = sorted(set(names))
    found: dict[str, str] = {}
    for batch in chunks(wanted, KEY_CHUNK):
        for row in conn.execute(sa.select(sources.c.name, sources.c.id).where(sources.c.name.in_(batch))):
            found[row[0]] = row[1]
    missing = [n for n in wanted if n not in found]
    if missing:
        now = utcnow()
        rows = []
        for name in missing:
            sid = new_id("src_")
            is_account = ":" in name
            src = Source(
                name=name,
                platform=name.split(":", 1)[0] if is_account else platform,
                domain=None if is_account else name,
                handle=name.split(":", 1)[1] if is_account else None,
            )
            rows.append({"id": sid, "created_at": now, **source_row(src, now)})
            found[name] = sid
        conn.execute(insert_ignore(conn, sources), rows)
        # A concurrent writer may have created some of them first: read back the winners.
        for batch in chunks(missing, KEY_CHUNK):
            for row in conn.execute(sa.select(sources.c.name, sources.c.id).where(sources.c.name.in_(batch))):
                found[row[0]] = row[1]
    return found


def _merge_source(old: Source, new: Source) -> Source | None:
    """Merge registry data into a known source; None when nothing changes.

    Lists and provenance accumulate (a domain can be on several lists); a known affiliation
    never falls back to unknown; the most severe flagged tier wins when lists disagree.
    """
    lists = sorted(set(old.lists) | set(new.lists))
    prov = list(old.provenance)
    for p in new.provenance:
        if p not in prov:
            prov.append(p)
    aff = old.affiliation
    if new.affiliation != Affiliation.UNKNOWN and (
        aff == Affiliation.UNKNOWN or AFFILIATION_SEVERITY.index(new.affiliation) < AFFILIATION_SEVERITY.index(aff)
    ):
        aff = new.affiliation
    merged = Source(
        id=old.id,
        name=old.name,
        platform=old.platform,
        domain=old.domain or new.domain,
        handle=old.handle or new.handle,
        display_name=old.display_name or new.display_name,
        country=old.country or new.country,
        language=old.language or new.language,
        affiliation=aff,
        provenance=prov,
        reliability=new.reliability if new.reliability != Reliability.F else old.reliability,
        lists=lists,
        kind=old.kind or new.kind,
        location=old.location or new.location,
        interval_s=old.interval_s or new.interval_s,
        metadata={**new.metadata, **old.metadata},
    )
    same = (
        merged.lists == sorted(old.lists)
        and merged.provenance == old.provenance
        and merged.affiliation == old.affiliation
        and merged.domain == old.domain
        and merged.country == old.country
        and merged.language == old.language
        and merged.reliability == old.reliability
        and merged.display_name == old.display_name
        and merged.metadata == old.metadata
    )
    return None if same else merged

