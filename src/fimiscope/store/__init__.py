"""Persistence: one ``Store`` over SQLite (default) or PostgreSQL, same code, same migrations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from fimiscope.core.clock import to_utc, utcnow
from fimiscope.core.errors import InvalidInput, NotFound, Unavailable
from fimiscope.core.ids import new_id
from fimiscope.core.model import (
    Affiliation,
    Document,
    Evidence,
    Provenance,
    Reliability,
    Signal,
    SignalStatus,
    Source,
)
from fimiscope.store import archive
from fimiscope.store.db import create_engine, migrate, sqlite_url
from fimiscope.store.sql import chunks, insert_ignore, next_values
from fimiscope.store.tables import (
    document_versions,
    documents,
    evidence,
    raw_blobs,
    signals,
    sources,
    watermarks,
)

__all__ = ["Store", "UpsertResult", "source_name_for"]

_KEY_CHUNK = 500  # keys per IN (...) lookup: well under every backend's parameter limit


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


def source_name_for(doc: Document) -> str | None:
    """The source a document belongs to: as given, else its URL's host without ``www.``."""
    if doc.source:
        return doc.source
    if doc.url:
        host = urlsplit(doc.url).hostname or ""
        return host.removeprefix("www.") or None
    return None


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


class Store:
    """The one way in and out of persistence. Cheap to create; thread-safe through its engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(fimiscope_write=True)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        database_url: str | None = None,
        data_dir: Path | None = None,
        *,
        schema: str | None = None,
        upgrade: bool = True,
    ) -> Store:
        """Open (and migrate) the store: ``database_url`` if given, else SQLite in ``data_dir``."""
        if database_url is None:
            if data_dir is None:
                raise InvalidInput("give a data folder or a database URL")
            try:
                data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Unavailable(f"cannot create the data folder {data_dir} ({exc.strerror}): check the path and "
                                  "its permissions (--data-dir / FIMISCOPE_DATA_DIR)") from exc
            database_url = sqlite_url(data_dir)
        engine = create_engine(database_url, schema=schema)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit: everything written through ``conn`` commits together or not at all."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _conn(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self._writer.begin() as own:
                yield own

    def close(self) -> None:
        self.engine.dispose()

    # -- sources -------------------------------------------------------------------------------

    @staticmethod
    def _source_row(src: Source, now: datetime) -> dict[str, Any]:
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

    @staticmethod
    def _source_from(row: RowMapping) -> Source:
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

    def add_source(self, src: Source, *, replace: bool = False, conn: Connection | None = None) -> Source:
        """Create a source. With ``replace`` an existing one of the same name is updated."""
        now = utcnow()
        with self._conn(conn) as c:
            existing = c.execute(sa.select(sources.c.id).where(sources.c.name == src.name)).scalar()
            if existing and not replace:
                raise InvalidInput(f"a source named {src.name!r} already exists (use --replace to update it)")
            row = self._source_row(src, now)
            if existing:
                c.execute(sources.update().where(sources.c.id == existing).values(**row))
                src.id = existing
            else:
                src.id = src.id or new_id("src_")
                c.execute(sources.insert().values(id=src.id, created_at=now, **row))
        return src

    def merge_sources(self, items: Iterable[Source], conn: Connection | None = None) -> tuple[int, int]:
        """Registry import: create new sources, merge flags/lists/provenance into existing ones.

        Returns (created, updated). Re-importing the same registry changes nothing.
        """
        created = updated = 0
        now = utcnow()
        with self._conn(conn) as c:
            for batch in chunks(items, _KEY_CHUNK):
                names = [s.name for s in batch]
                rows = c.execute(sa.select(sources).where(sources.c.name.in_(names))).mappings().all()
                existing = {r["name"]: self._source_from(r) for r in rows}
                for src in batch:
                    old = existing.get(src.name)
                    if old is None:
                        src.id = new_id("src_")
                        c.execute(sources.insert().values(id=src.id, created_at=now, **self._source_row(src, now)))
                        existing[src.name] = src
                        created += 1
                        continue
                    merged = _merge_source(old, src)
                    if merged is not None:
                        c.execute(
                            sources.update().where(sources.c.id == old.id).values(**self._source_row(merged, now))
                        )
                        existing[src.name] = merged
                        updated += 1
        return created, updated

    def get_source(self, name_or_id: str, conn: Connection | None = None) -> Source:
        q = sa.select(sources).where((sources.c.name == name_or_id) | (sources.c.id == name_or_id))
        if conn is not None:
            row = conn.execute(q).mappings().first()
        else:
            with self.engine.connect() as c:
                row = c.execute(q).mappings().first()
        if row is None:
            raise NotFound(f"no source named {name_or_id!r} (see `fimiscope sources list`)")
        return self._source_from(row)

    def list_sources(
        self,
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
        with self.engine.connect() as c:
            return [self._source_from(r) for r in c.execute(q).mappings()]

    def remove_source(self, name_or_id: str) -> Source:
        src = self.get_source(name_or_id)
        with self.transaction() as c:
            c.execute(sources.delete().where(sources.c.id == src.id))
        return src

    def source_ids(self, names: Iterable[str], conn: Connection, *, platform: str = "web") -> dict[str, str]:
        """Ids for source names, creating unknown ones (affiliation unknown) on the way."""
        wanted = sorted(set(names))
        found: dict[str, str] = {}
        for batch in chunks(wanted, _KEY_CHUNK):
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
                rows.append({"id": sid, "created_at": now, **self._source_row(src, now)})
                found[name] = sid
            conn.execute(insert_ignore(conn, sources), rows)
            # A concurrent writer may have created some of them first: read back the winners.
            for batch in chunks(missing, _KEY_CHUNK):
                for row in conn.execute(sa.select(sources.c.name, sources.c.id).where(sources.c.name.in_(batch))):
                    found[row[0]] = row[1]
        return found

    # -- raw archive ---------------------------------------------------------------------------

    def put_raw(self, items: Sequence[bytes], conn: Connection, content_type: str | None = None) -> list[str]:
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
            _sqlite_bulk_insert(conn, raw_blobs, list(rows.values()), or_ignore=True)
        elif rows:
            conn.execute(insert_ignore(conn, raw_blobs), list(rows.values()))
        return hashes

    def get_raw(self, digest: str) -> bytes:
        with self.engine.connect() as c:
            row = c.execute(sa.select(raw_blobs.c.codec, raw_blobs.c.data).where(raw_blobs.c.hash == digest)).first()
        if row is None:
            raise NotFound(f"no raw content with hash {digest}")
        return archive.unpack(row[0], row[1])

    # -- documents -----------------------------------------------------------------------------

    def upsert_documents(self, docs: Sequence[Document], conn: Connection | None = None) -> UpsertResult:
        """Insert new documents, version changed ones, skip unchanged ones. Idempotent.

        Within ``docs`` a key must appear once; callers dedupe (and report) first.
        """
        result = UpsertResult()
        if not docs:
            return result
        with self._conn(conn) as c:
            for batch in chunks(docs, _KEY_CHUNK):
                result.add(self._upsert_batch(batch, c))
        return result

    def _upsert_batch(self, batch: list[Document], c: Connection) -> UpsertResult:
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
        source_map = self.source_ids(names, c) if names else {}
        raws = [d for d in batch if d.raw is not None]
        raw_hashes = dict(zip((id(d) for d in raws), self.put_raw([d.raw for d in raws if d.raw], c), strict=True))

        inserts: list[dict[str, Any]] = []
        changed: list[tuple[Document, RowMapping, str]] = []
        for doc in batch:
            chash = doc.content_hash
            old = existing.get(doc.key)
            if old is None:
                inserts.append(self._document_row(doc, chash, raw_hashes.get(id(doc)), source_map, now))
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
                _sqlite_bulk_insert(c, documents, inserts)
            else:
                c.execute(documents.insert(), inserts)
            if c.dialect.name == "sqlite":
                c.execute(
                    sa.text(
                        "INSERT INTO documents_fts(rowid, title, text) "
                        "SELECT pk, title, text FROM documents WHERE pk > :before"
                    ),
                    {"before": before},
                )
            result.new = len(inserts)
        if changed:
            c.execute(
                document_versions.insert(),
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
                row = self._document_row(doc, chash, raw_hashes.get(id(doc)), source_map, now)
                for fixed in ("id", "key", "collected_at"):
                    row.pop(fixed)
                row.update(seq=seq, version=old["version"] + 1)
                c.execute(documents.update().where(documents.c.id == old["id"]).values(**row))
                result.ids.append(old["id"])
            self._sync_evidence_facets(c, [old["id"] for _doc, old, _h in changed])
            result.updated = len(changed)
        return result

    @staticmethod
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

    _DOC_COLUMNS = (
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

    @staticmethod
    def _document_from(row: RowMapping) -> Document:
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

    def _doc_select(self) -> sa.Select[Any]:
        return sa.select(*self._DOC_COLUMNS).select_from(
            documents.outerjoin(sources, documents.c.source_id == sources.c.id)
        )

    def get_document(self, doc_id: str) -> Document:
        with self.engine.connect() as c:
            row = c.execute(self._doc_select().where(documents.c.id == doc_id)).mappings().first()
        if row is None:
            raise NotFound(f"no document {doc_id!r}")
        return self._document_from(row)

    def document_versions(self, doc_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(document_versions)
                .where(document_versions.c.document_id == doc_id)
                .order_by(document_versions.c.version)
            ).mappings()
            return [dict(r) for r in rows]

    def documents_after(self, seq: int, limit: int, conn: Connection | None = None) -> list[Document]:
        """Documents whose ``seq`` is past a stage's watermark, oldest first: the pipeline's feed."""
        q = self._doc_select().where(documents.c.seq > seq).order_by(documents.c.seq).limit(limit)
        if conn is not None:
            return [self._document_from(r) for r in conn.execute(q).mappings()]
        with self.engine.connect() as c:
            return [self._document_from(r) for r in c.execute(q).mappings()]

    def max_document_seq(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(sa.select(sa.func.coalesce(sa.func.max(documents.c.seq), 0))).scalar_one())

    def update_document_fields(self, doc_id: str, conn: Connection, **values: Any) -> None:
        """Derived fields a stage fills in (language, canonical url): no new version, no new seq."""
        allowed = {"language", "canonical_url", "metadata"}
        bad = set(values) - allowed
        if bad:
            raise ValueError(f"not a derived field: {sorted(bad)}")
        conn.execute(documents.update().where(documents.c.id == doc_id).values(**values))
        if "language" in values:
            self._sync_evidence_facets(conn, [doc_id])

    def search(
        self,
        query: str,
        *,
        language: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[tuple[Document, float]]:
        """Full-text search over title and text, best first, with the backend's relevance score."""
        terms = [t for t in _search_terms(query)]
        if not terms:
            raise InvalidInput("the search query has no words")
        q = self._doc_select()
        if self.dialect == "sqlite":
            fts = sa.table("documents_fts", sa.column("rowid"))
            match = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
            rank: sa.ColumnElement[float] = sa.literal_column("bm25(documents_fts)")
            q = (
                q.add_columns((-rank).label("score"))
                .join(fts, fts.c.rowid == documents.c.pk)
                .where(sa.text("documents_fts MATCH :match").bindparams(match=match))
                .order_by(rank)
            )
        else:
            tsq = sa.func.plainto_tsquery("simple", " ".join(terms))
            vec: sa.ColumnElement[Any] = sa.literal_column("documents.search_vector")
            score = sa.func.ts_rank(vec, tsq)
            q = q.add_columns(score.label("score")).where(vec.op("@@")(tsq)).order_by(score.desc())
        if language:
            q = q.where(documents.c.language == language)
        if source:
            q = q.where(sources.c.name == source)
        if since:
            q = q.where(documents.c.published_at >= to_utc(since))
        if until:
            q = q.where(documents.c.published_at < to_utc(until))
        q = q.limit(limit).offset(offset)
        with self.engine.connect() as c:
            return [(self._document_from(r), float(r["score"])) for r in c.execute(q).mappings()]

    # -- signals -------------------------------------------------------------------------------

    def upsert_signals(self, items: Sequence[Signal], conn: Connection | None = None) -> tuple[int, int]:
        """Store signals by their key. A re-run updates score and evidence but keeps the analyst's
        status. Returns (new, updated)."""
        new = updated = 0
        now = utcnow()
        with self._conn(conn) as c:
            facets = self._evidence_facets(
                c, {e.document_id for sig in items for e in sig.evidence if e.document_id}
            )
            for sig in items:
                key = sig.key or new_id("key_")
                row = {
                    "type": sig.type,
                    "title": sig.title,
                    "summary": sig.summary,
                    "score": float(sig.score),
                    "detector": sig.detector,
                    "detector_version": sig.detector_version,
                    "parameters": sig.parameters,
                    "details": sig.details,
                    "updated_at": now,
                }
                old = c.execute(sa.select(signals.c.id, signals.c.status).where(signals.c.key == key)).first()
                if old is None:
                    sig.id = sig.id or new_id("sig_")
                    c.execute(
                        signals.insert().values(
                            id=sig.id, key=key, status=sig.status.value, created_at=now, **row
                        )
                    )
                    new += 1
                else:
                    sig.id, sig.status = old[0], SignalStatus(old[1])
                    c.execute(signals.update().where(signals.c.id == sig.id).values(**row))
                    c.execute(evidence.delete().where(evidence.c.signal_id == sig.id))
                    updated += 1
                if sig.evidence:
                    c.execute(
                        evidence.insert(),
                        [
                            {
                                "signal_id": sig.id,
                                "document_id": e.document_id,
                                "role": e.role,
                                "span_start": e.span_start,
                                "span_end": e.span_end,
                                "score": e.score,
                                "details": e.details,
                                "language": facets.get(e.document_id or "", (None, None))[0],
                                "source_id": facets.get(e.document_id or "", (None, None))[1],
                            }
                            for e in sig.evidence
                        ],
                    )
        return new, updated

    @staticmethod
    def _evidence_facets(c: Connection, doc_ids: set[str]) -> dict[str, tuple[str | None, str | None]]:
        """(language, source id) of the cited documents, copied onto their evidence rows."""
        out: dict[str, tuple[str | None, str | None]] = {}
        for part in chunks(sorted(doc_ids), 500):
            q = sa.select(documents.c.id, documents.c.language, documents.c.source_id).where(
                documents.c.id.in_(part)
            )
            out.update((r[0], (r[1], r[2])) for r in c.execute(q))
        return out

    @staticmethod
    def _sync_evidence_facets(c: Connection, doc_ids: Sequence[str]) -> None:
        """A document's language or source changed: its evidence rows follow."""
        for part in chunks(list(doc_ids), 500):
            lang = sa.select(documents.c.language).where(documents.c.id == evidence.c.document_id)
            src = sa.select(documents.c.source_id).where(documents.c.id == evidence.c.document_id)
            c.execute(
                evidence.update()
                .where(evidence.c.document_id.in_(part))
                .values(language=lang.scalar_subquery(), source_id=src.scalar_subquery())
            )

    @staticmethod
    def _signal_from(row: RowMapping, ev: list[Evidence] | None = None) -> Signal:
        return Signal(
            id=row["id"],
            key=row["key"],
            type=row["type"],
            title=row["title"],
            summary=row["summary"],
            score=row["score"],
            status=SignalStatus(row["status"]),
            detector=row["detector"],
            detector_version=row["detector_version"],
            parameters=dict(row["parameters"] or {}),
            details={
                **(row["details"] or {}),
                "created_at": _iso(row["created_at"]),
                "updated_at": _iso(row["updated_at"]),
            },
            evidence=ev or [],
        )

    def list_signals(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        min_score: float | None = None,
        limit: int = 50,
        offset: int = 0,
        order: str = "score",
    ) -> list[Signal]:
        q = sa.select(signals)
        if type:
            q = q.where(signals.c.type == type)
        if status:
            q = q.where(signals.c.status == SignalStatus.parse(status).value)
        if min_score is not None:
            q = q.where(signals.c.score >= min_score)
        q = q.order_by(signals.c.score.desc() if order == "score" else signals.c.created_at.desc(), signals.c.id)
        q = q.limit(limit).offset(offset)
        with self.engine.connect() as c:
            return [self._signal_from(r) for r in c.execute(q).mappings()]

    def get_signal(self, signal_id: str) -> Signal:
        with self.engine.connect() as c:
            row = c.execute(sa.select(signals).where(signals.c.id == signal_id)).mappings().first()
            if row is None:
                raise NotFound(f"no signal {signal_id!r} (see `fimiscope signals list`)")
            ev = [
                Evidence(
                    document_id=e["document_id"],
                    role=e["role"],
                    span_start=e["span_start"],
                    span_end=e["span_end"],
                    score=e["score"],
                    details=dict(e["details"] or {}),
                )
                for e in c.execute(
                    sa.select(evidence).where(evidence.c.signal_id == signal_id).order_by(evidence.c.id)
                ).mappings()
            ]
        return self._signal_from(row, ev)

    def set_signal_status(self, signal_ids: Sequence[str], status: str) -> int:
        value = SignalStatus.parse(status).value
        with self.transaction() as c:
            res = c.execute(
                signals.update()
                .where(signals.c.id.in_(list(signal_ids)))
                .values(status=value, updated_at=utcnow())
            )
        return int(res.rowcount or 0)

    # -- watermarks ----------------------------------------------------------------------------

    def watermark(self, stage: str, conn: Connection | None = None) -> int:
        q = sa.select(watermarks.c.position).where(watermarks.c.stage == stage)
        if conn is not None:
            return int(conn.execute(q).scalar() or 0)
        with self.engine.connect() as c:
            return int(c.execute(q).scalar() or 0)

    def set_watermark(self, stage: str, position: int, conn: Connection) -> None:
        now = utcnow()
        res = conn.execute(
            watermarks.update().where(watermarks.c.stage == stage).values(position=position, updated_at=now)
        )
        if not res.rowcount:
            conn.execute(watermarks.insert().values(stage=stage, position=position, updated_at=now))

    def watermarks(self) -> dict[str, int]:
        with self.engine.connect() as c:
            return {r[0]: int(r[1]) for r in c.execute(sa.select(watermarks.c.stage, watermarks.c.position))}

    # -- statistics ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.engine.connect() as c:
            def count(table: sa.Table) -> int:
                return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

            by_lang = {
                (r[0] or "unknown"): int(r[1])
                for r in c.execute(
                    sa.select(documents.c.language, sa.func.count()).group_by(documents.c.language)
                )
            }
            by_type = {
                r[0]: int(r[1])
                for r in c.execute(sa.select(signals.c.type, sa.func.count()).group_by(signals.c.type))
            }
            by_aff = {
                r[0]: int(r[1])
                for r in c.execute(sa.select(sources.c.affiliation, sa.func.count()).group_by(sources.c.affiliation))
            }
            return {
                "database": self.dialect,
                "documents": count(documents),
                "document_versions": count(document_versions),
                "raw_blobs": count(raw_blobs),
                "sources": count(sources),
                "signals": count(signals),
                "documents_by_language": dict(sorted(by_lang.items())),
                "signals_by_type": dict(sorted(by_type.items())),
                "sources_by_affiliation": dict(sorted(by_aff.items())),
                "watermarks": {
                    r[0]: int(r[1]) for r in c.execute(sa.select(watermarks.c.stage, watermarks.c.position))
                },
            }


def _sqlite_bulk_insert(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], *, or_ignore: bool = False
) -> None:
    """executemany on the driver with plain tuples: SQLAlchemy's per-row parameter processing
    was a third of bulk-import time (benchmarks/import_bench.py). Values are converted the way
    the column types would: JSON through orjson, datetimes in SQLAlchemy's SQLite format."""
    import orjson

    cols = list(rows[0])
    fixes: list[tuple[int, Any]] = []
    for i, col in enumerate(cols):
        if isinstance(table.c[col].type, sa.JSON):
            fixes.append((i, lambda v: orjson.dumps(v).decode()))
        elif isinstance(table.c[col].type, sa.DateTime):
            fixes.append((i, lambda v: to_utc(v).replace(tzinfo=None).isoformat(" ", "microseconds")))
    params = []
    for row in rows:
        values = [row[c] for c in cols]
        for i, fix in fixes:
            if values[i] is not None:
                values[i] = fix(values[i])
        params.append(tuple(values))
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    conn.exec_driver_sql(f"{verb} INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", params)


def _iso(value: datetime | None) -> str | None:
    return to_utc(value).isoformat() if value is not None else None


def _search_terms(query: str) -> list[str]:
    import re

    return re.findall(r"\w+", query, flags=re.UNICODE)


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
        aff == Affiliation.UNKNOWN or _TIER_ORDER.index(new.affiliation) < _TIER_ORDER.index(aff)
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


_TIER_ORDER = [
    Affiliation.OFFICIAL_STATE,
    Affiliation.STATE_CONTROLLED,
    Affiliation.STATE_LINKED,
    Affiliation.STATE_ALIGNED,
    Affiliation.INDEPENDENT,
    Affiliation.UNKNOWN,
]
