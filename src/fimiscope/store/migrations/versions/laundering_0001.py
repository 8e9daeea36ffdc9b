"""laundering: MinHash units + LSH buckets, anchors, clusters, members, chain edges

Revision ID: laundering_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "laundering_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "laundering_units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(40), nullable=False),
        sa.Column("para_index", sa.Integer, nullable=False),
        sa.Column("span_start", sa.Integer, nullable=False),
        sa.Column("span_end", sa.Integer, nullable=False),
        sa.Column("n_shingles", sa.Integer, nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("shingles", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_laundering_units_document_id", "laundering_units", ["document_id"])
    op.create_table(
        "laundering_buckets",
        sa.Column("band_key", sa.BigInteger, primary_key=True),
        sa.Column("unit_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "laundering_anchors",
        sa.Column("anchor", sa.String(210), primary_key=True),
        sa.Column("document_id", sa.String(40), primary_key=True),
    )
    op.create_index("ix_laundering_anchors_document_id", "laundering_anchors", ["document_id"])
    op.create_table(
        "laundering_clusters",
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
    op.create_table(
        "laundering_members",
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("cluster_id", sa.String(48), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("similarity", sa.Float),
        sa.Column("method", sa.String(24)),
        sa.Column("joined_at", Time, nullable=False),
    )
    op.create_index("ix_laundering_members_cluster_id", "laundering_members", ["cluster_id"])
    op.create_table(
        "laundering_edges",
        sa.Column("copier_document_id", sa.String(40), primary_key=True),
        sa.Column("copied_document_id", sa.String(40), primary_key=True),
        sa.Column("method", sa.String(24), nullable=False),
        sa.Column("similarity", sa.Float, nullable=False),
        sa.Column("lag_s", sa.Float),
        sa.Column("attribution", sa.String(16), nullable=False),
        sa.Column("details", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_laundering_edges_copied_document_id", "laundering_edges", ["copied_document_id"])


def downgrade() -> None:
    for name in (
        "laundering_edges",
        "laundering_members",
        "laundering_clusters",
        "laundering_anchors",
        "laundering_buckets",
        "laundering_units",
    ):
        op.drop_table(name)
