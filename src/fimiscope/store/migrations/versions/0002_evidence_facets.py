"""evidence facets: the cited document's language and source on each evidence row

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
        batch.add_column(sa.Column("source_id", sa.String(40)))
    op.execute(
        "UPDATE evidence SET "
        "language = (SELECT d.language FROM documents d WHERE d.id = evidence.document_id), "
        "source_id = (SELECT d.source_id FROM documents d WHERE d.id = evidence.document_id) "
        "WHERE document_id IS NOT NULL"
    )
    op.create_index("ix_evidence_language_signal", "evidence", ["language", "signal_id"])
    op.create_index("ix_evidence_source_signal", "evidence", ["source_id", "signal_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_source_signal", "evidence")
    op.drop_index("ix_evidence_language_signal", "evidence")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("source_id")
        batch.drop_column("language")
