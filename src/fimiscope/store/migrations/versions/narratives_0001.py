"""narratives: known and emerging narratives, examples, assignments, vectors, lineage, state

Revision ID: narratives_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "narratives_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "narratives",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("keywords", Json, nullable=False),
        sa.Column("parent_id", sa.String(48)),
        sa.Column("debunked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("origin", sa.String(64), nullable=False, server_default="analyst"),
        sa.Column("merged_into", sa.String(48)),
        sa.Column("labels", Json, nullable=False),
        sa.Column("representatives", Json, nullable=False),
        sa.Column("size", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_seen_at", Time),
        sa.Column("last_seen_at", Time),
        sa.Column("origin_document_id", sa.String(40)),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_narratives_parent_id", "narratives", ["parent_id"])
    op.create_index("ix_narratives_kind_status", "narratives", ["kind", "status"])
    op.create_table(
        "narrative_examples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("narrative_id", sa.String(48), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("document_id", sa.String(40)),
        sa.Column("language", sa.String(16)),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_narrative_examples_narrative_id", "narrative_examples", ["narrative_id"])
    op.create_table(
        "narrative_assignments",
        sa.Column("narrative_id", sa.String(48), primary_key=True),
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("sentences", Json, nullable=False),
        sa.Column("components", Json, nullable=False),
        sa.Column("published_at", Time),
        sa.Column("language", sa.String(16)),
        sa.Column("source_id", sa.String(40)),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_narrative_assignments_document_id", "narrative_assignments", ["document_id"])
    op.create_index(
        "ix_narrative_assignments_narrative_published", "narrative_assignments", ["narrative_id", "published_at"]
    )
    op.create_table(
        "narrative_vectors",
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("narrative_id", sa.String(48), nullable=False),
        sa.Column("space", sa.String(80), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_narrative_vectors_seq", "narrative_vectors", ["seq"])
    op.create_index("ix_narrative_vectors_narrative_id", "narrative_vectors", ["narrative_id"])
    op.create_table(
        "narrative_lineage",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(48), nullable=False),
        sa.Column("child_id", sa.String(48), nullable=False),
        sa.Column("documents", sa.Integer, nullable=False, server_default="0"),
        sa.Column("similarity", sa.Float),
        sa.Column("by", sa.String(200), nullable=False, server_default="detector"),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_narrative_lineage_parent_id", "narrative_lineage", ["parent_id"])
    op.create_index("ix_narrative_lineage_child_id", "narrative_lineage", ["child_id"])
    op.create_table(
        "narrative_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "narrative_state",
        "narrative_lineage",
        "narrative_vectors",
        "narrative_assignments",
        "narrative_examples",
        "narratives",
    ):
        op.drop_table(name)
