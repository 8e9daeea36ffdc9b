"""collect: per-source connector state and schedule, collection runs

Revision ID: collect_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "collect_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "collect_state",
        sa.Column("source_id", sa.String(40), sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", Json, nullable=False),
        sa.Column("last_run_at", Time),
        sa.Column("last_success_at", Time),
        sa.Column("last_error_at", Time),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_run_at", Time),
        sa.Column("items_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_table(
        "collect_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(40), sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("finished_at", Time),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("items", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("item_errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("details", Json, nullable=False),
    )
    op.create_index("ix_collect_runs_source_id", "collect_runs", ["source_id"])
    op.create_index("ix_collect_runs_started_at", "collect_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("collect_runs")
    op.drop_table("collect_state")
