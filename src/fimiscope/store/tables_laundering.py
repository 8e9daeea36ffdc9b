"""Tables of the laundering detector: MinHash units and their LSH buckets, cross-lingual
anchors, clusters, cluster members and chain edges. Created by ``laundering_0001``;
the anchor counts by ``laundering_0002_anchor_counts``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

# One unit per document (para_index -1) and per long-enough paragraph.
laundering_units = sa.Table(
    "laundering_units",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("document_id", sa.String(40), nullable=False, index=True),
    sa.Column("para_index", sa.Integer, nullable=False),
    sa.Column("span_start", sa.Integer, nullable=False),
    sa.Column("span_end", sa.Integer, nullable=False),
    sa.Column("n_shingles", sa.Integer, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),  # uint32 little-endian x num_perm
    sa.Column("shingles", sa.LargeBinary, nullable=False),  # distinct uint64 shingle hashes, for verification
)

# The persisted LSH: one row per (unit, band); the band number is mixed into the key.
laundering_buckets = sa.Table(
    "laundering_buckets",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),
    sa.Column("unit_id", sa.Integer, primary_key=True),
)

laundering_anchors = sa.Table(
    "laundering_anchors",
    metadata,
    sa.Column("anchor", sa.String(210), primary_key=True),
    sa.Column("document_id", sa.String(40), primary_key=True, index=True),
)

# Documents per anchor, kept as anchors are added and removed (``laundering_0002_anchor_counts``):
# the stage needs every batch's anchors' document frequencies, and counting them over the
# postings grew with the store for common anchors (docs/scale.md).
laundering_anchor_counts = sa.Table(
    "laundering_anchor_counts",
    metadata,
    sa.Column("anchor", sa.String(210), primary_key=True),
    sa.Column("documents", sa.Integer, nullable=False),
)

laundering_clusters = sa.Table(
    "laundering_clusters",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("origin_document_id", sa.String(40), nullable=False),
    sa.Column("origin_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("languages", Json, nullable=False),
    sa.Column("first_published_at", Time),
    sa.Column("last_published_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

laundering_members = sa.Table(
    "laundering_members",
    metadata,
    sa.Column("document_id", sa.String(40), primary_key=True),
    sa.Column("cluster_id", sa.String(48), nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),  # origin | copy
    sa.Column("similarity", sa.Float),  # best verified similarity to another member
    sa.Column("method", sa.String(24)),
    sa.Column("joined_at", Time, nullable=False),
)

# Verified matches, directed copier -> copied (later -> earlier publication).
laundering_edges = sa.Table(
    "laundering_edges",
    metadata,
    sa.Column("copier_document_id", sa.String(40), primary_key=True),
    sa.Column("copied_document_id", sa.String(40), primary_key=True, index=True),
    sa.Column("method", sa.String(24), nullable=False),  # near_duplicate | partial | translation
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Column("lag_s", sa.Float),
    sa.Column("attribution", sa.String(16), nullable=False),  # credited | stripped
    sa.Column("details", Json, nullable=False),  # matched paragraphs with spans, anchors, credit found
    sa.Column("created_at", Time, nullable=False),
)
