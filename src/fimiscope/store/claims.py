"""Store access for debunked claims: add with de-duplication, list, get, iterate, count.

A claim's identity is its normalised text: the same claim imported from two databases (or
twice from one) is one row whose outlets, links, keywords and provenance accumulate.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import Claim, Provenance
from fimiscope.store import Store, UpsertResult
from fimiscope.store.sql import chunks
from fimiscope.store.tables import signals
from fimiscope.store.tables_claims import claims

__all__ = [
    "ClaimRecord",
    "ClaimSet",
    "add_claim",
    "claim_key",
    "claim_languages",
    "claim_set",
    "claim_signal_ids",
    "count_claims",
    "get_claim",
    "iter_claims",
    "list_claims",
    "upsert_claims",
]

MAX_CLAIM_CHARS = 20_000
_BATCH = 500
_WS = re.compile(r"\s+")


@dataclass(slots=True)
class ClaimRecord:
    """A stored claim with what the core ``Claim`` does not carry."""

    claim: Claim
    key: str = ""
    countries: list[str] = field(default_factory=list)
    outlets: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def id(self) -> str:
        assert self.claim.id is not None
        return self.claim.id

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `fimiscope claims show --format json` (docs/cli.md)."""
        c = self.claim
        return {
            "id": c.id,
            "text": c.text,
            "title": c.title,
            "language": c.language,
            "published_at": c.published_at.isoformat() if c.published_at else None,
            "verdict": c.verdict,
            "debunk": c.debunk,
            "debunk_url": c.debunk_url,
            "keywords": list(c.keywords),
            "countries": list(self.countries),
            "outlets": list(self.outlets),
            "links": list(self.links),
            "provenance": list(self.provenance),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True, slots=True)
class ClaimSet:
    """What a matcher needs to know whether its index is stale."""

    count: int
    max_pk: int


def claim_key(text: str) -> str:
    """Identity of a claim: NFKC, casefolded, whitespace collapsed, hashed."""
    norm = _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
    return "t:" + hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()


def _union(old: Sequence[Any], new: Sequence[Any]) -> list[Any]:
    out = list(old)
    for item in new:
        if item not in out:
            out.append(item)
    return out


def _record_from(row: RowMapping) -> ClaimRecord:
    prov = list(row["provenance"] or [])
    first = prov[0] if prov else None
    claim = Claim(
        id=row["id"],
        text=row["text"],
        title=row["title"],
        language=row["language"],
        verdict=row["verdict"],
        debunk=row["debunk"],
        debunk_url=row["debunk_url"],
        published_at=to_utc(row["published_at"]) if row["published_at"] else None,
        provenance=Provenance(by=first.get("by", ""), where=first.get("where", ""), when=first.get("when", ""))
        if first
        else None,
        keywords=list(row["keywords"] or []),
    )
    return ClaimRecord(
        claim=claim,
        key=row["key"],
        countries=list(row["countries"] or []),
        outlets=list(row["outlets"] or []),
        links=list(row["links"] or []),
        provenance=prov,
        created_at=to_utc(row["created_at"]) if row["created_at"] else None,
        updated_at=to_utc(row["updated_at"]) if row["updated_at"] else None,
    )


def _as_record(item: Claim | ClaimRecord | tuple[Claim, Mapping[str, Any]]) -> ClaimRecord:
    if isinstance(item, ClaimRecord):
        rec = item
    elif isinstance(item, Claim):
        rec = ClaimRecord(claim=item)
    else:
        claim, extras = item
        rec = ClaimRecord(
            claim=claim,
            countries=list(extras.get("countries") or []),
            outlets=list(extras.get("outlets") or []),
            links=list(extras.get("links") or []),
            provenance=list(extras.get("provenance") or []),
        )
    c = rec.claim
    text = (c.text or "").strip()
    if not text:
        raise InvalidInput("a claim needs its text")
    if len(text) > MAX_CLAIM_CHARS:
        raise InvalidInput(f"claim text is longer than {MAX_CLAIM_CHARS} characters")
    c.text = text
    if c.provenance is not None:
        p = c.provenance.as_dict()
        if p not in rec.provenance:
            rec.provenance.insert(0, p)
    rec.key = claim_key(text)
    return rec


def _row(rec: ClaimRecord) -> dict[str, Any]:
    c = rec.claim
    return {
        "text": c.text,
        "title": c.title,
        "language": c.language,
        "published_at": to_utc(c.published_at) if c.published_at else None,
        "verdict": c.verdict,
        "debunk": c.debunk,
        "debunk_url": c.debunk_url,
        "keywords": list(c.keywords),
        "countries": list(rec.countries),
        "outlets": list(rec.outlets),
        "links": list(rec.links),
        "provenance": list(rec.provenance),
    }


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What changes when ``new`` arrives for a stored claim: lists accumulate, empty fields fill."""
    changes: dict[str, Any] = {}
    for name in ("keywords", "countries", "outlets", "links", "provenance"):
        merged = _union(old[name] or [], new[name] or [])
        if merged != list(old[name] or []):
            changes[name] = merged
    for name in ("title", "language", "verdict", "debunk", "debunk_url", "published_at"):
        if old[name] in (None, "") and new[name] not in (None, ""):
            changes[name] = new[name]
    return changes


def upsert_claims(
    store: Store,
    items: Iterable[Claim | ClaimRecord | tuple[Claim, Mapping[str, Any]]],
    conn: Connection | None = None,
) -> UpsertResult:
    """Add claims; one already stored (same normalised text) is merged, not duplicated.

    Returns counts of new, updated (something merged in) and unchanged claims, and the ids in
    input order. Re-importing the same file changes nothing.
    """
    result = UpsertResult()
    now = utcnow()
    with store.transaction(conn) as c:
        for batch in chunks((_as_record(i) for i in items), _BATCH):
            keys = list({r.key for r in batch})
            existing: dict[str, dict[str, Any]] = {
                row["key"]: dict(row)
                for row in c.execute(sa.select(claims).where(claims.c.key.in_(keys))).mappings()
            }
            for rec in batch:
                new = _row(rec)
                old = existing.get(rec.key)
                if old is None:
                    rec.claim.id = rec.claim.id or new_id("clm_")
                    values = {"id": rec.claim.id, "key": rec.key, "created_at": now, "updated_at": now, **new}
                    c.execute(claims.insert().values(**values))
                    existing[rec.key] = values
                    result.new += 1
                else:
                    rec.claim.id = old["id"]
                    changes = _merge(old, new)
                    if changes:
                        c.execute(claims.update().where(claims.c.id == old["id"]).values(updated_at=now, **changes))
                        old.update(changes)
                        result.updated += 1
                    else:
                        result.unchanged += 1
                result.ids.append(rec.claim.id)
    return result


def add_claim(
    store: Store, claim: Claim, extras: Mapping[str, Any] | None = None, conn: Connection | None = None
) -> ClaimRecord:
    """Add one claim (an analyst's entry); returns the stored record, merged if it existed."""
    res = upsert_claims(store, [(claim, extras or {})], conn)
    return get_claim(store, res.ids[0])


def get_claim(store: Store, claim_id: str) -> ClaimRecord:
    with store.connect() as c:
        row = c.execute(sa.select(claims).where(claims.c.id == claim_id)).mappings().first()
    if row is None:
        raise NotFound(f"no claim {claim_id!r} (see `fimiscope claims list`)")
    return _record_from(row)


def get_claims(store: Store, claim_ids: Sequence[str]) -> dict[str, ClaimRecord]:
    out: dict[str, ClaimRecord] = {}
    with store.connect() as c:
        for batch in chunks(list(dict.fromkeys(claim_ids)), _BATCH):
            for row in c.execute(sa.select(claims).where(claims.c.id.in_(batch))).mappings():
                out[row["id"]] = _record_from(row)
    return out


def list_claims(
    store: Store,
    *,
    language: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[ClaimRecord]:
    """Claims, newest first (by publication date, then by when they were added)."""
    q = sa.select(claims)
    if language:
        q = q.where(claims.c.language == language)
    q = q.order_by(claims.c.pk.desc()).limit(limit).offset(offset)
    with store.connect() as c:
        return [_record_from(r) for r in c.execute(q).mappings()]


def iter_claims(store: Store, *, batch_size: int = 5000) -> Iterator[ClaimRecord]:
    """Every claim, oldest first, read in batches (keyset paging on pk)."""
    last = 0
    while True:
        q = sa.select(claims).where(claims.c.pk > last).order_by(claims.c.pk).limit(batch_size)
        with store.connect() as c:
            rows = c.execute(q).mappings().all()
        if not rows:
            return
        for row in rows:
            yield _record_from(row)
        last = int(rows[-1]["pk"])


def iter_claim_texts(store: Store, *, batch_size: int = 20_000) -> Iterator[tuple[str, str, str | None]]:
    """(id, text, title) of every claim: what an index needs, without decoding the JSON columns."""
    last = 0
    while True:
        q = (
            sa.select(claims.c.pk, claims.c.id, claims.c.text, claims.c.title)
            .where(claims.c.pk > last)
            .order_by(claims.c.pk)
            .limit(batch_size)
        )
        with store.connect() as c:
            rows = c.execute(q).all()
        if not rows:
            return
        for row in rows:
            yield row[1], row[2], row[3]
        last = int(rows[-1][0])


def claim_languages(store: Store, conn: Connection | None = None) -> dict[str, str | None]:
    """Claim id -> language code, for the claims that have one."""
    q = sa.select(claims.c.id, claims.c.language).where(claims.c.language.is_not(None))
    with store.connect(conn) as c:
        return {str(i): lang for i, lang in c.execute(q)}


def count_claims(store: Store, *, language: str | None = None) -> int:
    if language is None:
        return claim_set(store).count
    q = sa.select(sa.func.count()).select_from(claims).where(claims.c.language == language)
    with store.connect() as c:
        return int(c.execute(q).scalar_one())


def claim_signal_ids(store: Store, claim_id: str, *, limit: int = 200) -> list[str]:
    """Ids of the claim_match signals raised on this claim, newest first. Their key is
    ``claim:{document}:{claim}``, so a suffix match finds them without decoding details."""
    pattern = claim_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = (
        sa.select(signals.c.id)
        .where(signals.c.type == "claim_match", signals.c.key.like(f"claim:%:{pattern}", escape="\\"))
        .order_by(signals.c.created_at.desc(), signals.c.id)
        .limit(limit)
    )
    with store.connect() as c:
        return [str(x) for x in c.execute(q).scalars()]


def claim_set(store: Store, conn: Connection | None = None) -> ClaimSet:
    q = sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(claims.c.pk), 0)).select_from(claims)
    if conn is not None:
        row = conn.execute(q).one()
    else:
        with store.connect() as c:
            row = c.execute(q).one()
    return ClaimSet(count=int(row[0]), max_pk=int(row[1]))
