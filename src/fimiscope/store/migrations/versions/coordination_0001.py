"""coordination: groups, members, edges, member actions on shared items, runs

Revision ID: coordination_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "coordination_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coordination_groups",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("density", sa.Float, nullable=False),
        sa.Column("kinds", Json, nullable=False),
        sa.Column("platforms", Json, nullable=False),
        sa.Column("languages", Json, nullable=False),
        sa.Column("affiliations", Json, nullable=False),
        sa.Column("fastest_s", sa.Float),
        sa.Column("median_s", sa.Float),
        sa.Column("first_at", Time),
        sa.Column("last_at", Time),
        sa.Column("signal_id", sa.String(40)),
        sa.Column("details", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_coordination_groups_size", "coordination_groups", ["size"])
    op.create_table(
        "coordination_members",
        sa.Column("group_id", sa.String(48), primary_key=True),
        sa.Column("account", sa.String(300), primary_key=True),
        sa.Column("source_id", sa.String(40)),
        sa.Column("platform", sa.String(40)),
        sa.Column("affiliation", sa.String(32)),
        sa.Column("first_action_at", Time),
        sa.Column("actions", sa.Integer, nullable=False),
        sa.Column("hijacked", sa.Boolean, nullable=False),
        sa.Column("joined_at", Time, nullable=False),
    )
    op.create_index("ix_coordination_members_account", "coordination_members", ["account"])
    op.create_table(
        "coordination_edges",
        sa.Column("group_id", sa.String(48), primary_key=True),
        sa.Column("account_a", sa.String(300), primary_key=True),
        sa.Column("account_b", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("episodes", sa.Integer, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("expected", sa.Float, nullable=False),
        sa.Column("p_value", sa.Float, nullable=False),
        sa.Column("fastest_s", sa.Float, nullable=False),
        sa.Column("median_s", sa.Float, nullable=False),
    )
    op.create_table(
        "coordination_actions",
        sa.Column("group_id", sa.String(48), primary_key=True),
        sa.Column("item_index", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("document_id", sa.String(40)),
        sa.Column("at", Time),
        sa.Column("delay_s", sa.Float, nullable=False),
    )
    op.create_table(
        "coordination_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", Time, nullable=False),
        sa.Column("posts", sa.Integer, nullable=False),
        sa.Column("groups", sa.Integer, nullable=False),
        sa.Column("windows", Json, nullable=False),
        sa.Column("parameters", Json, nullable=False),
        sa.Column("counts", Json, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "coordination_runs",
        "coordination_actions",
        "coordination_edges",
        "coordination_members",
        "coordination_groups",
    ):
        op.drop_table(table)
