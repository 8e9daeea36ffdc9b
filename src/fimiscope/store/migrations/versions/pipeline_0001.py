"""pipeline: the batch queue parallel workers take leases on

Revision ID: pipeline_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "pipeline_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pipeline_batches",
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("lo", sa.BigInteger, primary_key=True),
        sa.Column("hi", sa.BigInteger, nullable=False),
        sa.Column("documents", sa.Integer, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("worker", sa.String(64)),
        sa.Column("signals", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done_at", Time),
    )


def downgrade() -> None:
    op.drop_table("pipeline_batches")
