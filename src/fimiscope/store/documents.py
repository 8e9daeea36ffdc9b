"""Documents: what was collected, versioned when it changes, with the raw content archived.
Functions over a ``Connection``; ``upsert_documents`` is idempotent and commits with the
caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.core.ids import new_id
from fimiscope.core.model import Document
from fimiscope.index.lemmas import lemma_text
from fimiscope.store import archive
from fimiscope.store.signals import sync_evidence_facets
from fimiscope.store.sources import KEY_CHUNK, source_ids, source_name_for
from fimiscope.store.sql import chunks, insert_ignore, next_values, sqlite_bulk_insert
from fimiscope.store.tables import document_versions as document_versions_table
from fimiscope.store.tables import documents, raw_blobs, sources


@dataclass(slots=True)
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.extend(other.ids)


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


# -- raw archive -------------------------------------------------------------------------------


def put_raw(conn: Connection, items: Sequence[bytes], content_type: str | None = None) -> list[str]:
    """Archive raw bodies (zstd, deduplicated by hash); returns their hashes in order."""
    hashes: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for data in items:
        digest, packed = archive.pack(data)
        hashes.append(digest)
        if digest not in rows:
            rows[digest] = {
                "hash": digest,
                "size": len(data),
                "codec": "zstd",
                "content_type": content_type,
                "data": packed,
            }
    if rows and conn.dialect.name == "sqlite":
        sqlite_bulk_insert(conn, raw_blobs, list(rows.values()), or_ignore=True)
    elif rows:
        conn.execute(insert_ignore(conn, raw_blobs), list(rows.values()))
    return hashes


def get_raw(conn: Connection, digest: str) -> bytes:
    row = conn.execute(sa.select(raw_blobs.c.codec, raw_blobs.c.data).where(raw_blobs.c.hash == digest)).first()
    if row is None:
        raise NotFound(f"no raw content with hash {digest}")
    return archive.unpack(row[0], row[1])


# -- documents ---------------------------------------------------------------------------------


def upsert_documents(conn: Connection, docs: Sequence[Document]) -> UpsertResult:
    """Insert new documents, version changed ones, skip unchanged ones. Idempotent.

    Within ``docs`` a key must appear once; callers dedupe (and report) first.
    """
    result = UpsertResult()
    for batch in chunks(docs, KEY_CHUNK):
        result.add(_upsert_batch(conn, batch))
    return result


def _upsert_batch(c: Connection, batch: list[Document]) -> UpsertResult:
    result = UpsertResult()
    now = utcnow()
    keys = [d.key for d in batch]
    existing = {
        r["key"]: r
        for r in c.execute(
            sa.select(
                documents.c.key,
                documents.c.id,
                documents.c.content_hash,
                documents.c.version,
                documents.c.title,
                documents.c.text,
                documents.c.raw_hash,
            ).where(documents.c.key.in_(keys))
        ).mappings()
    }
    names = {n for d in batch if (n := source_name_for(d))}
    source_map = source_ids(c, names) if names else {}
    raws = [d for d in batch if d.raw is not None]
    raw_hashes = dict(zip((id(d) for d in raws), put_raw(c, [d.raw for d in raws if d.raw]), strict=True))

    inserts: list[dict[str, Any]] = []
    changed: list[tuple[Document, RowMapping, str]] = []
    for doc in batch:
        chash = doc.content_hash
        old = existing.get(doc.key)
        if old is None:
            inserts.append(_document_row(doc, chash, raw_hashes.get(id(doc)), source_map, now))
        elif old["content_hash"] != chash:
            changed.append((doc, old, chash))
        else:
            result.unchanged += 1
            result.ids.append(old["id"])
    seqs = next_values(c, "document_seq", len(inserts) + len(changed)) if (inserts or changed) else []
    for row, seq in zip(inserts, seqs, strict=False):
        row["seq"] = seq
        result.ids.append(row["id"])
    if inserts:
        if c.dialect.name == "sqlite":
            before = c.execute(sa.select(sa.func.coalesce(sa.func.max(documents.c.pk), 0))).scalar_one()
        if c.dialect.name == "sqlite":
            sqlite_bulk_insert(c, documents, inserts)
        else:
            c.execute(documents.insert(), inserts)
        if c.dialect.name == "sqlite":
            c.execute(
                sa.text(
                    "INSERT INTO documents_fts(rowid, title, text, lemmas) "
                    "SELECT pk, title, text, lemmas FROM documents WHERE pk > :before"
                ),
                {"before": before},
            )
        result.new = len(inserts)
    if changed:
        c.execute(
            document_versions_table.insert(),
            [
                {
                    "document_id": old["id"],
                    "version": old["version"],
                    "title": old["title"],
                    "text": old["text"],
                    "content_hash": old["content_hash"],
                    "raw_hash": old["raw_hash"],
                    "recorded_at": now,
                }
                for _doc, old, _h in changed
            ],
        )
        for (doc, old, chash), seq in zip(changed, seqs[len(inserts) :], strict=True):
            row = _document_row(doc, chash, raw_hashes.get(id(doc)), source_map, now)
            for fixed in ("id", "key", "collected_at"):
                row.pop(fixed)
            row.update(seq=seq, version=old["version"] + 1)
            c.execute(documents.update().where(documents.c.id == old["id"]).values(**row))
            result.ids.append(old["id"])
        sync_evidence_facets(c, [old["id"] for _doc, old, _h in changed])
        result.updated = len(changed)
    return result

def _document_row(
    doc: Document, chash: str, raw_hash: str | None, source_map: dict[str, str], now: datetime
) -> dict[str, Any]:
    name = source_name_for(doc)
    return {
        "id": doc.id or new_id("doc_"),
        "key": doc.key,
        "source_id": source_map.get(name) if name else None,
        "platform": doc.platform,
        "external_id": doc.external_id,
        "url": doc.url,
        "canonical_url": doc.canonical_url,
        "title": doc.title,
        "text": doc.text,
        "lemmas": lemma_column(doc.title, doc.text, doc.language),
        "language": doc.language,
        "published_at": _aware(doc.published_at),
        "collected_at": _aware(doc.collected_at) or now,
        "author": doc.author,
        "content_hash": chash,
        "raw_hash": raw_hash,
        "links": list(doc.links),
        "shared_from": doc.shared_from,
        "metadata": dict(doc.metadata),
        "updated_at": now,
    }


def lemma_column(title: str | None, text: str, language: str | None) -> str:
    """What the full-text index reads besides the exact forms: title and text as lemmas."""
    return lemma_text(f"{title or ''}\n{text}", language)


DOC_COLUMNS = (
    documents.c.id,
    documents.c.seq,
    documents.c.key,
    documents.c.platform,
    documents.c.external_id,
    documents.c.url,
    documents.c.canonical_url,
    documents.c.title,
    documents.c.text,
    documents.c.language,
    documents.c.published_at,
    documents.c.collected_at,
    documents.c.author,
    documents.c.content_hash,
    documents.c.raw_hash,
    documents.c.links,
    documents.c.shared_from,
    documents.c.metadata,
    documents.c.version,
    sources.c.name.label("source_name"),
)

def document_from(row: RowMapping) -> Document:
    return Document(
        id=row["id"],
        text=row["text"],
        url=row["url"],
        external_id=row["external_id"],
        source=row["source_name"],
        platform=row["platform"],
        title=row["title"],
        language=row["language"],
        published_at=_aware(row["published_at"]),
        collected_at=_aware(row["collected_at"]),
        author=row["author"],
        canonical_url=row["canonical_url"],
        links=list(row["links"] or []),
        shared_from=row["shared_from"],
        metadata={**(row["metadata"] or {}), "_seq": row["seq"], "_version": row["version"]},
    )


def doc_select() -> sa.Select[Any]:
    """Documents with their source's name: the select every document query starts from."""
    return sa.select(*DOC_COLUMNS).select_from(documents.outerjoin(sources, documents.c.source_id == sources.c.id))


def get_document(conn: Connection, doc_id: str) -> Document:
    row = conn.execute(doc_select().where(documents.c.id == doc_id)).mappings().first()
    if row is None:
        raise NotFound(f"no document {doc_id!r}")
    return document_from(row)


def document_versions(conn: Connection, doc_id: str) -> list[dict[str, Any]]:
    """Earlier versions of a document, oldest first."""
    rows = conn.execute(
        sa.select(document_versions_table)
        .where(document_versions_table.c.document_id == doc_id)
        .order_by(document_versions_table.c.version)
    ).mappings()
    return [dict(r) for r in rows]


def documents_after(conn: Connection, seq: int, limit: int) -> list[Document]:
    """Documents whose ``seq`` is past a stage's watermark, oldest first: the pipeline's feed."""
    q = doc_select().where(documents.c.seq > seq).order_by(documents.c.seq).limit(limit)
    return [document_from(r) for r in conn.execute(q).mappings()]


def max_document_seq(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(documents.c.seq), 0))).scalar_one())


def update_document_fields(conn: Connection, doc_id: str, **values: Any) -> None:
    """Derived fields a stage fills in (language, canonical url): no new version, no new seq."""
    allowed = {"language", "canonical_url", "metadata"}
    bad = set(values) - allowed
    if bad:
        raise ValueError(f"not a derived field: {sorted(bad)}")
    if "language" in values:  # the lemmas follow the language
        row = conn.execute(sa.select(documents.c.title, documents.c.text).where(documents.c.id == doc_id)).first()
        if row is not None:
            values["lemmas"] = lemma_column(row[0], row[1], values["language"])
    conn.execute(documents.update().where(documents.c.id == doc_id).values(**values))
    if "language" in values:
        sync_evidence_facets(conn, [doc_id])
