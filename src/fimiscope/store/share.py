"""STIX objects held for sharing (collections, quarantine, raw imports), partners, TAXII status
and pull state. Visibility filters (collection, TLP) are applied in SQL, never after the fact."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.store import Store
from fimiscope.store.sql import insert_ignore
from fimiscope.store.tables_cases import (
    partners,
    pull_state,
    stix_objects,
    taxii_access,
    taxii_collections,
    taxii_status,
)

RAW = "raw"  # imported objects we do not model, kept as-is and re-exported
QUARANTINE = "quarantine"  # partner writes awaiting review


def stix_version(obj: dict[str, Any]) -> str:
    """'modified' (else 'created', else a fixed epoch for SCOs) as a fixed-width sortable string."""
    value = obj.get("modified") or obj.get("created")
    if not value:
        return "1970-01-01T00:00:00.000000Z"
    return normalise_timestamp(str(value))


def normalise_timestamp(value: str) -> str:
    from fimiscope.core.clock import parse_time

    return parse_time(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hash_token(token: str) -> str:
    # Tokens are 256-bit random: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class StoredObject:
    pk: int
    collection_id: str
    stix_id: str
    type: str
    version: str
    date_added: datetime
    tlp_rank: int
    created_by_ref: str | None
    origin: str
    target_collection: str | None
    data: dict[str, Any]


@dataclass(slots=True)
class Partner:
    id: str
    name: str
    identity_id: str
    read_collections: list[str]
    write_collections: list[str]
    max_tlp: str
    remote_url: str | None = None
    remote_token: str | None = None
    remote_collections: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _obj(row: RowMapping) -> StoredObject:
    return StoredObject(
        pk=row["pk"],
        collection_id=row["collection_id"],
        stix_id=row["stix_id"],
        type=row["type"],
        version=row["version"],
        date_added=to_utc(row["date_added"]),
        tlp_rank=row["tlp_rank"],
        created_by_ref=row["created_by_ref"],
        origin=row["origin"],
        target_collection=row["target_collection"],
        data=dict(row["data"]),
    )


def _partner(row: RowMapping) -> Partner:
    return Partner(
        id=row["id"],
        name=row["name"],
        identity_id=row["identity_id"],
        read_collections=list(row["read_collections"] or []),
        write_collections=list(row["write_collections"] or []),
        max_tlp=row["max_tlp"],
        remote_url=row["remote_url"],
        remote_token=row["remote_token"],
        remote_collections=list(row["remote_collections"] or []),
        created_at=to_utc(row["created_at"]) if row["created_at"] else None,
        revoked_at=to_utc(row["revoked_at"]) if row["revoked_at"] else None,
    )


@dataclass(slots=True)
class ObjectQuery:
    """What a TAXII request may see and asks for. ``max_tlp_rank`` and ``collection`` bound
    visibility; the rest are the TAXII filters."""

    collection: str
    max_tlp_rank: int
    added_after: datetime | None = None
    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    versions: Sequence[str] = ("last",)
    after_pk: int | None = None
    limit: int = 100


def _chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class ShareStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def _read(self, conn: Connection | None) -> Iterator[Connection]:
        # Reads take no write lock (SQLite WAL lets them run beside a writer).
        if conn is not None:
            yield conn
        else:
            with self.store.connect() as c:
                yield c

    # -- objects ---------------------------------------------------------------------------

    def put_objects(
        self,
        objects: Iterable[dict[str, Any]],
        collection: str,
        origin: str,
        tlp_ranks: Sequence[int],
        conn: Connection,
        *,
        target_collection: str | None = None,
        now: datetime | None = None,
        versions: Sequence[str | None] | None = None,
    ) -> tuple[int, int]:
        """Add objects to a collection; a version already there is left alone. Returns (new, known).
        ``versions`` overrides the stored version of some objects (None: from the object)."""
        now = now or utcnow()
        rows = []
        objects = list(objects)
        given = list(versions) if versions is not None else [None] * len(objects)
        for obj, rank, version in zip(objects, tlp_ranks, given, strict=True):
            rows.append(
                {
                    "collection_id": collection,
                    "stix_id": obj["id"],
                    "type": obj["type"],
                    "version": version or stix_version(obj),
                    "date_added": now,
                    "tlp_rank": rank,
                    "created_by_ref": obj.get("created_by_ref"),
                    "spec_version": obj.get("spec_version", "2.1"),
                    "media_type": "application/stix+json;version=2.1",
                    "origin": origin,
                    "target_collection": target_collection,
                    "data": obj,
                }
            )
        if not rows:
            return 0, 0
        before = self.count(collection, conn)
        conn.execute(insert_ignore(conn, stix_objects), rows)
        new = self.count(collection, conn) - before
        return new, len(rows) - new

    @staticmethod
    def count(collection: str, conn: Connection) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(stix_objects).where(stix_objects.c.collection_id == collection)
            ).scalar_one()
        )

    def owners(self, stix_ids: Sequence[str], conn: Connection, *, outside: str | None = None) -> dict[str, set[str]]:
        """Who created each id, across every collection (but ``outside``): an identity object
        with no ``created_by_ref`` counts as created by itself."""
        t = stix_objects
        out: dict[str, set[str]] = {}
        ids = list(set(stix_ids))
        for part in _chunked(ids, 500):
            stmt = sa.select(t.c.stix_id, t.c.type, t.c.created_by_ref).where(t.c.stix_id.in_(part)).distinct()
            if outside is not None:
                stmt = stmt.where(t.c.collection_id != outside)
            for sid, kind, owner in conn.execute(stmt):
                out.setdefault(sid, set()).add(owner or (sid if kind == "identity" else ""))
        return out

    def query(self, q: ObjectQuery, conn: Connection | None = None) -> tuple[list[StoredObject], bool]:
        """Objects visible under ``q``, oldest added first; returns (page, more).

        A version is visible when its own TLP is within the bound **and no later version of the
        same object is above it**: raising an object above a partner's ceiling withdraws every
        earlier version from that partner, and lowering it shows the new versions only. ``last``
        is the newest version overall (so it is visible only when the object is now within the
        bound), ``first`` the oldest visible one.
        """
        t = stix_objects
        t2 = t.alias("t2")

        def same(other: Any, anchor: Any = t) -> Any:
            return sa.and_(other.c.collection_id == anchor.c.collection_id, other.c.stix_id == anchor.c.stix_id)

        def withdrawn_up_to(anchor: Any) -> Any:
            # the newest version above the bound (none: ''): it and everything before it are withdrawn
            t3 = t.alias()
            above = sa.select(sa.func.max(t3.c.version)).where(same(t3, anchor), t3.c.tlp_rank > q.max_tlp_rank)
            return sa.func.coalesce(above.scalar_subquery(), "")

        visible = sa.and_(
            t.c.collection_id == q.collection, t.c.tlp_rank <= q.max_tlp_rank, t.c.version > withdrawn_up_to(t)
        )
        stmt = sa.select(t).where(visible)
        if q.added_after is not None:
            stmt = stmt.where(t.c.date_added > to_utc(q.added_after))
        if q.ids:
            stmt = stmt.where(t.c.stix_id.in_(list(q.ids)))
        if q.types:
            stmt = stmt.where(t.c.type.in_(list(q.types)))
        if q.after_pk is not None:
            stmt = stmt.where(t.c.pk > q.after_pk)
        versions = list(q.versions) or ["last"]
        if "all" not in versions:
            conds = []
            if "last" in versions:
                conds.append(t.c.version == sa.select(sa.func.max(t2.c.version)).where(same(t2)).scalar_subquery())
            if "first" in versions:
                conds.append(
                    t.c.version
                    == sa.select(sa.func.min(t2.c.version))
                    .where(same(t2), t2.c.version > withdrawn_up_to(t2))
                    .scalar_subquery()
                )
            exact = [normalise_timestamp(v) for v in versions if v not in ("last", "first")]
            if exact:
                conds.append(t.c.version.in_(exact))
            stmt = stmt.where(sa.or_(*conds))
        stmt = stmt.order_by(t.c.date_added, t.c.pk).limit(q.limit + 1)
        with self._read(conn) as c:
            rows = [_obj(r) for r in c.execute(stmt).mappings()]
        return rows[: q.limit], len(rows) > q.limit

    def newest(self, collection: str, stix_ids: Sequence[str], conn: Connection) -> dict[str, StoredObject]:
        """The newest stored version of each id in a collection (whatever its TLP)."""
        t, t2 = stix_objects, stix_objects.alias("t2")
        out: dict[str, StoredObject] = {}
        ids = list(set(stix_ids))
        for i in range(0, len(ids), 500):
            newest_version = (
                sa.select(sa.func.max(t2.c.version))
                .where(t2.c.collection_id == t.c.collection_id, t2.c.stix_id == t.c.stix_id)
                .scalar_subquery()
            )
            stmt = sa.select(t).where(
                t.c.collection_id == collection, t.c.stix_id.in_(ids[i : i + 500]), t.c.version == newest_version
            )
            for r in conn.execute(stmt).mappings():
                out[r["stix_id"]] = _obj(r)
        return out

    def objects_in(self, collection: str, conn: Connection | None = None) -> list[StoredObject]:
        with self._read(conn) as c:
            rows = c.execute(
                sa.select(stix_objects).where(stix_objects.c.collection_id == collection).order_by(stix_objects.c.pk)
            ).mappings()
            return [_obj(r) for r in rows]

    def delete_object(self, pk: int, conn: Connection) -> None:
        conn.execute(stix_objects.delete().where(stix_objects.c.pk == pk))

    # -- collections -----------------------------------------------------------------------

    def add_collection(self, collection_id: str, title: str, description: str = "") -> None:
        if collection_id in (RAW, QUARANTINE):
            raise InvalidInput(f"{collection_id!r} is reserved")
        with self.store.transaction() as c:
            c.execute(
                insert_ignore(c, taxii_collections),
                [{"id": collection_id, "title": title, "description": description, "created_at": utcnow()}],
            )

    def collections(self) -> list[dict[str, Any]]:
        with self.store.connect() as c:
            return [
                dict(r) for r in c.execute(sa.select(taxii_collections).order_by(taxii_collections.c.id)).mappings()
            ]

    def collection(self, collection_id: str) -> dict[str, Any]:
        with self.store.connect() as c:
            row = (
                c.execute(sa.select(taxii_collections).where(taxii_collections.c.id == collection_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no collection {collection_id!r}")
        return dict(row)

    # -- partners --------------------------------------------------------------------------

    def add_partner(self, p: Partner, token: str | None) -> Partner:
        with self.store.transaction() as c:
            if c.execute(sa.select(partners.c.id).where(partners.c.name == p.name)).first():
                raise InvalidInput(f"a partner named {p.name!r} already exists")
            p.id = p.id or new_id("ptn_")
            c.execute(
                partners.insert().values(
                    id=p.id,
                    name=p.name,
                    identity_id=p.identity_id,
                    token_hash=hash_token(token) if token else None,
                    read_collections=p.read_collections,
                    write_collections=p.write_collections,
                    max_tlp=p.max_tlp,
                    remote_url=p.remote_url,
                    remote_token=p.remote_token,
                    remote_collections=p.remote_collections,
                    created_at=utcnow(),
                )
            )
        return self.partner(p.name)

    def partner(self, name_or_id: str) -> Partner:
        with self.store.connect() as c:
            row = (
                c.execute(sa.select(partners).where((partners.c.name == name_or_id) | (partners.c.id == name_or_id)))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no partner {name_or_id!r} (see `fimiscope partners list`)")
        return _partner(row)

    def partners(self) -> list[Partner]:
        with self.store.connect() as c:
            return [_partner(r) for r in c.execute(sa.select(partners).order_by(partners.c.name)).mappings()]

    def partner_by_token(self, token: str) -> Partner | None:
        """The active partner holding ``token``; None for an unknown or revoked one."""
        with self.store.connect() as c:
            row = (
                c.execute(
                    sa.select(partners).where(
                        partners.c.token_hash == hash_token(token), partners.c.revoked_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
        return _partner(row) if row else None

    def update_partner(self, name_or_id: str, **values: Any) -> Partner:
        """Change grants or the partner's server; the credential stays as it is."""
        allowed = {
            "read_collections",
            "write_collections",
            "max_tlp",
            "remote_url",
            "remote_token",
            "remote_collections",
        }
        unknown = set(values) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        p = self.partner(name_or_id)
        if values:
            with self.store.transaction() as c:
                c.execute(partners.update().where(partners.c.id == p.id).values(**values))
        return self.partner(p.id)

    def revoke(self, name_or_id: str) -> Partner:
        p = self.partner(name_or_id)
        with self.store.transaction() as c:
            c.execute(partners.update().where(partners.c.id == p.id).values(revoked_at=utcnow(), token_hash=None))
        return self.partner(p.id)

    # -- the access log ------------------------------------------------------------------------

    def record_access(self, partner_id: str, rows: Sequence[StoredObject], now: datetime | None = None) -> None:
        """Note that ``partner_id`` was served these object versions (content, not just ids)."""
        if not rows:
            return
        now = now or utcnow()
        keys = {(r.collection_id, r.stix_id, r.version): r for r in rows}
        with self.store.transaction() as c:
            c.execute(
                insert_ignore(c, taxii_access),
                [
                    {
                        "partner_id": partner_id, "collection_id": col, "stix_id": sid, "version": ver,
                        "type": r.type, "tlp_rank": r.tlp_rank, "first_at": now, "last_at": now, "fetches": 0,
                    }
                    for (col, sid, ver), r in keys.items()
                ],
            )
            a = taxii_access
            key = sa.tuple_(a.c.collection_id, a.c.stix_id, a.c.version)
            for part in _chunked(list(keys), 300):
                c.execute(
                    a.update()
                    .where(a.c.partner_id == partner_id, key.in_(part))
                    .values(last_at=now, fetches=a.c.fetches + 1)
                )

    def access_log(
        self, partner_id: str | None = None, stix_ids: Sequence[str] | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Who fetched which version of what, most recent first: ``{partner, partner_id, collection,
        id, type, version, tlp_rank, first_at, last_at, fetches}``."""
        a = taxii_access
        stmt = sa.select(a, partners.c.name).join(partners, partners.c.id == a.c.partner_id, isouter=True)
        if partner_id is not None:
            stmt = stmt.where(a.c.partner_id == partner_id)
        if stix_ids is not None:
            stmt = stmt.where(a.c.stix_id.in_(list(stix_ids)))
        stmt = stmt.order_by(a.c.last_at.desc(), a.c.stix_id, a.c.version).limit(limit)
        with self.store.connect() as c:
            return [
                {
                    "partner": r["name"], "partner_id": r["partner_id"], "collection": r["collection_id"],
                    "id": r["stix_id"], "type": r["type"], "version": r["version"], "tlp_rank": r["tlp_rank"],
                    "first_at": to_utc(r["first_at"]), "last_at": to_utc(r["last_at"]), "fetches": r["fetches"],
                }
                for r in c.execute(stmt).mappings()
            ]

    # -- status and pull state ----------------------------------------------------------------

    def save_status(self, status: dict[str, Any], partner_id: str, conn: Connection) -> None:
        conn.execute(
            taxii_status.insert().values(id=status["id"], partner_id=partner_id, data=status, created_at=utcnow())
        )

    def status(self, status_id: str, partner_id: str) -> dict[str, Any]:
        with self.store.connect() as c:
            row = c.execute(
                sa.select(taxii_status.c.data).where(
                    taxii_status.c.id == status_id, taxii_status.c.partner_id == partner_id
                )
            ).first()
        if row is None:
            raise NotFound(f"no status {status_id!r}")
        return dict(row[0])

    def pull_watermark(self, partner_id: str, collection_id: str) -> str | None:
        with self.store.connect() as c:
            return c.execute(
                sa.select(pull_state.c.added_after).where(
                    pull_state.c.partner_id == partner_id, pull_state.c.collection_id == collection_id
                )
            ).scalar()

    def set_pull_watermark(self, partner_id: str, collection_id: str, added_after: str, conn: Connection) -> None:
        res = conn.execute(
            pull_state.update()
            .where(pull_state.c.partner_id == partner_id, pull_state.c.collection_id == collection_id)
            .values(added_after=added_after, pulled_at=utcnow())
        )
        if not res.rowcount:
            conn.execute(
                pull_state.insert().values(
                    partner_id=partner_id, collection_id=collection_id, added_after=added_after, pulled_at=utcnow()
                )
            )
