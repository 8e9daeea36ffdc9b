"""Documents: what was collected, versioned when it changes, with the raw content archived.
Functions over a ``Connection``; ``upsert_documents`` is idempotent and commits with the
caller's transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import NotFound
from fimiscope.core.ids import new_ids
from fimiscope.core.model import Document, content_hash
from fimiscope.core.serialize import has_nul, without_nul
from fimiscope.index.lemmas import lemma_text
from fimiscope.store import archive
from fimiscope.store.signals import sync_evidence_facets
from fimiscope.store.sources import KEY_CHUNK, source_ids, source_name_for
from fimiscope.store.sql import chunks, next_values, pg_copy_insert, sqlite_bulk_insert
from fimiscope.store.tables import document_versions as document_versions_table
from fimiscope.store.tables import documents, raw_blobs, sources
from fimiscope.store.tsvector import lemma_vector


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
    packed = [(*archive.pack(data), len(data)) for data in items]
    _put_packed(conn, packed, content_type)
    return [p[0] for p in packed]


def _put_packed(conn: Connection, packed: Sequence[tuple[str, bytes, int]], content_type: str | None) -> None:
    """Store already compressed bodies, (hash, zstd bytes, size) each, in hash order (B-tree
    pages are then touched once each), skipping hashes already archived."""
    rows = {digest: (digest, size, "zstd", content_type, data) for digest, data, size in packed}
    if not rows:
        return
    ordered = [rows[k] for k in sorted(rows)]
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO raw_blobs (hash, size, codec, content_type, data) VALUES (?, ?, ?, ?, ?)", ordered
        )
    else:
        pg_copy_insert(conn, raw_blobs, ["hash", "size", "codec", "content_type", "data"], ordered,
                       conflict="ON CONFLICT (hash) DO NOTHING")


def get_raw(conn: Connection, digest: str) -> bytes:
    row = conn.execute(sa.select(raw_blobs.c.codec, raw_blobs.c.data).where(raw_blobs.c.hash == digest)).first()
    if row is None:
        raise NotFound(f"no raw content with hash {digest}")
    return archive.unpack(row[0], row[1])


# -- documents ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """What an upsert computes from documents alone, without the database: content hashes,
    compressed raw bodies, fresh ids, the lemma column. ``prepare_documents`` can run in another
    thread while the previous batch is written (``pipeline.ingest`` does): hashing, zstd and
    the database release the GIL, and the lemmas (the largest per-document cost in Python)
    are then off the writer's path."""

    docs: Sequence[Document]
    hashes: list[str]
    raws: list[tuple[str, bytes, int] | None]
    ids: list[str]
    lemmas: list[str] = field(default_factory=list)
    # PostgreSQL only: each lemma column's tsvector as a literal (None: the server builds it)
    lemma_vectors: list[str | None] | None = None


# What ``prepare_columns`` reads of a document: title, text, language, raw body.
ColumnInput = tuple[str | None, str, str | None, bytes | None]
# What it returns: content hashes, (hash, zstd bytes, size) of the raw bodies, lemma columns.
Columns = tuple[list[str], list[tuple[str, bytes, int] | None], list[str]]


def prepare_documents(
    docs: Sequence[Document], columns: Columns | None = None, *, vectors: bool = False
) -> Prepared:
    """``docs`` made storable (NULs removed) with what their upsert needs: ``Prepared.docs``
    are the documents to hand to ``upsert_documents``. ``columns`` is
    ``prepare_columns(column_inputs(storable_documents(docs)))`` when it was computed elsewhere
    (``pipeline.ingest`` does that in worker processes). ``vectors``: also the lemma columns'
    full-text vectors, which PostgreSQL then only parses (``store/tsvector.py``)."""
    docs = storable_documents(docs)
    hashes, raws, lemmas = columns if columns is not None else prepare_columns(column_inputs(docs))
    fresh = iter(new_ids("doc_", sum(1 for d in docs if not d.id)))
    return Prepared(
        docs=docs,
        hashes=hashes,
        raws=raws,
        ids=[d.id or next(fresh) for d in docs],
        lemmas=lemmas,
        lemma_vectors=[lemma_vector(x) for x in lemmas] if vectors else None,
    )


def storable_documents(docs: Sequence[Document]) -> list[Document]:
    """``docs`` without NUL characters (see ``_storable``)."""
    return [_storable(d) for d in docs]


def column_inputs(docs: Sequence[Document]) -> list[ColumnInput]:
    """The fields ``prepare_columns`` reads, as plain tuples (cheap to send to another process)."""
    return [(d.title, d.text, d.language, d.raw) for d in docs]


def prepare_columns(items: Sequence[ColumnInput]) -> Columns:
    """The per-document work of an upsert that needs no database and no shared state: content
    hash, zstd of the raw body, lemma column. Pure and picklable, so it can run in a worker
    process (the largest share of an import's Python time: ~45 µs of ~63 per document)."""
    return (
        [content_hash(title, text) for title, text, _lang, _raw in items],
        [(*archive.pack(raw), len(raw)) if raw is not None else None for _t, _x, _l, raw in items],
        [lemma_column(title, text, lang) for title, text, lang, _raw in items],
    )


def upsert_documents(conn: Connection, docs: Sequence[Document], prepared: Prepared | None = None) -> UpsertResult:
    """Insert new documents, version changed ones, skip unchanged ones. Idempotent.

    Within ``docs`` a key must appear once; callers dedupe (and report) first. ``prepared``
    is ``prepare_documents(docs)`` when the caller made it already.
    """
    if prepared is None or not prepared.lemmas or prepared.docs is not docs:
        prepared = prepare_documents(docs)  # hashes of what is stored, not of the NULs
    docs, prep = prepared.docs, prepared
    pg = conn.dialect.name == "postgresql"
    vectors = prep.lemma_vectors if pg and prep.lemma_vectors is not None else [None] * len(docs)
    result = UpsertResult()
    now = utcnow()
    existing: dict[str, RowMapping] = {}
    doc_keys = [d.key for d in docs]
    for keys in chunks(doc_keys, KEY_CHUNK):
        for r in conn.execute(
            sa.select(
                documents.c.key,
                documents.c.id,
                documents.c.content_hash,
                documents.c.version,
                documents.c.title,
                documents.c.text,
                documents.c.raw_hash,
            ).where(documents.c.key.in_(keys))
        ).mappings():
            existing[r["key"]] = r
    names = {n for d in docs if (n := source_name_for(d))}
    source_map = source_ids(conn, names) if names else {}
    _put_packed(conn, [r for r in prep.raws if r is not None], None)

    inserts: list[dict[str, Any]] = []
    changed: list[tuple[Document, RowMapping, str, str | None]] = []
    changed_lemmas: list[str] = []
    for doc, key, chash, raw, doc_id, lemmas, vector in zip(
        docs, doc_keys, prep.hashes, prep.raws, prep.ids, prep.lemmas, vectors, strict=True
    ):
        old = existing.get(key)
        raw_hash = raw[0] if raw is not None else None
        if old is None:
            row = _document_row(doc, chash, raw_hash, source_map, now, lemmas, key)
            row["id"] = doc_id
            if pg:  # a plain column since migration 0006; None: the insert trigger computes it
                row["lemma_vector"] = vector
            inserts.append(row)
        elif old["content_hash"] != chash:
            changed.append((doc, old, chash, raw_hash))
            changed_lemmas.append(lemmas)
        else:
            result.unchanged += 1
            result.ids.append(old["id"])
    seqs = next_values(conn, "document_seq", len(inserts) + len(changed)) if (inserts or changed) else []
    for row, seq in zip(inserts, seqs, strict=False):
        row["seq"] = seq
        result.ids.append(row["id"])
    if inserts:
        _insert_documents(conn, inserts)
        result.new = len(inserts)
    if changed:
        conn.execute(
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
                for _doc, old, _h, _r in changed
            ],
        )
        for (doc, old, chash, raw_hash), seq, lemmas in zip(
            changed, seqs[len(inserts) :], changed_lemmas, strict=True
        ):
            row = _document_row(doc, chash, raw_hash, source_map, now, lemmas)
            for fixed in ("key", "collected_at"):
                row.pop(fixed)
            row.update(seq=seq, version=old["version"] + 1)
            conn.execute(documents.update().where(documents.c.id == old["id"]).values(**row))
            result.ids.append(old["id"])
        sync_evidence_facets(conn, [old["id"] for _doc, old, _h, _r in changed])
        result.updated = len(changed)
    return result


_TEXT_FIELDS = ("text", "url", "external_id", "source", "platform", "title", "language", "author",
                "canonical_url", "shared_from")


def _storable(doc: Document) -> Document:
    """``doc`` without NUL characters, which PostgreSQL cannot store: one such document from
    any collector must not sink its batch (the generic importer removes them and says so)."""
    # One C-level search over the text fields joined (a per-field check was a tenth of the
    # writer's Python time in bulk import); lists and dicts only when not empty.
    strings = (doc.text, doc.url, doc.external_id, doc.source, doc.platform, doc.title, doc.language,
               doc.author, doc.canonical_url, doc.shared_from)
    try:
        clean = "\x00" not in "\x01".join(filter(None, strings))
    except TypeError:  # a field that is not a string: checked one by one
        clean = not any(has_nul(v) for v in strings)
    if clean and not ((doc.links and has_nul(doc.links)) or (doc.metadata and has_nul(doc.metadata))):
        return doc
    cleaned = {f: without_nul(getattr(doc, f)) for f in _TEXT_FIELDS}
    return dataclasses.replace(doc, links=without_nul(doc.links), metadata=without_nul(doc.metadata), **cleaned)


def _insert_documents(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """New documents in one statement: on SQLite one executemany then one FTS5 insert of the
    new rowids; on PostgreSQL COPY into a staging table then one INSERT ... SELECT (the
    generated tsvector of title and text is computed there; the lemma vector comes ready,
    ``row["lemma_vector"]``, or the insert trigger computes it where that is None)."""
    if conn.dialect.name == "sqlite":
        before = conn.execute(sa.select(sa.func.coalesce(sa.func.max(documents.c.pk), 0))).scalar_one()
        sqlite_bulk_insert(conn, documents, rows)
        conn.execute(
            sa.text(
                "INSERT INTO documents_fts(rowid, title, text, lemmas) "
                "SELECT pk, title, text, lemmas FROM documents WHERE pk > :before"
            ),
            {"before": before},
        )
        return
    cols = list(rows[0])
    json_cols = {i for i, c in enumerate(cols) if c in documents.c and isinstance(documents.c[c].type, sa.JSON)}
    tuples = [
        tuple(orjson.dumps(v).decode() if i in json_cols else v for i, v in enumerate(row.values())) for row in rows
    ]
    pg_copy_insert(conn, documents, cols, tuples, conflict="ON CONFLICT (key) DO NOTHING")


def _document_row(
    doc: Document, chash: str, raw_hash: str | None, source_map: dict[str, str], now: datetime, lemmas: str,
    key: str | None = None,
) -> dict[str, Any]:
    name = source_name_for(doc)
    return {
        "key": key or doc.key,
        "source_id": source_map.get(name) if name else None,
        "platform": doc.platform,
        "external_id": doc.external_id,
        "url": doc.url,
        "canonical_url": doc.canonical_url,
        "title": doc.title,
        "text": doc.text,
        "lemmas": lemmas,
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


def documents_between(conn: Connection, lo: int, hi: int) -> list[Document]:
    """Documents with ``lo <= seq <= hi``, oldest first: one leased batch of a parallel worker."""
    q = doc_select().where(documents.c.seq >= lo, documents.c.seq <= hi).order_by(documents.c.seq)
    return [document_from(r) for r in conn.execute(q).mappings()]


def ids_for_keys(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    """{key: document id} for the stored ones among ``keys``."""
    out: dict[str, str] = {}
    for batch in chunks(keys, KEY_CHUNK):
        out.update((k, i) for k, i in conn.execute(sa.select(documents.c.key, documents.c.id)
                                                      .where(documents.c.key.in_(batch))))
    return out


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
