"""Store access for narratives: known and emerging narratives, their examples, the documents
assigned to them (with the sentences that carry them), the emerging clusters' vectors, lineage
and the detector's state. Functions over a ``Connection`` so a pipeline batch writes everything
in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import Affiliation
from fimiscope.store.sql import chunks
from fimiscope.store.tables import documents, sources
from fimiscope.store.tables_narratives import (
    narrative_assignments,
    narrative_examples,
    narrative_lineage,
    narrative_state,
    narrative_vectors,
    narratives,
)

_CHUNK = 500
KINDS = ("known", "candidate")
STATUSES = ("active", "dismissed", "merged")
TIERS = [a.value for a in Affiliation]


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


def _iso(value: datetime | None) -> str | None:
    v = _aware(value)
    return v.isoformat() if v else None


# -- narratives ----------------------------------------------------------------------------------


def create(
    conn: Connection,
    *,
    name: str,
    description: str = "",
    keywords: Sequence[str] = (),
    examples: Sequence[str] = (),
    kind: str = "known",
    parent_id: str | None = None,
    debunked: bool = False,
    origin: str = "analyst",
    narrative_id: str | None = None,
) -> str:
    """A new narrative; returns its id. An analyst's needs a name and something to match:
    a description, keywords or an example."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("a narrative needs a name")
    if len(name) > 300:
        raise InvalidInput("a narrative's name is at most 300 characters")
    if kind not in KINDS:
        raise InvalidInput(f"unknown narrative kind {kind!r}; use one of: {', '.join(KINDS)}")
    matchable = description.strip() or any(k.strip() for k in keywords) or any(e.strip() for e in examples)
    if kind == "known" and not matchable:
        raise InvalidInput(f"narrative {name!r} needs a description, keywords or an example to be recognised")
    if parent_id is not None:
        get_row(conn, parent_id)
    now = utcnow()
    nid = narrative_id or new_id("nar_")
    conn.execute(
        narratives.insert().values(
            id=nid, kind=kind, status="active", name=name, description=description.strip(),
            keywords=[k.strip() for k in keywords if k.strip()], parent_id=parent_id, debunked=debunked,
            origin=origin, labels={}, representatives=[], size=0, created_at=now, updated_at=now,
        )
    )
    add_examples(conn, nid, examples)
    return nid


def define_known(conn: Connection, items: Iterable[dict[str, Any]], *, origin: str = "analyst") -> int:
    """Create the known narratives (name, description, keywords, examples, debunked) whose
    names are not stored yet; returns how many were created."""
    created = 0
    for n in items:
        if find_by_name(conn, n["name"]) is None:
            create(conn, name=n["name"], description=n.get("description", ""), keywords=n.get("keywords", ()),
                   examples=n.get("examples", ()), debunked=bool(n.get("debunked")), origin=origin)
            created += 1
    return created


def store_imported(conn: Connection, items: Sequence[Any]) -> dict[str, int]:
    """Create imported narratives (``collect.narratives_import.ImportedNarrative``: name,
    description, parent name, keywords, examples, debunked, origin) not already stored by name;
    parents before children."""
    created = existing = 0
    ids: dict[str, str] = {}
    for item in sorted(items, key=lambda x: (x.parent is not None, x.name)):
        have = find_by_name(conn, item.name)
        if have is not None:
            ids[item.name] = have
            existing += 1
            continue
        parent = ids.get(item.parent) if item.parent else None
        if item.parent and parent is None:
            parent = find_by_name(conn, item.parent)
        ids[item.name] = create(
            conn, name=item.name, description=item.description, keywords=item.keywords, examples=item.examples,
            parent_id=parent, debunked=item.debunked, origin=item.origin,
        )
        created += 1
    return {"created": created, "existing": existing}


def add_examples(
    conn: Connection, narrative_id: str, texts: Iterable[str], *, document_id: str | None = None,
    language: str | None = None,
) -> int:
    now = utcnow()
    rows = [
        {"narrative_id": narrative_id, "text": t.strip()[:20_000], "document_id": document_id, "language": language,
         "created_at": now}
        for t in texts if t and t.strip()
    ]
    if rows:
        conn.execute(narrative_examples.insert(), rows)
        touch(conn, narrative_id)
    return len(rows)


def touch(conn: Connection, narrative_id: str) -> None:
    conn.execute(narratives.update().where(narratives.c.id == narrative_id).values(updated_at=utcnow()))


def get_row(conn: Connection, narrative_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(narratives).where(narratives.c.id == narrative_id)).mappings().first()
    if row is None:
        raise NotFound(f"no narrative {narrative_id!r} (see `fimiscope narratives list`)")
    return dict(row)


def find_by_name(conn: Connection, name: str) -> str | None:
    q = sa.select(narratives.c.id).where(sa.func.lower(narratives.c.name) == name.strip().lower())
    return conn.execute(q.order_by(narratives.c.created_at)).scalars().first()


def resolve(conn: Connection, narrative_id: str) -> str:
    """Follow merges: the narrative an old id now lives in."""
    seen = set()
    current = narrative_id
    while current not in seen:
        seen.add(current)
        row = get_row(conn, current)
        if row["status"] != "merged" or not row["merged_into"]:
            return current
        current = row["merged_into"]
    return current


def update(conn: Connection, narrative_id: str, **fields: Any) -> None:
    allowed = {"name", "description", "keywords", "debunked", "parent_id", "status"}
    bad = set(fields) - allowed
    if bad:
        raise InvalidInput(f"cannot change {', '.join(sorted(bad))} of a narrative")
    if "name" in fields:
        fields["name"] = " ".join(str(fields["name"] or "").split())
        if not fields["name"]:
            raise InvalidInput("a narrative needs a name")
    if "status" in fields and fields["status"] not in STATUSES:
        raise InvalidInput(f"unknown status {fields['status']!r}; use one of: {', '.join(STATUSES)}")
    get_row(conn, narrative_id)
    conn.execute(narratives.update().where(narratives.c.id == narrative_id).values(updated_at=utcnow(), **fields))


def examples(conn: Connection, narrative_ids: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    q = sa.select(narrative_examples).order_by(narrative_examples.c.id)
    out: dict[str, list[dict[str, Any]]] = {}
    if narrative_ids is None:
        rows: Iterable[Any] = conn.execute(q).mappings()
    else:
        rows = []
        for part in chunks(sorted(set(narrative_ids)), _CHUNK):
            rows.extend(conn.execute(q.where(narrative_examples.c.narrative_id.in_(part))).mappings())
    for r in rows:
        out.setdefault(r["narrative_id"], []).append(
            {"id": r["id"], "text": r["text"], "document_id": r["document_id"], "language": r["language"]}
        )
    return out


def known(conn: Connection) -> list[dict[str, Any]]:
    """Active known narratives with their examples, oldest first (the assigner's input)."""
    rows = conn.execute(
        sa.select(narratives)
        .where(narratives.c.kind == "known", narratives.c.status == "active")
        .order_by(narratives.c.created_at, narratives.c.id)
    ).mappings().all()
    ex = examples(conn, [r["id"] for r in rows])
    return [{**dict(r), "examples": [e["text"] for e in ex.get(r["id"], [])]} for r in rows]


def known_fingerprint(conn: Connection) -> str:
    """Changes whenever a known narrative or one of its examples is added or edited."""
    n, latest = conn.execute(
        sa.select(sa.func.count(), sa.func.max(narratives.c.updated_at)).where(
            narratives.c.kind == "known", narratives.c.status == "active"
        )
    ).one()
    m = conn.execute(sa.select(sa.func.count(), sa.func.max(narrative_examples.c.id))).one()
    return f"{n}:{_iso(latest)}:{m[0]}:{m[1]}"


# -- assignments ---------------------------------------------------------------------------------


def document_facets(conn: Connection, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = sa.select(documents.c.id, documents.c.published_at, documents.c.collected_at, documents.c.language,
                      documents.c.source_id).where(documents.c.id.in_(part))
        for r in conn.execute(q).mappings():
            out[r["id"]] = {
                "published_at": _aware(r["published_at"]) or _aware(r["collected_at"]),
                "language": r["language"],
                "source_id": r["source_id"],
            }
    return out


def replace_assignments(conn: Connection, method: str, doc_ids: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """Assignments of ``method`` for ``doc_ids`` become ``rows`` (narrative_id, document_id,
    score, sentences, components)."""
    for part in chunks(list(doc_ids), _CHUNK):
        conn.execute(
            narrative_assignments.delete().where(
                narrative_assignments.c.document_id.in_(part), narrative_assignments.c.method == method
            )
        )
    if not rows:
        return
    facets = document_facets(conn, {r["document_id"] for r in rows})
    now = utcnow()
    full = []
    seen = set()
    for r in rows:
        key = (r["narrative_id"], r["document_id"])
        if key in seen:
            continue
        seen.add(key)
        f = facets.get(r["document_id"], {})
        full.append(
            {
                "narrative_id": r["narrative_id"], "document_id": r["document_id"], "method": method,
                "score": float(r["score"]), "sentences": r.get("sentences") or [],
                "components": r.get("components") or {}, "published_at": f.get("published_at"),
                "language": f.get("language"), "source_id": f.get("source_id"), "created_at": now,
            }
        )
    # a document already assigned to the same narrative by the other method keeps that row
    existing: set[tuple[str, str]] = set()
    for part in chunks(sorted({r["document_id"] for r in full}), _CHUNK):
        q = sa.select(narrative_assignments.c.narrative_id, narrative_assignments.c.document_id).where(
            narrative_assignments.c.document_id.in_(part)
        )
        existing.update((a, b) for a, b in conn.execute(q))
    full = [r for r in full if (r["narrative_id"], r["document_id"]) not in existing]
    for rows_part in chunks(full, 2000):
        conn.execute(narrative_assignments.insert(), rows_part)


def move_assignments(conn: Connection, doc_ids: Sequence[str], old: str, new: str) -> None:
    """Documents of ``old`` (all of them when ``doc_ids`` is empty) now belong to ``new``."""
    have = set(
        conn.execute(
            sa.select(narrative_assignments.c.document_id).where(narrative_assignments.c.narrative_id == new)
        ).scalars()
    )
    where = [narrative_assignments.c.narrative_id == old]
    targets = list(doc_ids) if doc_ids else list(
        conn.execute(sa.select(narrative_assignments.c.document_id).where(*where)).scalars()
    )
    dup = [d for d in targets if d in have]
    for part in chunks(dup, _CHUNK):
        conn.execute(narrative_assignments.delete().where(*where, narrative_assignments.c.document_id.in_(part)))
    rest = [d for d in targets if d not in have]
    for part in chunks(rest, _CHUNK):
        conn.execute(
            narrative_assignments.update()
            .where(*where, narrative_assignments.c.document_id.in_(part))
            .values(narrative_id=new)
        )
        conn.execute(
            narrative_vectors.update()
            .where(narrative_vectors.c.narrative_id == old, narrative_vectors.c.document_id.in_(part))
            .values(narrative_id=new)
        )


def add_lineage(
    conn: Connection, kind: str, parent: str, child: str, *, documents: int = 0, similarity: float | None = None,
    by: str = "detector",
) -> None:
    conn.execute(
        narrative_lineage.insert().values(
            kind=kind, parent_id=parent, child_id=child, documents=documents, similarity=similarity, by=by,
            created_at=utcnow(),
        )
    )


def lineage(conn: Connection, narrative_id: str) -> list[dict[str, Any]]:
    q = (
        sa.select(narrative_lineage)
        .where(sa.or_(narrative_lineage.c.parent_id == narrative_id, narrative_lineage.c.child_id == narrative_id))
        .order_by(narrative_lineage.c.id)
    )
    return [
        {"kind": r["kind"], "parent_id": r["parent_id"], "child_id": r["child_id"], "documents": r["documents"],
         "similarity": r["similarity"], "by": r["by"], "at": _iso(r["created_at"])}
        for r in conn.execute(q).mappings()
    ]


# -- emerging clustering state -------------------------------------------------------------------


def save_vectors(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    ids = [r["document_id"] for r in rows]
    for part in chunks(ids, _CHUNK):
        conn.execute(narrative_vectors.delete().where(narrative_vectors.c.document_id.in_(part)))
    for part in chunks(list(rows), 2000):
        conn.execute(narrative_vectors.insert(), part)


def forget_vectors(conn: Connection, doc_ids: Sequence[str]) -> None:
    for part in chunks(list(doc_ids), _CHUNK):
        conn.execute(narrative_vectors.delete().where(narrative_vectors.c.document_id.in_(part)))


def recent_vectors(conn: Connection, space: str, window: int) -> list[dict[str, Any]]:
    """The newest ``window`` clustered documents of a vector space, oldest first."""
    q = (
        sa.select(narrative_vectors.c.document_id, narrative_vectors.c.seq, narrative_vectors.c.narrative_id,
                  narrative_vectors.c.data)
        .where(narrative_vectors.c.space == space)
        .order_by(narrative_vectors.c.seq.desc())
        .limit(window)
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    rows.reverse()
    return rows


def members(conn: Connection, narrative_ids: Iterable[str]) -> dict[str, list[str]]:
    """Documents of each narrative, in the order they were clustered."""
    out: dict[str, list[str]] = {}
    for part in chunks(sorted(set(narrative_ids)), _CHUNK):
        q = (
            sa.select(narrative_vectors.c.narrative_id, narrative_vectors.c.document_id)
            .where(narrative_vectors.c.narrative_id.in_(part))
            .order_by(narrative_vectors.c.seq)
        )
        for n, d in conn.execute(q):
            out.setdefault(str(n), []).append(str(d))
    return out


def get_state(conn: Connection, key: str) -> bytes | None:
    row = conn.execute(sa.select(narrative_state.c.data).where(narrative_state.c.key == key)).first()
    return bytes(row[0]) if row else None


def set_state(conn: Connection, key: str, data: bytes) -> None:
    now = utcnow()
    done = conn.execute(
        narrative_state.update().where(narrative_state.c.key == key).values(data=data, updated_at=now)
    ).rowcount
    if not done:
        conn.execute(narrative_state.insert().values(key=key, data=data, updated_at=now))


def upsert_candidate(conn: Connection, narrative_id: str, fields: dict[str, Any]) -> None:
    """Create or refresh an emerging narrative's row (its name stays once an analyst set it)."""
    now = utcnow()
    row = conn.execute(sa.select(narratives.c.id, narratives.c.origin).where(narratives.c.id == narrative_id)).first()
    if row is None:
        conn.execute(
            narratives.insert().values(
                id=narrative_id, kind="candidate", status="active", description="", keywords=[], debunked=False,
                origin="emerging", created_at=now, updated_at=now, **fields,
            )
        )
        return
    if row[1] != "emerging":
        fields = {k: v for k, v in fields.items() if k != "name"}
    conn.execute(narratives.update().where(narratives.c.id == narrative_id).values(updated_at=now, **fields))


def refresh_stats(conn: Connection, narrative_ids: Iterable[str]) -> None:
    """Size, first and last seen and origin of each narrative, from its assignments."""
    for nid in sorted(set(narrative_ids)):
        where = narrative_assignments.c.narrative_id == nid
        n, first, last = conn.execute(
            sa.select(sa.func.count(), sa.func.min(narrative_assignments.c.published_at),
                      sa.func.max(narrative_assignments.c.published_at)).where(where)
        ).one()
        origin = conn.execute(
            sa.select(narrative_assignments.c.document_id)
            .where(where)
            .order_by(narrative_assignments.c.published_at.is_(None), narrative_assignments.c.published_at,
                      narrative_assignments.c.document_id)
            .limit(1)
        ).scalar()
        conn.execute(
            narratives.update().where(narratives.c.id == nid).values(
                size=int(n), first_seen_at=first, last_seen_at=last, origin_document_id=origin
            )
        )


# -- reading -------------------------------------------------------------------------------------


def _row_out(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"],
        "kind": r["kind"],
        "status": r["status"],
        "name": r["name"],
        "description": r["description"],
        "keywords": list(r["keywords"] or []),
        "parent_id": r["parent_id"],
        "debunked": bool(r["debunked"]),
        "defined_by": r["origin"],
        "merged_into": r["merged_into"],
        "labels": dict(r["labels"] or {}),
        "representatives": list(r["representatives"] or []),
        "size": int(r["size"] or 0),
        "first_seen_at": _iso(r["first_seen_at"]),
        "last_seen_at": _iso(r["last_seen_at"]),
        "origin_document_id": r["origin_document_id"],
    }


def latest_day(conn: Connection) -> datetime | None:
    """The newest assigned publication time: "this week" ends there when the data is older
    than today (an archive, the demo)."""
    return _aware(conn.execute(sa.select(sa.func.max(narrative_assignments.c.published_at))).scalar())


def list_narratives(
    conn: Connection,
    *,
    kind: str | None = None,
    status: str | None = "active",
    min_size: int = 0,
    days: int = 7,
    limit: int = 100,
    offset: int = 0,
    include_small_candidates: bool = False,
    candidate_min_size: int = 5,
) -> list[dict[str, Any]]:
    """Narratives with their volume in the last ``days`` days (ending at the newest data when
    that is older than today) and the ratio to their earlier daily mean: the list "active this
    week, by surge"."""
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"unknown narrative kind {kind!r}; use one of: {', '.join(KINDS)}")
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    q = sa.select(narratives)
    if kind:
        q = q.where(narratives.c.kind == kind)
    if status:
        q = q.where(narratives.c.status == status)
    if min_size:
        q = q.where(narratives.c.size >= min_size)
    if not include_small_candidates:
        q = q.where(sa.or_(narratives.c.kind == "known", narratives.c.size >= candidate_min_size))
    rows = [_row_out(r) for r in conn.execute(q).mappings()]
    now = utcnow()
    latest = latest_day(conn)
    until = now if latest is None or latest >= now - timedelta(days=days) else latest
    since = until - timedelta(days=days)
    recent: dict[str, int] = {}
    before: dict[str, tuple[int, datetime | None]] = {}
    ids = [r["id"] for r in rows]
    for part in chunks(ids, _CHUNK):
        a = narrative_assignments
        for nid, n in conn.execute(
            sa.select(a.c.narrative_id, sa.func.count())
            .where(a.c.narrative_id.in_(part), a.c.published_at > since, a.c.published_at <= until)
            .group_by(a.c.narrative_id)
        ):
            recent[str(nid)] = int(n)
        for nid, n, first in conn.execute(
            sa.select(a.c.narrative_id, sa.func.count(), sa.func.min(a.c.published_at))
            .where(a.c.narrative_id.in_(part), a.c.published_at <= since)
            .group_by(a.c.narrative_id)
        ):
            before[str(nid)] = (int(n), _aware(first))
    for r in rows:
        r["recent"] = recent.get(r["id"], 0)
        n_before, first = before.get(r["id"], (0, None))
        span_days = max((since - first).total_seconds() / 86400, 1.0) if first else 0.0
        base = n_before / span_days if span_days else 0.0
        per_day = r["recent"] / days
        r["surge"] = round(per_day / base, 2) if base else (None if not r["recent"] else float("inf"))
    rows.sort(key=lambda r: (-(r["recent"] > 0), -(r["surge"] if r["surge"] not in (None,) else 0), -r["recent"],
                             -r["size"], r["id"]))
    for r in rows:
        if r["surge"] == float("inf"):
            r["surge"] = None
            r["new_this_week"] = True
        else:
            r["new_this_week"] = False
    return rows[offset : offset + limit]


def volumes(conn: Connection, narrative_id: str) -> dict[str, Any]:
    """Documents per day, per language, per affiliation tier and per day by tier and language."""
    a = narrative_assignments
    q = (
        sa.select(a.c.published_at, a.c.language, sources.c.affiliation)
        .select_from(a.outerjoin(sources, sources.c.id == a.c.source_id))
        .where(a.c.narrative_id == narrative_id)
    )
    by_day: dict[str, int] = {}
    by_lang: dict[str, int] = {}
    by_tier: dict[str, int] = {}
    day_tier: dict[str, dict[str, int]] = {}
    day_lang: dict[str, dict[str, int]] = {}
    for when, lang, tier in conn.execute(q):
        at = _aware(when)
        day = at.date().isoformat() if at else "undated"
        lang = lang or "und"
        tier = tier or Affiliation.UNKNOWN.value
        by_day[day] = by_day.get(day, 0) + 1
        by_lang[lang] = by_lang.get(lang, 0) + 1
        by_tier[tier] = by_tier.get(tier, 0) + 1
        day_tier.setdefault(tier, {})[day] = day_tier.setdefault(tier, {}).get(day, 0) + 1
        day_lang.setdefault(lang, {})[day] = day_lang.setdefault(lang, {}).get(day, 0) + 1
    days = sorted(d for d in by_day if d != "undated")
    axis: list[str] = []
    if days:
        first = datetime.fromisoformat(days[0])
        last = datetime.fromisoformat(days[-1])
        axis = [(first + timedelta(days=i)).date().isoformat() for i in range((last - first).days + 1)]
    return {
        "days": axis,
        "by_day": {d: by_day.get(d, 0) for d in axis},
        "undated": by_day.get("undated", 0),
        "by_language": dict(sorted(by_lang.items(), key=lambda kv: -kv[1])),
        "by_tier": {t: by_tier[t] for t in TIERS if t in by_tier},
        "by_day_and_tier": {t: [day_tier[t].get(d, 0) for d in axis] for t in TIERS if t in day_tier},
        "by_day_and_language": {lang: [v.get(d, 0) for d in axis] for lang, v in sorted(day_lang.items())},
    }


def trends(conn: Connection, *, days: int = 30, top: int = 6) -> dict[str, Any]:
    """The ``top`` active narratives by documents published in the window's last 7 days (then
    in all of its ``days`` days), with their documents per day. When nothing assigned was
    published in that window but older assignments exist (an archive, the demo), the window ends at the latest assigned
    publication instead; ``until`` says where it ends and ``recent`` whether that is today.
    Every day of the window is present, zeros included."""
    dialect = conn.dialect.name

    def day(col: Any) -> Any:
        return sa.func.date(col) if dialect == "sqlite" else sa.func.to_char(col, "YYYY-MM-DD")

    a = narrative_assignments
    active = sa.select(narratives.c.id).where(narratives.c.status == "active")
    latest = _aware(conn.execute(sa.select(sa.func.max(a.c.published_at)).where(a.c.narrative_id.in_(active)))
                    .scalar())
    if latest is None:
        return {"until": None, "recent": True, "days": [], "series": []}
    now = utcnow()
    recent = latest >= now - timedelta(days=days)
    until = now if recent else latest
    since = (until - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    bound = until + timedelta(seconds=1)
    counts: dict[str, dict[str, int]] = {}
    q = (
        sa.select(a.c.narrative_id, day(a.c.published_at).label("day"), sa.func.count())
        .where(a.c.narrative_id.in_(active), a.c.published_at >= since, a.c.published_at < bound)
        .group_by(a.c.narrative_id, sa.literal_column("day"))
    )
    for nid, d, n in conn.execute(q):
        if d is not None:
            counts.setdefault(str(nid), {})[str(d)] = int(n)
    first = since.date()
    axis = [(first + timedelta(days=i)).isoformat() for i in range(days + 1)]
    week = axis[-7:]  # what is active now leads: documents in the window's last week, then in all of it
    ranked = sorted(counts, key=lambda n: (-sum(counts[n].get(d, 0) for d in week), -sum(counts[n].values()), n))
    ranked = ranked[:top]
    names = {}
    if ranked:
        q2 = sa.select(narratives.c.id, narratives.c.name, narratives.c.kind).where(narratives.c.id.in_(ranked))
        names = {r[0]: (r[1], r[2]) for r in conn.execute(q2)}
    series = [
        {"id": n, "name": names.get(n, (n, ""))[0], "kind": names.get(n, (n, ""))[1],
         "documents": sum(counts[n].values()), "counts": [counts[n].get(d, 0) for d in axis]}
        for n in ranked
    ]
    return {"until": until.date().isoformat(), "recent": recent, "days": axis, "series": series}


def daily_counts(conn: Connection, narrative_ids: Sequence[str]) -> tuple[list[str], dict[str, list[int]], list[int]]:
    """(days, counts per narrative per day, all documents per day) over the days with data."""
    dialect = conn.dialect.name

    def day(col: Any) -> Any:
        return sa.func.date(col) if dialect == "sqlite" else sa.func.to_char(col, "YYYY-MM-DD")

    d = documents
    stamp = sa.func.coalesce(d.c.published_at, d.c.collected_at)
    totals = {
        str(k): int(n)
        for k, n in conn.execute(sa.select(day(stamp).label("day"), sa.func.count()).group_by(sa.literal_column("day")))
        if k is not None
    }
    if not totals:
        return [], {}, []
    first = datetime.fromisoformat(min(totals))
    last = datetime.fromisoformat(max(totals))
    axis = [(first + timedelta(days=i)).date().isoformat() for i in range((last - first).days + 1)]
    counts: dict[str, dict[str, int]] = {}
    a = narrative_assignments
    for part in chunks(list(narrative_ids), _CHUNK):
        q = (
            sa.select(a.c.narrative_id, day(a.c.published_at).label("day"), sa.func.count())
            .where(a.c.narrative_id.in_(part), a.c.published_at.is_not(None))
            .group_by(a.c.narrative_id, sa.literal_column("day"))
        )
        for nid, k, n in conn.execute(q):
            counts.setdefault(str(nid), {})[str(k)] = int(n)
    return (
        axis,
        {nid: [counts.get(nid, {}).get(x, 0) for x in axis] for nid in narrative_ids},
        [totals.get(x, 0) for x in axis],
    )


def narrative_bursts(conn: Connection, narrative_id: str) -> dict[str, Any]:
    """The narrative's bursts over its daily share of all stored documents (the method the
    surge signal uses, named with its parameters), oldest first."""
    from fimiscope.index.narratives import BURST_GAMMA, BURST_METHOD, BURST_S, bursts  # numpy/scipy: loaded when asked

    axis, counts, totals = daily_counts(conn, [narrative_id])
    series = counts.get(narrative_id, [])
    found = bursts(series, totals) if sum(series) else []
    return {
        "method": BURST_METHOD,
        "parameters": {"s": BURST_S, "gamma": BURST_GAMMA, "over": "daily share of all stored documents"},
        "bursts": [
            {"start": axis[b.start], "end": axis[b.end], "documents": int(sum(series[b.start : b.end + 1])),
             "share": round(b.share, 5), "baseline": round(b.baseline, 5), "weight": round(b.weight, 3)}
            for b in found
        ],
    }


def assigned_documents(
    conn: Connection, narrative_id: str, *, limit: int = 20, order: str = "score"
) -> list[dict[str, Any]]:
    """Documents of a narrative with source, tier and the sentences that carry it."""
    a = narrative_assignments
    q = (
        sa.select(a, documents.c.title, documents.c.url, documents.c.text, sources.c.name.label("source"),
                  sources.c.affiliation)
        .select_from(a.join(documents, documents.c.id == a.c.document_id).outerjoin(
            sources, sources.c.id == documents.c.source_id))
        .where(a.c.narrative_id == narrative_id)
    )
    if order == "first":
        q = q.order_by(a.c.published_at.is_(None), a.c.published_at, a.c.document_id)
    else:
        q = q.order_by(a.c.score.desc(), a.c.document_id)
    out = []
    for r in conn.execute(q.limit(limit)).mappings():
        text = r["text"] or ""
        spans = [(int(s[0]), int(s[1]), float(s[2])) for s in (r["sentences"] or []) if len(s) >= 3]
        out.append(
            {
                "document_id": r["document_id"],
                "title": r["title"],
                "url": r["url"],
                "source": r["source"],
                "affiliation": r["affiliation"] or Affiliation.UNKNOWN.value,
                "language": r["language"],
                "published_at": _iso(r["published_at"]),
                "method": r["method"],
                "score": round(float(r["score"]), 4),
                "components": r["components"] or {},
                "sentences": [
                    {"start": s[0], "end": s[1], "score": s[2], "text": text[s[0] : s[1]]} for s in spans
                ],
                "excerpt": text[:400],
            }
        )
    return out


def related_clusters(conn: Connection, narrative_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Laundering clusters holding documents of this narrative, most shared documents first."""
    from fimiscope.store.tables_laundering import laundering_clusters, laundering_members

    a = narrative_assignments
    q = (
        sa.select(laundering_members.c.cluster_id, sa.func.count().label("shared"))
        .select_from(a.join(laundering_members, laundering_members.c.document_id == a.c.document_id))
        .where(a.c.narrative_id == narrative_id)
        .group_by(laundering_members.c.cluster_id)
        .order_by(sa.desc("shared"), laundering_members.c.cluster_id)
        .limit(limit)
    )
    shared = {str(c): int(n) for c, n in conn.execute(q)}
    if not shared:
        return []
    rows = conn.execute(sa.select(laundering_clusters).where(laundering_clusters.c.id.in_(list(shared)))).mappings()
    out = [
        {"id": r["id"], "size": r["size"], "languages": r["languages"], "shared_documents": shared[r["id"]],
         "first_published_at": _iso(r["first_published_at"])}
        for r in rows
    ]
    out.sort(key=lambda c: (-c["shared_documents"], c["id"]))
    return out


def related_groups(conn: Connection, narrative_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Coordinated groups (the coordination detector's active ones) whose members published
    documents of this narrative, most such documents first: which networks carry it."""
    from fimiscope.store.tables_coordination import coordination_groups, coordination_members

    a = narrative_assignments
    m = coordination_members
    g = coordination_groups
    q = (
        sa.select(m.c.group_id, m.c.account, sa.func.count().label("n"))
        .select_from(
            a.join(sources, sources.c.id == a.c.source_id)
            .join(m, m.c.account == sources.c.name)
            .join(g, g.c.id == m.c.group_id)
        )
        .where(a.c.narrative_id == narrative_id, g.c.status == "active")
        .group_by(m.c.group_id, m.c.account)
    )
    carrying: dict[str, dict[str, int]] = {}
    for gid, account, n in conn.execute(q):
        carrying.setdefault(str(gid), {})[str(account)] = int(n)
    if not carrying:
        return []
    out = []
    rows = conn.execute(sa.select(g).where(g.c.id.in_(list(carrying)))).mappings()
    for r in rows:
        by_member = carrying[r["id"]]
        out.append(
            {"id": r["id"], "size": r["size"], "score": round(float(r["score"]), 4), "kinds": r["kinds"] or {},
             "platforms": r["platforms"] or [], "shared_documents": sum(by_member.values()),
             "members_carrying": sorted(by_member), "signal_id": r["signal_id"],
             "first_at": _iso(r["first_at"]), "last_at": _iso(r["last_at"])}
        )
    out.sort(key=lambda x: (-x["shared_documents"], -x["score"], x["id"]))
    return out[:limit]


def narratives_of_documents(conn: Connection, doc_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    a = narrative_assignments
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = (
            sa.select(a.c.document_id, a.c.narrative_id, a.c.score, a.c.method, narratives.c.name)
            .select_from(a.join(narratives, narratives.c.id == a.c.narrative_id))
            .where(a.c.document_id.in_(part))
        )
        for r in conn.execute(q).mappings():
            out.setdefault(r["document_id"], []).append(
                {"narrative_id": r["narrative_id"], "name": r["name"], "score": r["score"], "method": r["method"]}
            )
    return out


def get(conn: Connection, narrative_id: str, *, documents_limit: int = 20) -> dict[str, Any]:
    """A narrative with its examples, volumes, origin, top documents, lineage, and the laundering
    clusters and coordinated groups that carry it."""
    row = get_row(conn, narrative_id)
    out = _row_out(row)
    out["examples"] = examples(conn, [narrative_id]).get(narrative_id, [])
    out["children"] = [
        {"id": r["id"], "name": r["name"], "size": r["size"]}
        for r in conn.execute(
            sa.select(narratives.c.id, narratives.c.name, narratives.c.size)
            .where(narratives.c.parent_id == narrative_id)
            .order_by(narratives.c.name)
        ).mappings()
    ]
    out["volumes"] = volumes(conn, narrative_id)
    out["bursts"] = narrative_bursts(conn, narrative_id)
    out["origin"] = assigned_documents(conn, narrative_id, limit=3, order="first")
    out["documents"] = assigned_documents(conn, narrative_id, limit=documents_limit)
    out["lineage"] = lineage(conn, narrative_id)
    out["clusters"] = related_clusters(conn, narrative_id)
    out["groups"] = related_groups(conn, narrative_id)
    return out


def stix_facts(conn: Connection, names_or_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """What an OpenCTI narrative object says of the stored narratives an incident names (by
    name or id): the name, description, keywords as aliases, and its kind as the type."""
    wanted = sorted({n for n in names_or_ids if n})
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(wanted, _CHUNK):
        q = sa.select(narratives).where(sa.or_(narratives.c.id.in_(part), narratives.c.name.in_(part)))
        for r in conn.execute(q).mappings():
            kinds = ["emerging" if r["kind"] == "candidate" else "known"] + (["debunked"] if r["debunked"] else [])
            facts = {"name": r["name"], "description": r["description"] or None,
                     "aliases": [k for k in (r["keywords"] or []) if k != r["name"]] or None, "types": kinds}
            for key in (r["id"], r["name"]):
                if key in part:
                    out[key] = facts
    return out


def count(conn: Connection) -> dict[str, int]:
    q = sa.select(narratives.c.kind, sa.func.count()).where(narratives.c.status == "active").group_by(narratives.c.kind)
    return {str(k): int(n) for k, n in conn.execute(q)}


# -- analyst actions -----------------------------------------------------------------------------


def promote(conn: Connection, narrative_id: str, *, name: str | None = None, by: str = "analyst",
            examples_from_documents: int = 5) -> None:
    """An emerging narrative becomes a known one, same id; its representative documents become
    its examples so new documents are assigned to it by the known-narrative path."""
    row = get_row(conn, narrative_id)
    if row["kind"] == "known":
        raise InvalidInput(f"narrative {narrative_id} is already known")
    if row["status"] != "active":
        raise InvalidInput(f"narrative {narrative_id} is {row['status']}; only an active candidate can be promoted")
    reps = list(row["representatives"] or [])[:examples_from_documents]
    texts: list[Any] = []
    for part in chunks(reps, _CHUNK):
        texts.extend(
            conn.execute(sa.select(documents.c.id, documents.c.text).where(documents.c.id.in_(part))).all()
        )
    by_id = {d: t for d, t in texts}
    labels = row["labels"] or {}
    terms = sorted({t for ts in labels.values() for t in ts[:5]})
    values: dict[str, Any] = {"kind": "known", "origin": "promoted", "updated_at": utcnow()}
    if name:
        values["name"] = " ".join(name.split())
    if not row["keywords"] and terms:
        values["keywords"] = terms
    conn.execute(narratives.update().where(narratives.c.id == narrative_id).values(**values))
    for d in reps:
        if d in by_id:
            add_examples(conn, narrative_id, [by_id[d]], document_id=d)
    conn.execute(
        narrative_assignments.update()
        .where(narrative_assignments.c.narrative_id == narrative_id)
        .values(method="known")
    )
    add_lineage(conn, "promoted", narrative_id, narrative_id, documents=int(row["size"] or 0), by=by)


def merge(conn: Connection, source_id: str, target_id: str, *, by: str = "analyst") -> int:
    """``source_id`` is folded into ``target_id``: its documents and examples move, it is marked
    merged, and the lineage records it. Returns the documents moved."""
    if source_id == target_id:
        raise InvalidInput("a narrative cannot be merged into itself")
    src = get_row(conn, source_id)
    get_row(conn, target_id)
    target_id = resolve(conn, target_id)
    if src["status"] == "merged":
        raise InvalidInput(f"narrative {source_id} was already merged into {src['merged_into']}")
    n = int(conn.execute(
        sa.select(sa.func.count()).where(narrative_assignments.c.narrative_id == source_id)
    ).scalar_one())
    move_assignments(conn, [], source_id, target_id)
    conn.execute(
        narrative_vectors.update().where(narrative_vectors.c.narrative_id == source_id).values(narrative_id=target_id)
    )
    conn.execute(
        narrative_examples.update().where(narrative_examples.c.narrative_id == source_id).values(narrative_id=target_id)
    )
    conn.execute(
        narratives.update().where(narratives.c.id == source_id).values(
            status="merged", merged_into=target_id, size=0, updated_at=utcnow()
        )
    )
    conn.execute(narratives.update().where(narratives.c.parent_id == source_id).values(parent_id=target_id))
    add_lineage(conn, "merged", source_id, target_id, documents=n, by=by)
    touch(conn, target_id)
    refresh_stats(conn, [target_id])
    return n


def mark_merged(conn: Connection, narrative_id: str, into: str) -> None:
    conn.execute(narratives.update().where(narratives.c.id == narrative_id).values(
        status="merged", merged_into=into, updated_at=utcnow()))


def dismiss(conn: Connection, narrative_id: str, *, by: str = "analyst") -> None:
    row = get_row(conn, narrative_id)
    if row["status"] == "merged":
        raise InvalidInput(f"narrative {narrative_id} was merged into {row['merged_into']}")
    update(conn, narrative_id, status="dismissed")
    add_lineage(conn, "dismissed", narrative_id, narrative_id, documents=int(row["size"] or 0), by=by)
