"""laundering: how many documents hold each anchor, kept as anchors are added and removed

Revision ID: laundering_0002_anchor_counts
Revises: laundering_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "laundering_0002_anchor_counts"
down_revision = "laundering_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "laundering_anchor_counts",
        sa.Column("anchor", sa.String(210), primary_key=True),
        sa.Column("documents", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO laundering_anchor_counts (anchor, documents) "
        "SELECT anchor, COUNT(*) FROM laundering_anchors GROUP BY anchor"
    )


def downgrade() -> None:
    op.drop_table("laundering_anchor_counts")
