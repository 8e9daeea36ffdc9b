"""share: the TAXII access log (which partner fetched which version of which object)

Revision ID: cases_0002_taxii_access
Revises: cases_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "cases_0002_taxii_access"
down_revision = "cases_0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "taxii_access",
        sa.Column("partner_id", sa.String(40), primary_key=True),
        sa.Column("collection_id", sa.String(100), primary_key=True),
        sa.Column("stix_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(40), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("tlp_rank", sa.Integer, nullable=False),
        sa.Column("first_at", Time, nullable=False),
        sa.Column("last_at", Time, nullable=False),
        sa.Column("fetches", sa.Integer, nullable=False),
    )
    op.create_index("ix_taxii_access_stix_id", "taxii_access", ["stix_id"])


def downgrade() -> None:
    op.drop_index("ix_taxii_access_stix_id", table_name="taxii_access")
    op.drop_table("taxii_access")
