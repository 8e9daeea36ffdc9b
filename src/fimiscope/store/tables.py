"""Table definitions (SQLAlchemy Core). Migrations in ``migrations/`` create them; keep both in step.

Every table is shared by SQLite and PostgreSQL. Full-text search is dialect-specific and
lives in the migration (FTS5 table + triggers, or a generated tsvector column).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

# JSON on SQLite, JSONB on PostgreSQL.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False, unique=True),
    sa.Column("platform", sa.String(40), nullable=False, server_default="web"),
    sa.Column("domain", sa.String(300), index=True),
    sa.Column("handle", sa.String(300)),
    sa.Column("display_name", sa.String(500)),
    sa.Column("country", sa.String(8)),
    sa.Column("language", sa.String(16)),
    sa.Column("affiliation", sa.String(32), nullable=False, server_default="unknown"),
    sa.Column("provenance", Json, nullable=False),
    sa.Column("reliability", sa.String(1), nullable=False, server_default="F"),
    sa.Column("lists", Json, nullable=False),
    sa.Column("kind", sa.String(32)),
    sa.Column("location", sa.Text),
    sa.Column("interval_s", sa.Integer),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

documents = sa.Table(
    "documents",
    metadata,
    # pk: stable integer rowid for the FTS index; id: the public, time-sortable id.
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("key", sa.String(2000), nullable=False, unique=True),
    # seq grows on every insert and content change: the watermark stages read.
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("source_id", sa.String(40), sa.ForeignKey("sources.id", ondelete="SET NULL"), index=True),
    sa.Column("platform", sa.String(40), nullable=False, server_default="web"),
    sa.Column("external_id", sa.String(500)),
    sa.Column("url", sa.Text),
    sa.Column("canonical_url", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    # title and text in dictionary form (index/lemmas.py), for the full-text index
    sa.Column("lemmas", sa.Text),
    sa.Column("language", sa.String(16), index=True),
    sa.Column("published_at", Time, index=True),
    sa.Column("collected_at", Time, nullable=False),
    sa.Column("author", sa.String(500)),
    sa.Column("content_hash", sa.String(40), nullable=False),
    sa.Column("raw_hash", sa.String(64)),
    sa.Column("links", Json, nullable=False),
    sa.Column("shared_from", sa.Text),
    sa.Column("metadata", Json, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", Time, nullable=False),
)

document_versions = sa.Table(
    "document_versions",
    metadata,
    sa.Column("document_id", sa.String(40), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(40), nullable=False),
    sa.Column("raw_hash", sa.String(64)),
    sa.Column("recorded_at", Time, nullable=False),
)

raw_blobs = sa.Table(
    "raw_blobs",
    metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # blake2b-256 of the uncompressed bytes
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("codec", sa.String(16), nullable=False),
    sa.Column("content_type", sa.String(200)),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

signals = sa.Table(
    "signals",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("key", sa.String(500), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("score", sa.Float, nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="new", index=True),
    sa.Column("detector", sa.String(64), nullable=False),
    sa.Column("detector_version", sa.String(32), nullable=False),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("details", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False, index=True),
    sa.Column("updated_at", Time, nullable=False),
    # The triage queue: new (or one type's new) signals, strongest first (0003_triage_indexes).
    sa.Index("ix_signals_status_score", "status", "score"),
    sa.Index("ix_signals_type_status_score", "type", "status", "score"),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("signal_id", sa.String(40), sa.ForeignKey("signals.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("document_id", sa.String(40), index=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("span_start", sa.Integer),
    sa.Column("span_end", sa.Integer),
    sa.Column("score", sa.Float),
    sa.Column("details", Json, nullable=False),
    # Copied from the cited document when the evidence is written (and kept in step when the
    # document changes), so "signals citing German documents" is one index range, not a walk
    # over every German document (0002_evidence_facets).
    sa.Column("language", sa.String(16)),
    sa.Column("source_id", sa.String(40)),
    sa.Index("ix_evidence_language_signal", "language", "signal_id"),
    sa.Index("ix_evidence_source_signal", "source_id", "signal_id"),
)

watermarks = sa.Table(
    "watermarks",
    metadata,
    sa.Column("stage", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# A counter table: one row per named sequence, used on SQLite (PostgreSQL uses SEQUENCEs).
counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
