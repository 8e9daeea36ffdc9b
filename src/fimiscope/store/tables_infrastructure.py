"""Tables of the infrastructure room: indicator observations per site (from pages, look-ups and
imported files), each look-up as it happened, per-site page profiles (CSS classes, outbound
links), scored site links and site groups. Created by ``infrastructure_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

# One row per (site, kind, value, where, origin): the first and last time and page it was seen
# on, and how many sightings since. ``key`` is a hash of those five, so re-reading a page or
# re-importing a file updates the row instead of adding one.
infra_observations = sa.Table(
    "infra_observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("site", sa.String(300), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("value", sa.String(600), nullable=False),
    sa.Column("where", sa.String(300), nullable=False, server_default=""),
    sa.Column("origin", sa.String(300), nullable=False),  # page | dns | tls | favicon | import:<file>
    sa.Column("first_document_id", sa.String(40)),
    sa.Column("last_document_id", sa.String(40)),
    sa.Column("url", sa.Text),
    sa.Column("snippet", sa.Text, nullable=False, server_default=""),
    sa.Column("first_seen", Time, nullable=False),
    sa.Column("last_seen", Time, nullable=False),
    sa.Column("times", sa.Integer, nullable=False, server_default="1"),
    sa.Column("details", Json, nullable=False),
    sa.Column("updated_at", Time, nullable=False, index=True),
    sa.Index("ix_infra_observations_kind_value", "kind", "value"),
)

# Every network look-up, as it happened: the history of a site's DNS, certificate and favicon.
infra_lookups = sa.Table(
    "infra_lookups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(300), nullable=False, index=True),
    sa.Column("lookup", sa.String(16), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("found", Json, nullable=False),
    sa.Column("raw", Json, nullable=False),
)

# What pages say about a site as a whole: distinctive CSS classes and outbound link profile.
infra_sites = sa.Table(
    "infra_sites",
    metadata,
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

# Scored pairs from the last detector run (a is the smaller name).
infra_links = sa.Table(
    "infra_links",
    metadata,
    sa.Column("site_a", sa.String(300), primary_key=True),
    sa.Column("site_b", sa.String(300), primary_key=True, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("shared", Json, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

infra_groups = sa.Table(
    "infra_groups",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("names", Json, nullable=False),  # known operations it overlaps
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),  # false: dissolved, kept
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

infra_group_members = sa.Table(
    "infra_group_members",
    metadata,
    sa.Column("group_id", sa.String(48), primary_key=True),
    sa.Column("site", sa.String(300), primary_key=True, index=True),
    sa.Column("joined_at", Time, nullable=False),
)
