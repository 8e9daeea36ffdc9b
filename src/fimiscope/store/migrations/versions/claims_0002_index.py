"""claims: the matcher's lexical index, kept across runs

Revision ID: claims_0002_index
Revises: claims_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "claims_0002_index"
down_revision = "claims_0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "claims_index",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("max_pk", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("claims_index")
