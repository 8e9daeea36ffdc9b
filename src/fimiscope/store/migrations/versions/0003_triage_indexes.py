"""triage indexes: signals by status (and type) in score order

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_signals_status_score", "signals", ["status", "score"])
    op.create_index("ix_signals_type_status_score", "signals", ["type", "status", "score"])


def downgrade() -> None:
    op.drop_index("ix_signals_type_status_score", "signals")
    op.drop_index("ix_signals_status_score", "signals")
