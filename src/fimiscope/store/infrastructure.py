"""Store access for the infrastructure room: indicator observations (pages, look-ups, imported
files), look-up history, per-site profiles, scored links and site groups. Functions over a
``Connection``, connection first, so a pipeline batch writes everything in one transaction."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.core.model import FLAGGED_AFFILIATIONS
from fimiscope.store.sql import chunks
from fimiscope.store.tables import sources
from fimiscope.store.tables_infrastructure import (
    infra_group_members,
    infra_groups,
    infra_links,
    infra_lookups,
    infra_observations,
    infra_sites,
)

_CHUNK = 500
MAX_CLASSES = 500
MAX_OUTBOUND = 300


def observation_key(site: str, kind: str, value: str, where: str, origin: str) -> str:
    raw = "\x1f".join((site, kind, value, where, origin))
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


def record_observations(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """Add sightings: ``site, kind, value, where, origin, seen_at`` and optionally
    ``document_id, url, snippet, details``. A sighting already stored moves its last-seen time
    and page on and counts once more; the first sighting is kept. Returns rows written."""
    if not rows:
        return 0
    now = utcnow()
    merged: dict[str, dict[str, Any]] = {}
    for r in rows:
        value = str(r["value"])[:600]
        where = str(r.get("where") or "")[:300]
        origin = str(r.get("origin") or "page")[:300]
        key = observation_key(r["site"], r["kind"], value, where, origin)
        seen = _aware(r.get("seen_at")) or now
        old = merged.get(key)
        if old is not None:
            old["times"] += 1
            if seen >= old["last_seen"]:
                old["last_seen"], old["last_document_id"] = seen, r.get("document_id") or old["last_document_id"]
            if seen < old["first_seen"]:
                old["first_seen"], old["first_document_id"] = seen, r.get("document_id") or old["first_document_id"]
            continue
        merged[key] = {
            "key": key, "site": r["site"][:300], "kind": r["kind"][:40], "value": value, "where": where,
            "origin": origin, "first_document_id": r.get("document_id"), "last_document_id": r.get("document_id"),
            "url": r.get("url"), "snippet": str(r.get("snippet") or "")[:300], "first_seen": seen, "last_seen": seen,
            "times": 1, "details": r.get("details") or {}, "updated_at": now,
        }
    table = infra_observations
    stmt: Any
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "last_seen": sa.case((ex.last_seen >= table.c.last_seen, ex.last_seen), else_=table.c.last_seen),
            "last_document_id": sa.case(
                (ex.last_seen >= table.c.last_seen, sa.func.coalesce(ex.last_document_id, table.c.last_document_id)),
                else_=table.c.last_document_id),
            "first_seen": sa.case((ex.first_seen < table.c.first_seen, ex.first_seen), else_=table.c.first_seen),
            "first_document_id": sa.case(
                (ex.first_seen < table.c.first_seen, sa.func.coalesce(ex.first_document_id, table.c.first_document_id)),
                else_=table.c.first_document_id),
            "times": table.c.times + ex.times,
            "updated_at": ex.updated_at,
        },
    )
    for part in chunks(sorted(merged.values(), key=lambda r: r["key"]), _CHUNK):
        conn.execute(stmt, part)
    return len(merged)


def merge_site_profiles(conn: Connection, profiles: dict[str, dict[str, Any]]) -> None:
    """Fold page profiles into each site's: ``classes`` (union, capped), ``outbound`` (counts
    added, capped), ``favicon_url`` (first known), ``pages`` (added), ``notes``, ``seen_at``."""
    if not profiles:
        return
    now = utcnow()
    existing = {r["site"]: r for part in chunks(sorted(profiles), _CHUNK)
                for r in conn.execute(sa.select(infra_sites).where(infra_sites.c.site.in_(part))).mappings()}
    for site, prof in profiles.items():
        seen = _aware(prof.get("seen_at")) or now
        old = existing.get(site)
        classes = sorted(set(old["classes"] if old else []) | set(prof.get("classes", [])))[:MAX_CLASSES]
        outbound: dict[str, int] = dict(old["outbound"]) if old else {}
        for dom, n in prof.get("outbound", {}).items():
            if dom in outbound or len(outbound) < MAX_OUTBOUND:
                outbound[dom] = outbound.get(dom, 0) + int(n)
        notes = list(dict.fromkeys([*(old["notes"] if old else []), *prof.get("notes", [])]))[-20:]
        values = {"classes": classes, "outbound": outbound, "notes": notes, "updated_at": now,
                  "favicon_url": (old["favicon_url"] if old and old["favicon_url"] else prof.get("favicon_url")),
                  "pages": (old["pages"] if old else 0) + int(prof.get("pages", 0))}
        if old is None:
            conn.execute(infra_sites.insert().values(site=site, first_seen=seen, last_seen=seen, **values))
        else:
            last = max(_aware(old["last_seen"]) or seen, seen)
            first = min(_aware(old["first_seen"]) or seen, seen)
            conn.execute(infra_sites.update().where(infra_sites.c.site == site)
                         .values(first_seen=first, last_seen=last, **values))


def record_lookup(conn: Connection, site: str, lookup: str, at: datetime, ok: bool, error: str | None,
                  found: Sequence[tuple[str, str]], raw: dict[str, Any]) -> None:
    """One look-up as it happened, and what it found as observations seen at that time."""
    conn.execute(infra_lookups.insert().values(site=site, lookup=lookup, at=at, ok=ok, error=error,
                                               found=[list(f) for f in found], raw=raw))
    record_observations(conn, [{"site": site, "kind": k, "value": v, "where": f"{lookup} look-up",
                                "origin": lookup, "seen_at": at} for k, v in found])


# -- what the detector reads and writes -----------------------------------------------------------


def change_marker(conn: Connection) -> int:
    """Milliseconds of the latest change to observations or site profiles (0: none yet)."""
    latest = [conn.execute(sa.select(sa.func.max(t.c.updated_at))).scalar() for t in (infra_observations, infra_sites)]
    stamps = [int(to_utc(v).timestamp() * 1000) for v in latest if v is not None]
    return max(stamps, default=0)


def observation_triples(conn: Connection) -> list[tuple[str, str, str]]:
    """Distinct (site, kind, value) of every stored sighting."""
    q = sa.select(infra_observations.c.site, infra_observations.c.kind, infra_observations.c.value).distinct()
    return [(r[0], r[1], r[2]) for r in conn.execute(q)]


def site_profiles(conn: Connection) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    classes: dict[str, list[str]] = {}
    outbound: dict[str, dict[str, int]] = {}
    for r in conn.execute(sa.select(infra_sites.c.site, infra_sites.c.classes, infra_sites.c.outbound)):
        if r[1]:
            classes[r[0]] = list(r[1])
        if r[2]:
            outbound[r[0]] = dict(r[2])
    # Imported class sets (the Laundromat's css-class rows) count like a page's.
    q = sa.select(infra_observations.c.site, infra_observations.c.details).where(
        infra_observations.c.kind == "css_classes")
    for site, details in conn.execute(q):
        extra = (details or {}).get("classes") or []
        if extra:
            classes[site] = sorted(set(classes.get(site, [])) | set(extra))[:MAX_CLASSES]
    return classes, outbound


def save_links(conn: Connection, links: Sequence[Any], now: datetime) -> None:
    conn.execute(infra_links.delete())
    rows = [{"site_a": lk.a, "site_b": lk.b, "score": lk.score, "tier": lk.tier, "shared": lk.shared,
             "updated_at": now} for lk in links]
    for part in chunks(rows, _CHUNK):
        conn.execute(infra_links.insert(), part)


def previous_groups(conn: Connection) -> dict[str, list[str]]:
    q = (sa.select(infra_group_members.c.group_id, infra_group_members.c.site)
         .join(infra_groups, infra_groups.c.id == infra_group_members.c.group_id)
         .where(infra_groups.c.active.is_(True)))
    out: dict[str, list[str]] = defaultdict(list)
    for gid, site in conn.execute(q):
        out[gid].append(site)
    return dict(out)


def save_groups(conn: Connection, groups: Sequence[Any], now: datetime) -> list[tuple[str, str]]:
    """Write this run's groups; groups gone since are kept, inactive. Returns (group id, site)
    for every site that joined a group that already existed (the join signals)."""
    before = previous_groups(conn)
    known = {r[0] for r in conn.execute(sa.select(infra_groups.c.id))}
    joins: list[tuple[str, str]] = []
    current = {g.id for g in groups}
    conn.execute(infra_groups.update().where(infra_groups.c.id.not_in(current) if current else sa.true())
                 .values(active=False, updated_at=now))
    for g in groups:
        values = {"size": len(g.sites), "tier": g.tier, "score": g.score, "names": list(g.names), "active": True,
                  "updated_at": now}
        if g.id in known:
            conn.execute(infra_groups.update().where(infra_groups.c.id == g.id).values(**values))
        else:
            conn.execute(infra_groups.insert().values(id=g.id, created_at=now, **values))
        old_members = set(before.get(g.id, []))
        joined_at = {r[0]: r[1] for r in conn.execute(
            sa.select(infra_group_members.c.site, infra_group_members.c.joined_at)
            .where(infra_group_members.c.group_id == g.id))}
        conn.execute(infra_group_members.delete().where(infra_group_members.c.group_id == g.id))
        conn.execute(infra_group_members.insert(), [
            {"group_id": g.id, "site": s, "joined_at": joined_at.get(s, now)} for s in g.sites])
        if g.id in before:
            joins.extend((g.id, s) for s in g.sites if s not in old_members)
    return joins


def source_facts(conn: Connection, sites: Iterable[str]) -> dict[str, dict[str, Any]]:
    """For each site that is a known source (by domain or name): name, affiliation, lists,
    whether it is flagged (a state tier, or on a published list)."""
    wanted = sorted(set(sites))
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(wanted, _CHUNK):
        q = sa.select(sources.c.id, sources.c.name, sources.c.domain, sources.c.affiliation, sources.c.lists).where(
            sa.or_(sources.c.domain.in_(part), sources.c.name.in_(part)))
        for r in conn.execute(q).mappings():
            site = r["domain"] if r["domain"] in part else r["name"]
            lists = list(r["lists"] or [])
            out[site] = {"source_id": r["id"], "source": r["name"], "affiliation": r["affiliation"], "lists": lists,
                         "flagged": r["affiliation"] in {a.value for a in FLAGGED_AFFILIATIONS} or bool(lists)}
    return out


def sightings(conn: Connection, pairs: Iterable[tuple[str, str, str]], limit_each: int = 3) -> dict[
        tuple[str, str, str], list[dict[str, Any]]]:
    """Where and when each (site, kind, value) was seen: place, origin, page, first/last time."""
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    wanted = sorted(set(pairs))
    by_site: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for triple in wanted:
        by_site[triple[0]].append(triple)
    t = infra_observations
    for site, triples in by_site.items():
        kinds = {k for _s, k, _v in triples}
        q = sa.select(t).where(t.c.site == site, t.c.kind.in_(sorted(kinds))).order_by(t.c.first_seen)
        want = set(triples)
        for r in conn.execute(q).mappings():
            key = (r["site"], r["kind"], r["value"])
            if key in want and len(out[key]) < limit_each:
                out[key].append(_sighting(r))
    return dict(out)


def _sighting(r: Any) -> dict[str, Any]:
    return {"where": r["where"], "origin": r["origin"], "url": r["url"], "document_id": r["last_document_id"],
            "first_document_id": r["first_document_id"], "snippet": r["snippet"],
            "first_seen": _iso(r["first_seen"]), "last_seen": _iso(r["last_seen"]), "times": r["times"]}


def _iso(v: datetime | None) -> str | None:
    return to_utc(v).isoformat() if v is not None else None


# -- readers for the CLI, API and workbench ------------------------------------------------------


def list_groups(conn: Connection, *, limit: int = 50, offset: int = 0, active: bool = True,
                site: str | None = None) -> list[dict[str, Any]]:
    g, m = infra_groups, infra_group_members
    q = sa.select(g).where(g.c.active.is_(active)) if active else sa.select(g)
    if site:
        q = q.where(g.c.id.in_(sa.select(m.c.group_id).where(m.c.site == site)))
    q = q.order_by(g.c.size.desc(), g.c.score.desc(), g.c.id).limit(limit).offset(offset)
    rows = list(conn.execute(q).mappings())
    members: dict[str, list[str]] = defaultdict(list)
    ids = [r["id"] for r in rows]
    for part in chunks(ids, _CHUNK):
        for gid, s in conn.execute(sa.select(m.c.group_id, m.c.site).where(m.c.group_id.in_(part))
                                   .order_by(m.c.site)):
            members[gid].append(s)
    return [_group(r, members[r["id"]]) for r in rows]


def _group(r: Any, sites: list[str]) -> dict[str, Any]:
    return {"id": r["id"], "size": r["size"], "tier": r["tier"], "score": round(r["score"], 4),
            "names": list(r["names"] or []), "active": bool(r["active"]), "sites": sites,
            "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"])}


def count_groups(conn: Connection, *, site: str | None = None) -> int:
    q = sa.select(sa.func.count()).select_from(infra_groups).where(infra_groups.c.active.is_(True))
    if site:
        q = q.where(infra_groups.c.id.in_(sa.select(infra_group_members.c.group_id)
                                          .where(infra_group_members.c.site == site)))
    return int(conn.execute(q).scalar() or 0)


def get_group(conn: Connection, group_id: str) -> dict[str, Any]:
    """A group with its members (as sources), the links inside it and the bipartite
    site-indicator edges (every shared indicator that counts, with where it was seen)."""
    c = conn
    row = c.execute(sa.select(infra_groups).where(infra_groups.c.id == group_id)).mappings().first()
    if row is None:
        raise NotFound(f"no site group {group_id!r}; `fimiscope infrastructure groups` lists them")
    sites = [s for (s,) in c.execute(sa.select(infra_group_members.c.site)
                                    .where(infra_group_members.c.group_id == group_id)
                                    .order_by(infra_group_members.c.site))]
    links = _links_among(c, sites)
    facts = source_facts(c, sites)
    joined = {s: _iso(t) for s, t in c.execute(
        sa.select(infra_group_members.c.site, infra_group_members.c.joined_at)
        .where(infra_group_members.c.group_id == group_id))}
    out = _group(row, sites)
    out["members"] = [{"site": s, "joined_at": joined.get(s), **facts.get(s, {"flagged": False})} for s in sites]
    out["links"] = links
    indicators: dict[tuple[str, str], dict[str, Any]] = {}
    for lk in links:
        for e in lk["shared"]:
            if e["kind"] in ("css_classes", "outbound"):
                continue  # pair similarities, not values; common values stay, shown weighing 0
            ind = indicators.setdefault((e["kind"], str(e["value"])), {
                "kind": e["kind"], "value": str(e["value"]), "tier": e["tier"], "reason": e["reason"],
                "weight": e["weight"], "sites": set()})
            ind["sites"].update((lk["a"], lk["b"]))
    out["indicators"] = [{**v, "sites": sorted(v["sites"])} for v in sorted(
        indicators.values(), key=lambda v: (_TIER_RANK.get(v["tier"], 9), -v["weight"], v["kind"], v["value"]))]
    return out


_TIER_RANK = {"conclusive": 0, "associative": 1, "tertiary": 2}


def _links_among(c: Connection, sites: Sequence[str]) -> list[dict[str, Any]]:
    if not sites:
        return []
    q = sa.select(infra_links).where(infra_links.c.site_a.in_(sites), infra_links.c.site_b.in_(sites)).order_by(
        infra_links.c.score.desc(), infra_links.c.site_a, infra_links.c.site_b)
    return [_link(r) for r in c.execute(q).mappings()]


def _link(r: Any) -> dict[str, Any]:
    return {"a": r["site_a"], "b": r["site_b"], "score": round(r["score"], 4), "tier": r["tier"],
            "shared": list(r["shared"] or [])}


def site_profile(conn: Connection, site: str) -> dict[str, Any]:
    """Everything about one site: its fingerprints (with where/when), the sites sharing them
    (tiered), its groups, and the history of its look-ups."""
    site = site.lower().strip().removeprefix("www.")
    t = infra_observations
    c = conn
    obs = [dict(r) for r in c.execute(sa.select(t).where(t.c.site == site).order_by(t.c.kind, t.c.value)).mappings()]
    prof = c.execute(sa.select(infra_sites).where(infra_sites.c.site == site)).mappings().first()
    looks = [dict(r) for r in c.execute(sa.select(infra_lookups).where(infra_lookups.c.site == site)
                                       .order_by(infra_lookups.c.at.desc(), infra_lookups.c.id.desc()).limit(50))
             .mappings()]
    q = sa.select(infra_links).where(sa.or_(infra_links.c.site_a == site, infra_links.c.site_b == site))
    links = [_link(r) for r in c.execute(q.order_by(infra_links.c.score.desc())).mappings()]
    facts = source_facts(c, [site, *[lk["b"] if lk["a"] == site else lk["a"] for lk in links]])
    # How many sites show each of this site's values (the commonness the tiers weigh).
    counts: dict[tuple[str, str], int] = {}
    for kind in sorted({o["kind"] for o in obs}):
        values = sorted({o["value"] for o in obs if o["kind"] == kind})
        for part in chunks(values, _CHUNK):
            q2 = (sa.select(t.c.value, sa.func.count(sa.distinct(t.c.site))).where(t.c.kind == kind,
                  t.c.value.in_(part)).group_by(t.c.value))
            for value, n in c.execute(q2):
                counts[(kind, value)] = int(n)
    if not obs and prof is None and not looks and not links:
        raise NotFound(f"nothing is known about the site {site!r}: no fingerprints, look-ups or imported indicators")
    groups = list_groups(conn, site=site)
    fingerprints = [{"kind": o["kind"], "value": o["value"], "where": o["where"], "origin": o["origin"],
                     "url": o["url"], "document_id": o["last_document_id"], "snippet": o["snippet"],
                     "first_seen": _iso(o["first_seen"]), "last_seen": _iso(o["last_seen"]), "times": o["times"],
                     "sites": counts.get((o["kind"], o["value"]), 1)} for o in obs if o["kind"] != "css_classes"]
    shared = []
    for lk in links:
        other = lk["b"] if lk["a"] == site else lk["a"]
        shared.append({"site": other, "score": lk["score"], "tier": lk["tier"], "shared": lk["shared"],
                       **{k: v for k, v in facts.get(other, {}).items() if k != "source_id"}})
    return {
        "site": site, "source": facts.get(site),
        "pages": prof["pages"] if prof else 0, "classes": list(prof["classes"]) if prof else [],
        "outbound": dict(prof["outbound"]) if prof else {}, "favicon_url": prof["favicon_url"] if prof else None,
        "fingerprints": fingerprints, "shared_with": shared, "groups": groups,
        "lookups": [{"lookup": lk["lookup"], "at": _iso(lk["at"]), "ok": lk["ok"], "error": lk["error"],
                     "found": lk["found"], "raw": lk["raw"]} for lk in looks],
    }


def sites_known(conn: Connection, limit: int = 200) -> list[str]:
    return [s for (s,) in conn.execute(sa.select(infra_observations.c.site).distinct()
                                       .order_by(infra_observations.c.site).limit(limit))]


def raw_pages(conn: Connection, doc_ids: Sequence[str]) -> dict[str, bytes]:
    """The archived bytes of the documents that have them (decompressed)."""
    from fimiscope.store import archive
    from fimiscope.store.tables import documents, raw_blobs

    out: dict[str, bytes] = {}
    for part in chunks(doc_ids, _CHUNK):
        q = (sa.select(documents.c.id, raw_blobs.c.codec, raw_blobs.c.data)
             .join(raw_blobs, raw_blobs.c.hash == documents.c.raw_hash).where(documents.c.id.in_(part)))
        for doc_id, codec, data in conn.execute(q):
            out[doc_id] = archive.unpack(codec, data)
    return out


def operation_domains(conn: Connection, is_operation: Any) -> dict[str, list[str]]:
    """Domains of each list that ``is_operation(list name)`` accepts, from the source registry."""
    out: dict[str, list[str]] = defaultdict(list)
    q = sa.select(sources.c.name, sources.c.domain, sources.c.lists)
    for name, domain, lists in conn.execute(q):
        for lst in lists or []:
            if is_operation(lst):
                out[lst].append(domain or name)
    return dict(out)


def sites_due_for_lookup(conn: Connection, older_than: datetime, limit: int) -> list[str]:
    """Sites with fingerprints whose last look-up (if any) is older than ``older_than``."""
    last = (sa.select(infra_lookups.c.site, sa.func.max(infra_lookups.c.at).label("at"))
            .group_by(infra_lookups.c.site).subquery())
    q = (sa.select(infra_sites.c.site).outerjoin(last, last.c.site == infra_sites.c.site)
         .where(sa.or_(last.c.at.is_(None), last.c.at < older_than)).order_by(infra_sites.c.site).limit(limit))
    return [s for (s,) in conn.execute(q)]
