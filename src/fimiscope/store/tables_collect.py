"""Tables of the collection runner: each source's persisted connector state and schedule,
and one row per collection run (what `fimiscope sources status` reports)."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

collect_state = sa.Table(
    "collect_state",
    metadata,
    sa.Column("source_id", sa.String(40), sa.ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", Json, nullable=False),  # the connector's own: seen URLs, HTTP validators...
    sa.Column("last_run_at", Time),
    sa.Column("last_success_at", Time),
    sa.Column("last_error_at", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),  # consecutive, for back-off
    sa.Column("next_run_at", Time),
    sa.Column("items_total", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
)

collect_runs = sa.Table(
    "collect_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_id", sa.String(40), sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("started_at", Time, nullable=False, index=True),
    sa.Column("finished_at", Time),
    sa.Column("status", sa.String(16), nullable=False),  # running, ok, partial, error, stopped
    sa.Column("items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("new", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("item_errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("details", Json, nullable=False),  # first item errors, connector log lines
)
