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
from fimiscope.store.tables_cases import partners, pull_state, stix_objects, taxii_collections, taxii_status

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
    ) -> tuple[int, int]:
        """Add objects to a collection; a version already there is left alone. Returns (new, known)."""
        now = now or utcnow()
        rows = []
        for obj, rank in zip(objects, tlp_ranks, strict=True):
            rows.append(
                {
                    "collection_id": collection,
                    "stix_id": obj["id"],
                    "type": obj["type"],
                    "version": stix_version(obj),
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

    def owners(self, stix_ids: Sequence[str], conn: Connection) -> dict[str, set[str | None]]:
        """Who created each id, across every collection: forged overwrites are refused on this."""
        out: dict[str, set[str | None]] = {}
        ids = list(set(stix_ids))
        for i in range(0, len(ids), 500):
            for sid, owner in conn.execute(
                sa.select(stix_objects.c.stix_id, stix_objects.c.created_by_ref)
                .where(stix_objects.c.stix_id.in_(ids[i : i + 500]))
                .distinct()
            ):
                out.setdefault(sid, set()).add(owner)
        return out

    def query(self, q: ObjectQuery, conn: Connection | None = None) -> tuple[list[StoredObject], bool]:
        """Objects visible under ``q``, oldest added first; returns (page, more)."""
        t = stix_objects
        visible = sa.and_(t.c.collection_id == q.collection, t.c.tlp_rank <= q.max_tlp_rank)
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
            t2 = t.alias("t2")
            same = sa.and_(
                t2.c.collection_id == t.c.collection_id, t2.c.stix_id == t.c.stix_id, t2.c.tlp_rank <= q.max_tlp_rank
            )
            if "last" in versions:
                conds.append(t.c.version == sa.select(sa.func.max(t2.c.version)).where(same).scalar_subquery())
            if "first" in versions:
                conds.append(t.c.version == sa.select(sa.func.min(t2.c.version)).where(same).scalar_subquery())
            exact = [normalise_timestamp(v) for v in versions if v not in ("last", "first")]
            if exact:
                conds.append(t.c.version.in_(exact))
            stmt = stmt.where(sa.or_(*conds))
        stmt = stmt.order_by(t.c.date_added, t.c.pk).limit(q.limit + 1)
        with self._read(conn) as c:
            rows = [_obj(r) for r in c.execute(stmt).mappings()]
        return rows[: q.limit], len(rows) > q.limit

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
