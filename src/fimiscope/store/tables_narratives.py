"""Tables of the narratives detector: narratives (known and emerging), their examples, the
documents assigned to them with the sentences that carry them, the emerging clusters' vectors,
lineage (merges and splits) and the detector's persisted state. Created by ``narratives_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

narratives = sa.Table(
    "narratives",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # known | candidate
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),  # active | dismissed | merged
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("keywords", Json, nullable=False),
    sa.Column("parent_id", sa.String(48), index=True),  # a sub-narrative's narrative
    sa.Column("debunked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("origin", sa.String(64), nullable=False, server_default="analyst"),  # who defined it
    sa.Column("merged_into", sa.String(48)),
    sa.Column("labels", Json, nullable=False),  # {language: [distinctive terms]} (candidates)
    sa.Column("representatives", Json, nullable=False),  # document ids nearest the centre
    sa.Column("size", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_seen_at", Time),
    sa.Column("last_seen_at", Time),
    sa.Column("origin_document_id", sa.String(40)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_narratives_kind_status", "kind", "status"),
)

narrative_examples = sa.Table(
    "narrative_examples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("narrative_id", sa.String(48), nullable=False, index=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("document_id", sa.String(40)),
    sa.Column("language", sa.String(16)),
    sa.Column("created_at", Time, nullable=False),
)

narrative_assignments = sa.Table(
    "narrative_assignments",
    metadata,
    sa.Column("narrative_id", sa.String(48), primary_key=True),
    sa.Column("document_id", sa.String(40), primary_key=True, index=True),
    sa.Column("method", sa.String(16), nullable=False),  # known | emerging
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("sentences", Json, nullable=False),  # [[start, end, score], ...]
    sa.Column("components", Json, nullable=False),
    # copied from the document so volumes by day and language are one index range
    sa.Column("published_at", Time),
    sa.Column("language", sa.String(16)),
    sa.Column("source_id", sa.String(40)),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_narrative_assignments_narrative_published", "narrative_id", "published_at"),
)

# Emerging clustering: each clustered document's vector (hashed tf-idf or encoder), so a
# restarted stage meets the same nearest neighbours.
narrative_vectors = sa.Table(
    "narrative_vectors",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("narrative_id", sa.String(48), nullable=False, index=True),
    sa.Column("space", sa.String(80), nullable=False),  # lexical | encoder:<name>
    sa.Column("data", sa.LargeBinary, nullable=False),
)

narrative_lineage = sa.Table(
    "narrative_lineage",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # merged | split | promoted | renamed | dismissed
    sa.Column("parent_id", sa.String(48), nullable=False, index=True),
    sa.Column("child_id", sa.String(48), nullable=False, index=True),
    sa.Column("documents", sa.Integer, nullable=False, server_default="0"),
    sa.Column("similarity", sa.Float),
    sa.Column("by", sa.String(200), nullable=False, server_default="detector"),
    sa.Column("created_at", Time, nullable=False),
)

narrative_state = sa.Table(
    "narrative_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
