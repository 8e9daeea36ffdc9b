"""Tables of the cases and share rooms: incidents and their audit log, the DISARM taxonomy,
shared STIX objects (TAXII collections, quarantine, raw imports), partners.

Created by migration ``cases_0001``; keep both in step.
"""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    # The STIX id this incident is exported under (stable across exports and re-imports).
    sa.Column("stix_id", sa.String(100), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(32), nullable=False, server_default="open", index=True),
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
    sa.Column("updated_at", Time, nullable=False, index=True),
)

incident_signals = sa.Table(
    "incident_signals",
    metadata,
    sa.Column("incident_id", sa.String(40), sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("signal_id", sa.String(40), sa.ForeignKey("signals.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("linked_at", Time, nullable=False),
)

incident_audit = sa.Table(
    "incident_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "incident_id", sa.String(40), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("at", Time, nullable=False),
    sa.Column("who", sa.String(200), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("field", sa.String(64)),
    sa.Column("old", Json),
    sa.Column("new", Json),
)

# One row per imported DISARM release; the active one is what `disarm list/show` read.
disarm_releases = sa.Table(
    "disarm_releases",
    metadata,
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("imported_at", Time, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

disarm_entries = sa.Table(
    "disarm_entries",
    metadata,
    sa.Column("version", sa.String(64), sa.ForeignKey("disarm_releases.version", ondelete="CASCADE"), primary_key=True),
    sa.Column("external_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("tactic", sa.String(32)),
    sa.Column("parent", sa.String(32)),
    sa.Column("url", sa.Text),
)

# Every STIX object we hold for sharing, one row per (collection, id, version).
# collection "raw" keeps imported objects we do not model; "quarantine" holds partner writes.
stix_objects = sa.Table(
    "stix_objects",
    metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("collection_id", sa.String(100), nullable=False),
    sa.Column("stix_id", sa.String(100), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    # 'modified' (or 'created') normalised to a fixed-width UTC string so it sorts as text.
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

taxii_collections = sa.Table(
    "taxii_collections",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Time, nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    # The STIX identity of the partner organisation: what it writes must be created by it.
    sa.Column("identity_id", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), unique=True),
    sa.Column("read_collections", Json, nullable=False),
    sa.Column("write_collections", Json, nullable=False),
    sa.Column("max_tlp", sa.String(16), nullable=False),
    # Their server, for `partners pull` (token for it is kept in remote_token).
    sa.Column("remote_url", sa.Text),
    sa.Column("remote_token", sa.Text),
    sa.Column("remote_collections", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
)

taxii_status = sa.Table(
    "taxii_status",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("partner_id", sa.String(40), nullable=False, index=True),
    sa.Column("data", Json, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

# Where each pull left off, per partner and remote collection.
pull_state = sa.Table(
    "pull_state",
    metadata,
    sa.Column("partner_id", sa.String(40), primary_key=True),
    sa.Column("collection_id", sa.String(100), primary_key=True),
    sa.Column("added_after", sa.String(40), nullable=False),
    sa.Column("pulled_at", Time, nullable=False),
)

# Who fetched what over TAXII (created by migration ``cases_0002_taxii_access``): one row per
# partner and object version served with its content, since what was pulled cannot be unshared.
taxii_access = sa.Table(
    "taxii_access",
    metadata,
    sa.Column("partner_id", sa.String(40), primary_key=True),
    sa.Column("collection_id", sa.String(100), primary_key=True),
    sa.Column("stix_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("tlp_rank", sa.Integer, nullable=False),
    sa.Column("first_at", Time, nullable=False),
    sa.Column("last_at", Time, nullable=False),
    sa.Column("fetches", sa.Integer, nullable=False),
    sa.Index("ix_taxii_access_stix_id", "stix_id"),
)
