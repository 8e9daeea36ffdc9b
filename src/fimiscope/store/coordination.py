"""Store access for the coordination detector: the posts it reads, the groups it writes (with
members, edges and member actions on shared items) and its runs. Functions over a
``Connection`` so one detector run writes everything in one transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.store.sql import chunks
from fimiscope.store.tables import documents, sources
from fimiscope.store.tables_coordination import (
    coordination_actions,
    coordination_edges,
    coordination_groups,
    coordination_members,
    coordination_runs,
)

_CHUNK = 500


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


POST_COLUMNS = (
    "id",
    "key",
    "url",
    "external_id",
    "platform",
    "language",
    "links",
    "shared_from",
    "title",
    "text",
    "at",
    "metadata",
    "source",
)


def iter_posts(conn: Connection, batch: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """Every document that has a source and a time, oldest-stored first, as tuples in the
    order of ``POST_COLUMNS`` (text cut to its first 2,000 characters): what the detector
    reads. Tuples, not mappings: at a million posts the per-row cost is the stage's read time."""
    when = sa.func.coalesce(documents.c.published_at, documents.c.collected_at)
    q = (
        sa.select(
            documents.c.id,
            documents.c.key,
            documents.c.url,
            documents.c.external_id,
            documents.c.platform,
            documents.c.language,
            documents.c.links,
            documents.c.shared_from,
            documents.c.title,
            sa.func.substr(documents.c.text, 1, 2000).label("text"),
            when.label("at"),
            documents.c.metadata,
            sources.c.name.label("source"),
            documents.c.pk,
        )
        .join(sources, sources.c.id == documents.c.source_id)
        .order_by(documents.c.pk)
    )
    last = 0
    while True:
        rows = conn.execute(q.where(documents.c.pk > last).limit(batch)).all()
        if not rows:
            return
        for r in rows:
            yield tuple(r)[:-1]
        last = int(rows[-1][-1])


def source_facts(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """id, platform and affiliation of sources by name."""
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(names)), _CHUNK):
        q = sa.select(sources.c.name, sources.c.id, sources.c.platform, sources.c.affiliation).where(
            sources.c.name.in_(part)
        )
        for r in conn.execute(q).mappings():
            out[r["name"]] = {"id": r["id"], "platform": r["platform"], "affiliation": r["affiliation"]}
    return out


def active_groups(conn: Connection) -> dict[str, set[str]]:
    """Members of the groups the last run found, for stable ids."""
    q = (
        sa.select(coordination_members.c.group_id, coordination_members.c.account)
        .join(coordination_groups, coordination_groups.c.id == coordination_members.c.group_id)
        .where(coordination_groups.c.status == "active")
    )
    out: dict[str, set[str]] = {}
    for gid, account in conn.execute(q):
        out.setdefault(gid, set()).add(account)
    return out


def write_groups(conn: Connection, groups: Sequence[Mapping[str, Any]]) -> None:
    """Replace the active groups with ``groups`` (each: the group row's columns plus
    ``members``, ``edges`` and ``actions`` lists). Groups of the last run that are not in
    ``groups`` are kept as dissolved, with their members, so links from incidents still work;
    a member keeps the time it first joined its group."""
    now = utcnow()
    ids = [str(g["id"]) for g in groups]
    joined: dict[tuple[str, str], datetime] = {}
    created: dict[str, datetime] = {}
    for part in chunks(ids, _CHUNK):
        q = sa.select(
            coordination_members.c.group_id, coordination_members.c.account, coordination_members.c.joined_at
        ).where(coordination_members.c.group_id.in_(part))
        for gid, account, at in conn.execute(q):
            joined[(gid, account)] = at
        q2 = sa.select(coordination_groups.c.id, coordination_groups.c.created_at).where(
            coordination_groups.c.id.in_(part)
        )
        created.update((gid, at) for gid, at in conn.execute(q2))
    conn.execute(
        coordination_groups.update()
        .where(coordination_groups.c.status == "active")
        .where(coordination_groups.c.id.not_in(ids) if ids else sa.true())
        .values(status="dissolved", updated_at=now)
    )
    for part in chunks(ids, _CHUNK):
        for table in (coordination_members, coordination_edges, coordination_actions):
            conn.execute(table.delete().where(table.c.group_id.in_(part)))
        conn.execute(coordination_groups.delete().where(coordination_groups.c.id.in_(part)))
    for g in groups:
        gid = str(g["id"])
        row = {k: v for k, v in g.items() if k not in ("members", "edges", "actions")}
        conn.execute(
            coordination_groups.insert().values(
                **row, status="active", created_at=created.get(gid, now), updated_at=now
            )
        )
        members = [{**m, "group_id": gid, "joined_at": joined.get((gid, m["account"]), now)} for m in g["members"]]
        if members:
            conn.execute(coordination_members.insert(), members)
        for rows in chunks([{**e, "group_id": gid} for e in g["edges"]], 2000):
            conn.execute(coordination_edges.insert(), rows)
        for rows in chunks([{**a, "group_id": gid} for a in g["actions"]], 2000):
            conn.execute(coordination_actions.insert(), rows)


def set_signal(conn: Connection, group_id: str, signal_id: str | None) -> None:
    conn.execute(coordination_groups.update().where(coordination_groups.c.id == group_id).values(signal_id=signal_id))


def record_run(conn: Connection, run: Mapping[str, Any]) -> None:
    conn.execute(coordination_runs.insert().values(at=utcnow(), **run))


def latest_run(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(sa.select(coordination_runs).order_by(coordination_runs.c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return {**dict(row), "at": _aware(row["at"])}


def _group_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    for k in ("first_at", "last_at", "created_at", "updated_at"):
        out[k] = _aware(out.get(k))
    return out


def list_groups(
    conn: Connection,
    *,
    min_size: int = 0,
    kind: str | None = None,
    platform: str | None = None,
    affiliation: str | None = None,
    status: str | None = "active",
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Groups, strongest first, with their members' names. ``kind``, ``platform`` and
    ``affiliation`` keep the groups that have that kind of co-action, a member on that
    platform, or a member of that affiliation tier."""
    q = sa.select(coordination_groups).where(coordination_groups.c.size >= min_size)
    if status:
        q = q.where(coordination_groups.c.status == status)
    if platform or affiliation:
        sub = sa.select(coordination_members.c.group_id)
        if platform:
            sub = sub.where(coordination_members.c.platform == platform)
        if affiliation:
            sub = sub.where(coordination_members.c.affiliation == affiliation)
        q = q.where(coordination_groups.c.id.in_(sub))
    q = q.order_by(coordination_groups.c.score.desc(), coordination_groups.c.size.desc(), coordination_groups.c.id)
    rows = [_group_dict(r) for r in conn.execute(q).mappings()]
    if kind:  # the kinds column is JSON; few groups, so filter here rather than per dialect
        rows = [r for r in rows if (r["kinds"] or {}).get(kind)]
    rows = rows[offset : offset + limit]
    members = _members(conn, [r["id"] for r in rows])
    for r in rows:
        r["accounts"] = [m["account"] for m in members.get(r["id"], [])]
    return rows


def _members(conn: Connection, group_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for part in chunks(list(group_ids), _CHUNK):
        q = (
            sa.select(coordination_members)
            .where(coordination_members.c.group_id.in_(part))
            .order_by(coordination_members.c.group_id, coordination_members.c.account)
        )
        for r in conn.execute(q).mappings():
            m = dict(r)
            m["first_action_at"] = _aware(m["first_action_at"])
            m["joined_at"] = _aware(m["joined_at"])
            out.setdefault(m.pop("group_id"), []).append(m)
    return out


def get_group(conn: Connection, group_id: str) -> dict[str, Any]:
    """A group with its members, edges and shared items (each with every member's action)."""
    row = conn.execute(sa.select(coordination_groups).where(coordination_groups.c.id == group_id)).mappings().first()
    if row is None:
        raise NotFound(f"no coordinated group {group_id!r}; `fimiscope coordination groups` lists them")
    g = _group_dict(row)
    g["members"] = _members(conn, [group_id]).get(group_id, [])
    g["accounts"] = [m["account"] for m in g["members"]]
    edges = conn.execute(
        sa.select(coordination_edges)
        .where(coordination_edges.c.group_id == group_id)
        .order_by(coordination_edges.c.account_a, coordination_edges.c.account_b, coordination_edges.c.kind)
    ).mappings()
    g["edges"] = [{k: v for k, v in e.items() if k != "group_id"} for e in edges]
    acts = conn.execute(
        sa.select(coordination_actions)
        .where(coordination_actions.c.group_id == group_id)
        .order_by(coordination_actions.c.item_index, coordination_actions.c.delay_s, coordination_actions.c.account)
    ).mappings()
    items: dict[int, dict[str, Any]] = {}
    for a in acts:
        it = items.setdefault(
            int(a["item_index"]), {"kind": a["kind"], "item": a["item"], "at": _aware(a["at"]), "actions": []}
        )
        it["actions"].append(
            {"account": a["account"], "document_id": a["document_id"], "at": _aware(a["at"]), "delay_s": a["delay_s"]}
        )
    g["items"] = [items[i] for i in sorted(items)]
    return g


def groups_of_signal(conn: Connection, signal_ids: Sequence[str]) -> dict[str, str]:
    """signal id -> group id, for the signals coordination wrote."""
    out: dict[str, str] = {}
    for part in chunks(list(signal_ids), _CHUNK):
        q = sa.select(coordination_groups.c.signal_id, coordination_groups.c.id).where(
            coordination_groups.c.signal_id.in_(part)
        )
        out.update((s, g) for s, g in conn.execute(q))
    return out
