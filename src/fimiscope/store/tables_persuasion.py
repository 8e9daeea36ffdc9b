"""Tables of the persuasion detector: techniques per paragraph, per document, and a
(document, technique) index for filters and profiles. Created by ``persuasion_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

# One row per paragraph with at least one technique over its decision threshold.
persuasion_paragraphs = sa.Table(
    "persuasion_paragraphs",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("para_index", sa.Integer, primary_key=True),
    sa.Column("span_start", sa.Integer, nullable=False),
    sa.Column("span_end", sa.Integer, nullable=False),
    sa.Column("techniques", Json, nullable=False),  # [technique, ...] strongest first
    sa.Column("scores", Json, nullable=False),  # {technique: probability} for those >= 0.05
    sa.Column("spans", Json, nullable=False),  # [{start, end, technique, source}] in document characters
)

# One row per classified document (also those with no technique: the denominator of rates).
persuasion_documents = sa.Table(
    "persuasion_documents",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("source_id", sa.String(40), index=True),
    sa.Column("language", sa.String(16)),
    sa.Column("published_at", Time),
    sa.Column("n_paragraphs", sa.Integer, nullable=False),
    sa.Column("n_flagged", sa.Integer, nullable=False),  # paragraphs with at least one technique
    sa.Column("counts", Json, nullable=False),  # {technique: paragraphs}
    sa.Column("model_version", sa.String(32), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

# (document, technique) -> paragraphs: the technique filter of search and triage, and profiles.
persuasion_doc_techniques = sa.Table(
    "persuasion_doc_techniques",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("technique", sa.String(64), primary_key=True, index=True),
    sa.Column("paragraphs", sa.Integer, nullable=False),
    sa.Column("source_id", sa.String(40)),
    sa.Column("published_at", Time),
    sa.Index("ix_persuasion_doc_techniques_source_published", "source_id", "published_at"),
)
