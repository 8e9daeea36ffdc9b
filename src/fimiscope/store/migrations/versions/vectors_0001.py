"""vectors: stored encoder vectors of claims and document sentences, by model

Revision ID: vectors_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "vectors_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A plain float32 array (BLOB / bytea) on both backends: nearest-neighbour search runs in
    # the process (index/ann.py), so the database only keeps the vectors.
    op.create_table(
        "vectors",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint("kind", "model", "item_id", name="uq_vectors_item"),
        sqlite_autoincrement=True,  # a pk is an ANN label: SQLite must never hand a deleted one out again
    )
    op.create_index("ix_vectors_kind_model_pk", "vectors", ["kind", "model", "pk"])


def downgrade() -> None:
    op.drop_table("vectors")
