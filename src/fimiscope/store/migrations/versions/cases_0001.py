"""cases and share: incidents (+signals, audit), DISARM releases, STIX objects, TAXII collections,
partners, status, pull state

Revision ID: cases_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "cases_0001"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("stix_id", sa.String(100), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False, server_default="open"),
        sa.Column("tlp", sa.String(16), nullable=False, server_default="amber"),
        sa.Column("first_seen", Time),
        sa.Column("last_seen", Time),
        sa.Column("narratives", Json, nullable=False),
        sa.Column("actors", Json, nullable=False),
        sa.Column("channels", Json, nullable=False),
        sa.Column("techniques", Json, nullable=False),
        sa.Column("attribution", Json, nullable=False),
        sa.Column("impact", sa.Text, nullable=False, server_default=""),
        sa.Column("origin", sa.String(200), nullable=False, server_default="local"),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_index("ix_incidents_updated_at", "incidents", ["updated_at"])
    op.create_table(
        "incident_signals",
        sa.Column("incident_id", sa.String(40), sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("signal_id", sa.String(40), sa.ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("linked_at", Time, nullable=False),
    )
    op.create_table(
        "incident_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.String(40), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("field", sa.String(64)),
        sa.Column("old", Json),
        sa.Column("new", Json),
    )
    op.create_index("ix_incident_audit_incident_id", "incident_audit", ["incident_id"])
    op.create_table(
        "disarm_releases",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", Time, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "disarm_entries",
        sa.Column(
            "version",
            sa.String(64),
            sa.ForeignKey("disarm_releases.version", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("external_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("tactic", sa.String(32)),
        sa.Column("parent", sa.String(32)),
        sa.Column("url", sa.Text),
    )
    op.create_table(
        "stix_objects",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("collection_id", sa.String(100), nullable=False),
        sa.Column("stix_id", sa.String(100), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("date_added", Time, nullable=False),
        sa.Column("tlp_rank", sa.Integer, nullable=False),
        sa.Column("created_by_ref", sa.String(100)),
        sa.Column("spec_version", sa.String(8), nullable=False, server_default="2.1"),
        sa.Column("media_type", sa.String(64), nullable=False, server_default="application/stix+json;version=2.1"),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("target_collection", sa.String(100)),
        sa.Column("data", Json, nullable=False),
        sa.UniqueConstraint("collection_id", "stix_id", "version", name="uq_stix_objects_version"),
    )
    op.create_index("ix_stix_objects_stix_id", "stix_objects", ["stix_id"])
    op.create_index("ix_stix_objects_collection_added", "stix_objects", ["collection_id", "date_added", "pk"])
    op.create_table(
        "taxii_collections",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("identity_id", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("read_collections", Json, nullable=False),
        sa.Column("write_collections", Json, nullable=False),
        sa.Column("max_tlp", sa.String(16), nullable=False),
        sa.Column("remote_url", sa.Text),
        sa.Column("remote_token", sa.Text),
        sa.Column("remote_collections", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time),
    )
    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", Time, nullable=False),
    )
    op.create_index("ix_taxii_status_partner_id", "taxii_status", ["partner_id"])
    op.create_table(
        "pull_state",
        sa.Column("partner_id", sa.String(40), primary_key=True),
        sa.Column("collection_id", sa.String(100), primary_key=True),
        sa.Column("added_after", sa.String(40), nullable=False),
        sa.Column("pulled_at", Time, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "pull_state",
        "taxii_status",
        "partners",
        "taxii_collections",
        "stix_objects",
        "disarm_entries",
        "disarm_releases",
        "incident_audit",
        "incident_signals",
        "incidents",
    ):
        op.drop_table(name)
