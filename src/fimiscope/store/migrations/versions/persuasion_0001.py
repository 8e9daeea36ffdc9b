"""persuasion: techniques per paragraph and per document, (document, technique) index

Revision ID: persuasion_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "persuasion_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "persuasion_paragraphs",
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("para_index", sa.Integer, primary_key=True),
        sa.Column("span_start", sa.Integer, nullable=False),
        sa.Column("span_end", sa.Integer, nullable=False),
        sa.Column("techniques", Json, nullable=False),
        sa.Column("scores", Json, nullable=False),
        sa.Column("spans", Json, nullable=False),
    )
    op.create_table(
        "persuasion_documents",
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("source_id", sa.String(40)),
        sa.Column("language", sa.String(16)),
        sa.Column("published_at", Time),
        sa.Column("n_paragraphs", sa.Integer, nullable=False),
        sa.Column("n_flagged", sa.Integer, nullable=False),
        sa.Column("counts", Json, nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_persuasion_documents_source_id", "persuasion_documents", ["source_id"])
    op.create_table(
        "persuasion_doc_techniques",
        sa.Column("document_id", sa.String(40), primary_key=True),
        sa.Column("technique", sa.String(64), primary_key=True),
        sa.Column("paragraphs", sa.Integer, nullable=False),
        sa.Column("source_id", sa.String(40)),
        sa.Column("published_at", Time),
    )
    op.create_index("ix_persuasion_doc_techniques_technique", "persuasion_doc_techniques", ["technique"])
    op.create_index(
        "ix_persuasion_doc_techniques_source_published", "persuasion_doc_techniques", ["source_id", "published_at"]
    )


def downgrade() -> None:
    op.drop_table("persuasion_doc_techniques")
    op.drop_table("persuasion_documents")
    op.drop_table("persuasion_paragraphs")
