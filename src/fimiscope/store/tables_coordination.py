"""Tables of the coordination detector: groups of accounts that act in concert, their members,
the pair edges that tie them, the shared items with each member's action, and the runs.
Created by ``coordination_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

coordination_groups = sa.Table(
    "coordination_groups",
    metadata,
    sa.Column("id", sa.String(48), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="active"),  # active | dissolved
    sa.Column("size", sa.Integer, nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("density", sa.Float, nullable=False),
    sa.Column("kinds", Json, nullable=False),  # {kind: co-actions}
    sa.Column("platforms", Json, nullable=False),
    sa.Column("languages", Json, nullable=False),
    sa.Column("affiliations", Json, nullable=False),  # {tier: members}
    sa.Column("fastest_s", sa.Float),
    sa.Column("median_s", sa.Float),
    sa.Column("first_at", Time),
    sa.Column("last_at", Time),
    sa.Column("signal_id", sa.String(40)),
    sa.Column("details", Json, nullable=False),  # windows, parameters, hijacked-looking members
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

coordination_members = sa.Table(
    "coordination_members",
    metadata,
    sa.Column("group_id", sa.String(48), primary_key=True),
    sa.Column("account", sa.String(300), primary_key=True, index=True),  # the source's name as stored
    sa.Column("source_id", sa.String(40)),
    sa.Column("platform", sa.String(40)),
    sa.Column("affiliation", sa.String(32)),
    sa.Column("first_action_at", Time),
    sa.Column("actions", sa.Integer, nullable=False),
    sa.Column("hijacked", sa.Boolean, nullable=False),
    sa.Column("joined_at", Time, nullable=False),  # when the group first had this member
)

coordination_edges = sa.Table(
    "coordination_edges",
    metadata,
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

# One row per member action on an item two or more members co-acted on.
coordination_actions = sa.Table(
    "coordination_actions",
    metadata,
    sa.Column("group_id", sa.String(48), primary_key=True),
    sa.Column("item_index", sa.Integer, primary_key=True),
    sa.Column("account", sa.String(300), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("document_id", sa.String(40)),
    sa.Column("at", Time),
    sa.Column("delay_s", sa.Float, nullable=False),
)

coordination_runs = sa.Table(
    "coordination_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("posts", sa.Integer, nullable=False),
    sa.Column("groups", sa.Integer, nullable=False),
    sa.Column("windows", Json, nullable=False),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("counts", Json, nullable=False),  # per kind: actions, pairs, repeated, kept
)
