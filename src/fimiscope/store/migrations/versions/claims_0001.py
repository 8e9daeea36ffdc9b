"""claims: the database of debunked claims

Revision ID: claims_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "claims_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("language", sa.String(16)),
        sa.Column("published_at", Time),
        sa.Column("verdict", sa.String(200)),
        sa.Column("debunk", sa.Text),
        sa.Column("debunk_url", sa.Text),
        sa.Column("keywords", Json, nullable=False),
        sa.Column("countries", Json, nullable=False),
        sa.Column("outlets", Json, nullable=False),
        sa.Column("links", Json, nullable=False),
        sa.Column("provenance", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_claims_language", "claims", ["language"])
    op.create_index("ix_claims_published_at", "claims", ["published_at"])


def downgrade() -> None:
    op.drop_table("claims")
