"""Store access for the laundering detector: MinHash units and their persisted LSH buckets,
anchors, clusters, members and chain edges. Functions over a ``Connection`` so a pipeline
batch writes everything in one transaction."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Affiliation
from fimiscope.store.sql import chunks, insert_ignore_many, upsert, upsert_add
from fimiscope.store.tables import counters, documents, signals, sources
from fimiscope.store.tables_laundering import (
    laundering_anchor_counts,
    laundering_anchors,
    laundering_buckets,
    laundering_clusters,
    laundering_edges,
    laundering_members,
    laundering_units,
)

_CHUNK = 500


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


# -- units and buckets ------------------------------------------------------------------------


def forget_documents(conn: Connection, doc_ids: Sequence[str]) -> None:
    """Drop units, buckets and anchors of documents about to be indexed again (a new version)."""
    for part in chunks(doc_ids, _CHUNK):
        unit_ids = (
            conn.execute(sa.select(laundering_units.c.id).where(laundering_units.c.document_id.in_(part)))
            .scalars()
            .all()
        )
        for ids in chunks(unit_ids, _CHUNK):
            conn.execute(laundering_buckets.delete().where(laundering_buckets.c.unit_id.in_(ids)))
        conn.execute(laundering_units.delete().where(laundering_units.c.document_id.in_(part)))
        held = anchors_of(conn, part)
        if held:
            conn.execute(laundering_anchors.delete().where(laundering_anchors.c.document_id.in_(part)))
            _count_anchors(conn, Counter(a for anchors in held.values() for a in anchors), -1)
            _add_anchored(conn, -len(held))


def insert_units(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert units (document_id, para_index, span_start, span_end, n_shingles, signature,
    shingles); returns their ids in input order."""
    if not rows:
        return []
    # One executemany through the driver, then the ids read back: asked to return ids in input
    # order, SQLAlchemy inserts row by row on SQLite (a dozen statements per document). Ids grow
    # in insertion order within the writer's transaction (SQLite's single writer; PostgreSQL's
    # sequence, one nextval per row in order), so the new units are the highest ids of their
    # documents, in input order. A unit has no key but its id: nothing is ignored.
    insert_ignore_many(conn, laundering_units, rows)
    t = laundering_units
    held: list[int] = []
    for part in chunks(sorted({r["document_id"] for r in rows}), _CHUNK):
        held.extend(int(x) for x in conn.execute(sa.select(t.c.id).where(t.c.document_id.in_(part))).scalars())
    return sorted(held)[-len(rows) :]


def insert_buckets(conn: Connection, unit_ids: Sequence[int], keys: Sequence[Sequence[int]]) -> None:
    rows = [
        {"band_key": int(k), "unit_id": uid} for uid, ks in zip(unit_ids, keys, strict=True) for k in set(ks) if k >= 0
    ]
    insert_ignore_many(conn, laundering_buckets, rows)


def bucket_matches(conn: Connection, keys: Iterable[int], per_key: int | None = None) -> list[tuple[int, int]]:
    """(band_key, unit_id) for stored units in one of ``keys``' buckets: every one, or only the
    ``per_key`` oldest (lowest ids) of each bucket. The stage verifies a unit against the
    oldest ``bucket_sample`` members of a bucket only, so it asks for no more: a bucket of
    boilerplate grows with the store, and fetching all of it made the cost per document grow
    with the store too (docs/scale.md)."""
    out: list[tuple[int, int]] = []
    t = laundering_buckets
    for part in chunks(sorted({int(k) for k in keys if k >= 0}), _CHUNK):
        if per_key is None:
            q = sa.select(t.c.band_key, t.c.unit_id).where(t.c.band_key.in_(part))
        else:
            ranked = sa.select(
                t.c.band_key, t.c.unit_id,
                sa.func.row_number().over(partition_by=t.c.band_key, order_by=t.c.unit_id).label("rn"),
            ).where(t.c.band_key.in_(part)).subquery()
            q = sa.select(ranked.c.band_key, ranked.c.unit_id).where(ranked.c.rn <= per_key)
        out.extend((int(a), int(b)) for a, b in conn.execute(q))
    return out


def units(conn: Connection, unit_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for part in chunks(sorted(set(unit_ids)), _CHUNK):
        for r in conn.execute(sa.select(laundering_units).where(laundering_units.c.id.in_(part))).mappings():
            out[int(r["id"])] = dict(r)
    return out


# -- anchors -----------------------------------------------------------------------------------


ANCHOR_MAX_LEN = 210  # the column's width


# How many documents have anchors, kept in ``counters`` as anchors are added and removed: the
# stage needs it every batch, and counting distinct documents over the whole anchor table made
# each batch's cost grow with the store (docs/scale.md).
_ANCHORED = "laundering.anchored_documents"


def _add_anchored(conn: Connection, delta: int) -> None:
    if delta and conn.execute(sa.select(counters.c.value).where(counters.c.name == _ANCHORED)).first() is not None:
        conn.execute(counters.update().where(counters.c.name == _ANCHORED).values(value=counters.c.value + delta))
    # no row yet: anchored_documents counts once and keeps it from then on


def insert_anchors(conn: Connection, doc_id: str, anchors: Iterable[str]) -> None:
    insert_anchors_many(conn, {doc_id: anchors})


def insert_anchors_many(conn: Connection, per_doc: dict[str, Iterable[str]]) -> None:
    """Anchors of several documents in one statement; the count of anchored documents and each
    anchor's count of documents follow."""
    wanted = {doc_id: {x[:ANCHOR_MAX_LEN] for x in anchors} for doc_id, anchors in per_doc.items()}
    wanted = {doc_id: anchors for doc_id, anchors in wanted.items() if anchors}
    if not wanted:
        return
    held = anchors_of(conn, wanted)  # only postings not stored yet are added (and counted)
    rows = [
        {"anchor": a, "document_id": doc_id}
        for doc_id, anchors in wanted.items()
        for a in sorted(anchors - held.get(doc_id, set()))
    ]
    insert_ignore_many(conn, laundering_anchors, rows)
    _count_anchors(conn, Counter(r["anchor"] for r in rows), 1)
    _add_anchored(conn, len(wanted.keys() - held.keys()))


def _count_anchors(conn: Connection, counts: Counter[str], sign: int) -> None:
    """Add (``sign`` 1) or take away (-1) documents from each anchor's kept count; an anchor no
    document holds any more loses its row."""
    t = laundering_anchor_counts
    rows = [{"anchor": a, "documents": n} for a, n in sorted(counts.items()) if n]
    if sign > 0:
        for part in chunks(rows, 5000):
            conn.execute(upsert_add(conn, t, ["anchor"], "documents"), part)
        return
    take = (
        sa.update(t)
        .where(t.c.anchor == sa.bindparam("a"))
        .values(documents=t.c.documents - sa.bindparam("n"))
    )
    for part in chunks(rows, 5000):
        conn.execute(take, [{"a": r["anchor"], "n": r["documents"]} for r in part])
    for names in chunks([r["anchor"] for r in rows], _CHUNK):
        conn.execute(t.delete().where(t.c.anchor.in_(names), t.c.documents <= 0))


def anchor_df(conn: Connection, anchors: Iterable[str]) -> dict[str, int]:
    """How many documents hold each of ``anchors`` (those held by none are left out): read from
    the kept counts, so the cost is the batch's anchors, not their postings."""
    t = laundering_anchor_counts
    out: dict[str, int] = {}
    for part in chunks(sorted(set(anchors)), _CHUNK):
        q = sa.select(t.c.anchor, t.c.documents).where(t.c.anchor.in_(part), t.c.documents > 0)
        out.update({str(a): int(n) for a, n in conn.execute(q)})
    return out


def anchored_documents(conn: Connection) -> int:
    """How many documents have at least one anchor: a counter, counted from the table once."""
    row = conn.execute(sa.select(counters.c.value).where(counters.c.name == _ANCHORED)).first()
    if row is not None:
        return int(row[0])
    n = int(conn.execute(sa.select(sa.func.count(sa.distinct(laundering_anchors.c.document_id)))).scalar_one())
    conn.execute(counters.insert().values(name=_ANCHORED, value=n))
    return n


def documents_with_anchors(conn: Connection, anchors: Iterable[str], min_shared: int = 1) -> dict[str, set[str]]:
    """The documents holding at least ``min_shared`` of ``anchors``, with the ones they hold.
    The count is taken in the database, so only the candidates' rows come back, not every
    posting of every anchor (docs/scale.md)."""
    t = laundering_anchors
    wanted = sorted(set(anchors))
    out: dict[str, set[str]] = {}
    if min_shared > 1 and len(wanted) <= _CHUNK:
        shared = (
            sa.select(t.c.document_id)
            .where(t.c.anchor.in_(wanted))
            .group_by(t.c.document_id)
            .having(sa.func.count() >= min_shared)
            .subquery()
        )
        q = sa.select(t.c.document_id, t.c.anchor).join(shared, shared.c.document_id == t.c.document_id).where(
            t.c.anchor.in_(wanted)
        )
        for d, a in conn.execute(q):
            out.setdefault(str(d), set()).add(str(a))
        return out
    for part in chunks(wanted, _CHUNK):
        q = sa.select(t.c.document_id, t.c.anchor).where(t.c.anchor.in_(part))
        for d, a in conn.execute(q):
            out.setdefault(str(d), set()).add(str(a))
    return {d: s for d, s in out.items() if len(s) >= min_shared}


def anchors_of(conn: Connection, doc_ids: Iterable[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = sa.select(laundering_anchors.c.document_id, laundering_anchors.c.anchor).where(
            laundering_anchors.c.document_id.in_(part)
        )
        for d, a in conn.execute(q):
            out.setdefault(str(d), set()).add(str(a))
    return out


# -- documents as the detector sees them -------------------------------------------------------


@dataclass(slots=True)
class DocInfo:
    id: str
    seq: int
    url: str | None
    title: str | None
    text: str
    links: list[str]
    language: str | None
    published_at: datetime | None
    collected_at: datetime | None
    source: str | None
    source_domain: str | None
    source_display: str | None
    affiliation: Affiliation

    @property
    def flagged(self) -> bool:
        return self.affiliation.flagged

    @property
    def length(self) -> int:
        return len(self.text)


@dataclass(slots=True)
class DocBrief:
    """What judging a translation candidate's plausibility needs (language, length, time),
    without the text: the stage weighs up to ``anchor_candidates`` of them per document."""

    id: str
    language: str | None
    length: int
    published_at: datetime | None


def display_title(d: DocInfo, words: int = 12) -> str:
    """The title, or for a post without one its first words: never a bare document id."""
    if d.title and d.title.strip():
        return d.title.strip()
    head = d.text.split()
    if not head:
        return d.id
    return " ".join(head[:words]) + ("…" if len(head) > words else "")


def doc_info(conn: Connection, doc_ids: Iterable[str]) -> dict[str, DocInfo]:
    out: dict[str, DocInfo] = {}
    cols = (
        documents.c.id,
        documents.c.seq,
        documents.c.url,
        documents.c.title,
        documents.c.text,
        documents.c.links,
        documents.c.language,
        documents.c.published_at,
        documents.c.collected_at,
        sources.c.name,
        sources.c.domain,
        sources.c.display_name,
        sources.c.affiliation,
    )
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = (
            sa.select(*cols)
            .select_from(documents.outerjoin(sources, documents.c.source_id == sources.c.id))
            .where(documents.c.id.in_(part))
        )
        for r in conn.execute(q).mappings():
            out[r["id"]] = DocInfo(
                id=r["id"],
                seq=int(r["seq"]),
                url=r["url"],
                title=r["title"],
                text=r["text"],
                links=list(r["links"] or []),
                language=r["language"],
                published_at=_aware(r["published_at"]),
                collected_at=_aware(r["collected_at"]),
                source=r["name"],
                source_domain=r["domain"],
                source_display=r["display_name"],
                affiliation=Affiliation.parse(r["affiliation"]),
            )
    return out


def doc_briefs(conn: Connection, doc_ids: Iterable[str]) -> dict[str, DocBrief]:
    q = sa.select(documents.c.id, documents.c.language, sa.func.length(documents.c.text), documents.c.published_at)
    out: dict[str, DocBrief] = {}
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        for doc_id, language, length, published_at in conn.execute(q.where(documents.c.id.in_(part))):
            out[doc_id] = DocBrief(doc_id, language, int(length), _aware(published_at))
    return out


# -- clusters, members, edges ------------------------------------------------------------------


# What an edge says about its two documents. Only ``copy`` links join documents into one
# cluster (one story: near-duplicates and confident translations); the others link clusters
# (or lone documents) without merging them, so a quote of story A inside article B never
# folds A's copies and B's copies into one "cluster".
LINK_COPY = "copy"
LINK_QUOTES = "quotes"  # the copier carries a passage of the copied document
LINK_MAY_TRANSLATE = "may translate"  # a translation candidate too weak to call the same story
LINK_REPEAT = "repeat"  # one source reusing its own passages (boilerplate, its own quotes): not laundering
LINKS = (LINK_COPY, LINK_QUOTES, LINK_MAY_TRANSLATE, LINK_REPEAT)


def link_of(edge: dict[str, Any]) -> str:
    """The edge's link kind; edges written before kinds existed get theirs from the method."""
    link = (edge.get("details") or {}).get("link")
    if link in LINKS:
        return str(link)
    return LINK_QUOTES if edge.get("method") == "partial" else LINK_COPY


def put_edges(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or update chain edges: a batch's in two statements, not two per edge. Each edge's
    reverse is deleted first (the direction may flip when a publication date arrives)."""
    if not rows:
        return
    now = utcnow()
    rows = [{**row, "created_at": row.get("created_at") or now} for row in rows]
    t = laundering_edges
    reverse = t.delete().where(
        (t.c.copier_document_id == sa.bindparam("copied")) & (t.c.copied_document_id == sa.bindparam("copier"))
    )
    conn.execute(reverse, [{"copier": r["copier_document_id"], "copied": r["copied_document_id"]} for r in rows])
    stmt = upsert(
        conn,
        t,
        ["copier_document_id", "copied_document_id"],
        ["method", "similarity", "lag_s", "attribution", "details"],
    )
    conn.execute(stmt, rows)


def edges_touching(conn: Connection, doc_ids: Iterable[str]) -> list[dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = sa.select(laundering_edges).where(
            laundering_edges.c.copier_document_id.in_(part) | laundering_edges.c.copied_document_id.in_(part)
        )
        for r in conn.execute(q).mappings():
            out[(r["copier_document_id"], r["copied_document_id"])] = dict(r)
    return list(out.values())


def clusters_of(conn: Connection, doc_ids: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        q = sa.select(laundering_members.c.document_id, laundering_members.c.cluster_id).where(
            laundering_members.c.document_id.in_(part)
        )
        out.update({str(d): str(c) for d, c in conn.execute(q)})
    return out


def cluster_rows(conn: Connection, cluster_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(cluster_ids)), _CHUNK):
        for r in conn.execute(sa.select(laundering_clusters).where(laundering_clusters.c.id.in_(part))).mappings():
            out[r["id"]] = dict(r)
    return out


def members_of(conn: Connection, cluster_ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in chunks(sorted(set(cluster_ids)), _CHUNK):
        q = sa.select(laundering_members.c.cluster_id, laundering_members.c.document_id).where(
            laundering_members.c.cluster_id.in_(part)
        )
        for c, d in conn.execute(q):
            out.setdefault(str(c), []).append(str(d))
    return out


def replace_cluster(
    conn: Connection,
    cluster: dict[str, Any],
    members: Sequence[dict[str, Any]],
    absorbed: Iterable[str] = (),
) -> None:
    """Write one cluster with its full member list; clusters it absorbed (merged into it) go."""
    now = utcnow()
    gone = [c for c in set(absorbed) if c != cluster["id"]]
    for part in chunks(gone, _CHUNK):
        conn.execute(laundering_clusters.delete().where(laundering_clusters.c.id.in_(part)))
        conn.execute(laundering_members.delete().where(laundering_members.c.cluster_id.in_(part)))
    exists = conn.execute(sa.select(laundering_clusters.c.id).where(laundering_clusters.c.id == cluster["id"])).first()
    values = {k: v for k, v in cluster.items() if k != "id"}
    values["updated_at"] = now
    if exists:
        conn.execute(laundering_clusters.update().where(laundering_clusters.c.id == cluster["id"]).values(**values))
    else:
        conn.execute(laundering_clusters.insert().values(id=cluster["id"], created_at=now, **values))
    ids = [m["document_id"] for m in members]
    old = {
        r[0]: r[1]
        for r in conn.execute(
            sa.select(laundering_members.c.document_id, laundering_members.c.joined_at).where(
                laundering_members.c.cluster_id == cluster["id"]
            )
        )
    }
    for part in chunks(ids, _CHUNK):
        conn.execute(laundering_members.delete().where(laundering_members.c.document_id.in_(part)))
    conn.execute(laundering_members.delete().where(laundering_members.c.cluster_id == cluster["id"]))
    conn.execute(
        laundering_members.insert(),
        [{**m, "cluster_id": cluster["id"], "joined_at": old.get(m["document_id"]) or now} for m in members],
    )


def remove_members(conn: Connection, doc_ids: Sequence[str]) -> None:
    """Take documents out of whatever cluster holds them (they no longer have a copy link)."""
    for part in chunks(sorted(set(doc_ids)), _CHUNK):
        conn.execute(laundering_members.delete().where(laundering_members.c.document_id.in_(part)))


def delete_clusters(conn: Connection, cluster_ids: Sequence[str]) -> None:
    """Drop clusters (and their remaining members) that no longer exist after a re-clustering."""
    for part in chunks(sorted(set(cluster_ids)), _CHUNK):
        conn.execute(laundering_members.delete().where(laundering_members.c.cluster_id.in_(part)))
        conn.execute(laundering_clusters.delete().where(laundering_clusters.c.id.in_(part)))


# -- read side (CLI, API) ----------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return to_utc(value).isoformat() if value is not None else None


def _origin_affiliation() -> Any:
    return (
        sa.select(sources.c.affiliation)
        .select_from(documents.join(sources, sources.c.id == documents.c.source_id))
        .where(documents.c.id == laundering_clusters.c.origin_document_id)
        .scalar_subquery()
    )


def _stripped_clusters() -> Any:
    """Ids of clusters with a copy whose edge strips the attribution."""
    return (
        sa.select(laundering_members.c.cluster_id)
        .select_from(
            laundering_members.join(
                laundering_edges, laundering_edges.c.copier_document_id == laundering_members.c.document_id
            )
        )
        .where(laundering_edges.c.attribution == "stripped", laundering_members.c.role == "copy")
    )


def _cluster_where(
    *,
    min_size: int,
    language: str | None,
    origin_source: str | None,
    affiliation: str | None = None,
    stripped: bool = False,
) -> list[Any]:
    where: list[Any] = [laundering_clusters.c.size >= min_size]
    if affiliation == "flagged":
        where.append(_origin_affiliation().in_([a.value for a in Affiliation if a.flagged]))
    elif affiliation:
        where.append(_origin_affiliation() == Affiliation.parse(affiliation).value)
    if stripped:
        where.append(laundering_clusters.c.id.in_(_stripped_clusters()))
    if language:
        # A cluster speaks a language when one of its members does; its ``languages`` column
        # (a JSON list of codes) says so. Matching the quoted code in the JSON text reads the
        # clusters table only (tens of thousands of rows) instead of walking every document in
        # that language (745 ms at 1M documents), and serialises the same on both backends.
        code = language.replace('"', "").replace("%", "").replace("_", "\\_")
        where.append(sa.cast(laundering_clusters.c.languages, sa.Text).like(f'%"{code}"%', escape="\\"))
    if origin_source:
        where.append(
            laundering_clusters.c.origin_document_id.in_(
                sa.select(documents.c.id)
                .select_from(documents.join(sources, sources.c.id == documents.c.source_id))
                .where(sources.c.name == origin_source)
            )
        )
    return where


CLUSTER_SORTS = ("affiliation", "size", "time", "updated")


def list_clusters(
    conn: Connection,
    *,
    limit: int = 50,
    offset: int = 0,
    min_size: int = 2,
    language: str | None = None,
    origin_source: str | None = None,
    sort: str = "affiliation",
    affiliation: str | None = None,
    stripped: bool = False,
) -> list[dict[str, Any]]:
    """Clusters with their origin's source and title. ``sort``: ``affiliation`` (the default:
    chains from state-affiliated origins first, then the most recently updated), ``size``
    (largest first), ``time`` (latest first publication first) or ``updated``; ``affiliation``
    keeps only origins of that affiliation (``flagged``: any state affiliation)."""
    if sort not in CLUSTER_SORTS:
        raise InvalidInput(f"unknown sort {sort!r}; use one of: {', '.join(CLUSTER_SORTS)}")
    flagged_values = [a.value for a in Affiliation if a.flagged]
    origin_aff = _origin_affiliation()
    state_first = sa.case((origin_aff.in_(flagged_values), 0), else_=1)
    orders: dict[str, list[Any]] = {
        "affiliation": [state_first, laundering_clusters.c.updated_at.desc()],
        "size": [laundering_clusters.c.size.desc(), laundering_clusters.c.updated_at.desc()],
        "time": [laundering_clusters.c.first_published_at.desc(), laundering_clusters.c.updated_at.desc()],
        "updated": [laundering_clusters.c.updated_at.desc()],
    }
    order = orders[sort]
    where = _cluster_where(min_size=min_size, language=language, origin_source=origin_source,
                           affiliation=affiliation, stripped=stripped)
    q = (
        sa.select(laundering_clusters)
        .where(*where)
        .order_by(*order, laundering_clusters.c.id)
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    info = doc_info(conn, [r["origin_document_id"] for r in rows])
    stripped_copies: dict[str, int] = {}
    ids = [r["id"] for r in rows]
    if ids:
        q2 = (
            sa.select(laundering_members.c.cluster_id, sa.func.count(sa.distinct(laundering_members.c.document_id)))
            .select_from(
                laundering_members.join(
                    laundering_edges, laundering_edges.c.copier_document_id == laundering_members.c.document_id
                )
            )
            .where(
                laundering_members.c.cluster_id.in_(ids),
                laundering_members.c.role == "copy",
                laundering_edges.c.attribution == "stripped",
            )
            .group_by(laundering_members.c.cluster_id)
        )
        stripped_copies = {str(c): int(n) for c, n in conn.execute(q2)}
    out = []
    for r in rows:
        origin = info.get(r["origin_document_id"])
        out.append(
            {
                "id": r["id"],
                "size": r["size"],
                "languages": r["languages"],
                "origin_document_id": r["origin_document_id"],
                "origin_source": origin.source if origin else None,
                "origin_affiliation": origin.affiliation.value if origin else None,
                "origin_title": display_title(origin) if origin else None,
                "stripped_copies": stripped_copies.get(r["id"], 0),
                "first_published_at": _iso(_aware(r["first_published_at"])),
                "last_published_at": _iso(_aware(r["last_published_at"])),
                "created_at": _iso(_aware(r["created_at"])),
                "updated_at": _iso(_aware(r["updated_at"])),
            }
        )
    return out


def count_clusters(
    conn: Connection,
    *,
    min_size: int = 2,
    language: str | None = None,
    origin_source: str | None = None,
    affiliation: str | None = None,
    stripped: bool = False,
) -> int:
    q = sa.select(sa.func.count()).select_from(laundering_clusters).where(
        *_cluster_where(min_size=min_size, language=language, origin_source=origin_source,
                        affiliation=affiliation, stripped=stripped)
    )
    return int(conn.execute(q).scalar_one())


def cluster_signal_ids(conn: Connection, cluster: dict[str, Any]) -> list[str]:
    """Ids of the laundering signals raised on a cluster's copies (one per copy, keyed by it)."""
    keys = [f"laundering:{m['document_id']}" for m in cluster["members"]]
    out: list[str] = []
    for part in chunks(keys, _CHUNK):
        q = sa.select(signals.c.id).where(signals.c.key.in_(part), signals.c.type == "laundering")
        out.extend(str(x) for x in conn.execute(q).scalars())
    return sorted(out)


def cluster_trends(conn: Connection, *, days: int = 30) -> dict[str, Any]:
    """Per publication day: clusters that began that day (their earliest member's
    publication) and cluster members published that day, over the last ``days`` days. When
    nothing was published in that window but older clusters exist (an archive, the demo), the
    window ends at the latest clustered publication instead, so the trend is not blank;
    ``until`` says where it ends and ``recent`` whether that is today. Every day of the window
    is present, zeros included; both series are empty when there are no dated clusters."""
    dialect = conn.dialect.name
    member_docs = laundering_members.join(documents, documents.c.id == laundering_members.c.document_id)

    def day(col: Any) -> Any:
        return sa.func.date(col) if dialect == "sqlite" else sa.func.to_char(col, "YYYY-MM-DD")

    now = utcnow()
    latest = _aware(conn.execute(sa.select(sa.func.max(documents.c.published_at)).select_from(member_docs)).scalar())
    if latest is None:
        return {"until": None, "recent": True, "clusters_by_day": {}, "documents_in_clusters_by_day": {}}
    recent = latest >= now - timedelta(days=days)
    until = now if recent else latest
    since = (until - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    bound = until + timedelta(seconds=1)
    started = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            sa.select(day(laundering_clusters.c.first_published_at).label("day"), sa.func.count())
            .where(laundering_clusters.c.first_published_at >= since, laundering_clusters.c.first_published_at < bound)
            .group_by(sa.literal_column("day"))
        )
        if r[0] is not None
    }
    members = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            sa.select(day(documents.c.published_at).label("day"), sa.func.count())
            .select_from(member_docs)
            .where(documents.c.published_at >= since, documents.c.published_at < bound)
            .group_by(sa.literal_column("day"))
        )
        if r[0] is not None
    }
    first = since.date()
    axis = [(first + timedelta(days=i)).isoformat() for i in range(days + 1)]
    return {
        "until": until.date().isoformat(),
        "recent": recent,
        "clusters_by_day": {d: started.get(d, 0) for d in axis},
        "documents_in_clusters_by_day": {d: members.get(d, 0) for d in axis},
    }


def get_cluster(conn: Connection, cluster_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(laundering_clusters).where(laundering_clusters.c.id == cluster_id)).mappings().first()
    if row is None:
        # a cluster merged into an older one: follow a member if the caller kept the old id
        raise NotFound(f"no cluster {cluster_id!r} (see `fimiscope clusters list`)")
    mem = [
        dict(r)
        for r in conn.execute(
            sa.select(laundering_members).where(laundering_members.c.cluster_id == cluster_id)
        ).mappings()
    ]
    ids = [m["document_id"] for m in mem]
    info = doc_info(conn, ids)
    members = []
    for m in mem:
        d = info.get(m["document_id"])
        members.append(
            {
                "document_id": m["document_id"],
                "role": m["role"],
                "source": d.source if d else None,
                "affiliation": d.affiliation.value if d else None,
                "language": d.language if d else None,
                "published_at": _iso(d.published_at) if d else None,
                "title": display_title(d) if d else None,
                "url": d.url if d else None,
                "similarity": m["similarity"],
                "method": m["method"],
            }
        )
    members.sort(key=lambda m: (m["role"] != "origin", m["published_at"] or "9999", m["document_id"]))
    inside = set(ids)
    edges: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    touching = edges_touching(conn, ids)
    outside = {x for e in touching for x in (e["copier_document_id"], e["copied_document_id"])} - inside
    other_info = doc_info(conn, outside)
    other_cluster = clusters_of(conn, outside)
    for e in touching:
        item = {
            "copier_document_id": e["copier_document_id"],
            "copied_document_id": e["copied_document_id"],
            "method": e["method"],
            "link": link_of(e),
            "similarity": e["similarity"],
            "lag_s": e["lag_s"],
            "attribution": e["attribution"],
            "details": e["details"],
        }
        both_in = e["copier_document_id"] in inside and e["copied_document_id"] in inside
        if both_in and item["link"] == LINK_COPY:
            edges.append(item)
            continue
        # a link to another story (or a repeat): shown beside the chain, never part of it
        mine = e["copier_document_id"] if e["copier_document_id"] in inside else e["copied_document_id"]
        other = e["copied_document_id"] if mine == e["copier_document_id"] else e["copier_document_id"]
        o = other_info.get(other) or info.get(other)
        item.update(
            {
                "member_document_id": mine,
                "other_document_id": other,
                "direction": f"{item['link']}" if mine == e["copier_document_id"] else f"{item['link']} (by the other)",
                "other_title": display_title(o) if o else None,
                "other_source": o.source if o else None,
                "other_affiliation": o.affiliation.value if o else None,
                "other_language": o.language if o else None,
                "other_url": o.url if o else None,
                "other_cluster_id": other_cluster.get(other),
            }
        )
        links.append(item)
    edges.sort(key=lambda e: (e["lag_s"] is None, e["lag_s"] or 0, e["copier_document_id"]))
    links.sort(key=lambda e: (e["link"], e["member_document_id"], e["other_document_id"]))
    return {
        "id": row["id"],
        "size": row["size"],
        "languages": row["languages"],
        "origin_document_id": row["origin_document_id"],
        "origin_reason": row["origin_reason"],
        "first_published_at": _iso(_aware(row["first_published_at"])),
        "last_published_at": _iso(_aware(row["last_published_at"])),
        "members": members,
        "edges": edges,
        "links": links,
    }


def source_stats(conn: Connection) -> list[dict[str, Any]]:
    """Per source: how many of its documents copy content whose cluster origin is at a flagged
    source (the source itself not flagged), and the median lag behind that origin."""
    q = sa.select(
        laundering_edges.c.copier_document_id,
        laundering_edges.c.copied_document_id,
        laundering_edges.c.lag_s,
        laundering_edges.c.attribution,
        laundering_members.c.cluster_id,
    ).select_from(
        laundering_edges.join(
            laundering_members, laundering_members.c.document_id == laundering_edges.c.copier_document_id
        )
    )
    rows = [dict(r) for r in conn.execute(q).mappings()]
    clusters = cluster_rows(conn, {r["cluster_id"] for r in rows})
    info = doc_info(
        conn,
        {r["copier_document_id"] for r in rows} | {c["origin_document_id"] for c in clusters.values()},
    )
    per: dict[str, dict[str, Any]] = {}
    for r in rows:
        copier = info.get(r["copier_document_id"])
        cluster = clusters.get(r["cluster_id"])
        origin = info.get(cluster["origin_document_id"]) if cluster else None
        if copier is None or origin is None or copier.source is None:
            continue
        s = per.setdefault(copier.source, {"docs": set(), "flagged_docs": set(), "lags": [], "stripped": set()})
        s["docs"].add(copier.id)
        if origin.flagged and origin.source != copier.source and not copier.flagged:
            if copier.id not in s["flagged_docs"] and copier.published_at and origin.published_at:
                s["lags"].append((copier.published_at - origin.published_at).total_seconds())
            s["flagged_docs"].add(copier.id)
            if r["attribution"] == "stripped":
                s["stripped"].add(copier.id)
    out: list[dict[str, Any]] = []
    for name, s in per.items():
        out.append(
            {
                "source": name,
                "copies": len(s["docs"]),
                "copies_of_flagged": len(s["flagged_docs"]),
                "stripped_attribution": len(s["stripped"]),
                "median_lag_s": statistics.median(s["lags"]) if s["lags"] else None,
            }
        )
    out.sort(key=lambda x: (-int(x["copies_of_flagged"]), -int(x["copies"]), str(x["source"])))
    return out
