"""infrastructure: indicator observations, look-ups, site profiles, site links and groups

Revision ID: infrastructure_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "infrastructure_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "infra_observations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("site", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("value", sa.String(600), nullable=False),
        sa.Column("where", sa.String(300), nullable=False, server_default=""),
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("first_document_id", sa.String(40)),
        sa.Column("last_document_id", sa.String(40)),
        sa.Column("url", sa.Text),
        sa.Column("snippet", sa.Text, nullable=False, server_default=""),
        sa.Column("first_seen", Time, nullable=False),
        sa.Column("last_seen", Time, nullable=False),
        sa.Column("times", sa.Integer, nullable=False, server_default="1"),
        sa.Column("details", Json, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_infra_observations_site", "infra_observations", ["site"])
    op.create_index("ix_infra_observations_updated_at", "infra_observations", ["updated_at"])
    op.create_index("ix_infra_observations_kind_value", "infra_observations", ["kind", "value"])
    op.create_table(
        "infra_lookups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("site", sa.String(300), nullable=False),
        sa.Column("lookup", sa.String(16), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("found", Json, nullable=False),
        sa.Column("raw", Json, nullable=False),
    )
    op.create_index("ix_infra_lookups_site", "infra_lookups", ["site"])
    op.create_table(
        "infra_sites",
        sa.Column("site", sa.String(300), primary_key=True),
        sa.Column("classes", Json, nullable=False),
        sa.Column("outbound", Json, nullable=False),
        sa.Column("favicon_url", sa.Text),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("notes", Json, nullable=False),
        sa.Column("first_seen", Time, nullable=False),
        sa.Column("last_seen", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "infra_links",
        sa.Column("site_a", sa.String(300), primary_key=True),
        sa.Column("site_b", sa.String(300), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("shared", Json, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_infra_links_site_b", "infra_links", ["site_b"])
    op.create_table(
        "infra_groups",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("names", Json, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "infra_group_members",
        sa.Column("group_id", sa.String(48), primary_key=True),
        sa.Column("site", sa.String(300), primary_key=True),
        sa.Column("joined_at", Time, nullable=False),
    )
    op.create_index("ix_infra_group_members_site", "infra_group_members", ["site"])


def downgrade() -> None:
    for table in ("infra_group_members", "infra_groups", "infra_links", "infra_sites", "infra_lookups",
                  "infra_observations"):
        op.drop_table(table)
