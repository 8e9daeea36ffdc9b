"""The pipeline's batch queue: ranges of document ``seq`` a stage still has to process, taken
by parallel workers with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL). Created by ``pipeline_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Time, metadata

pipeline_batches = sa.Table(
    "pipeline_batches",
    metadata,
    sa.Column("stage", sa.String(64), primary_key=True),
    sa.Column("lo", sa.BigInteger, primary_key=True),  # first seq of the batch
    sa.Column("hi", sa.BigInteger, nullable=False),  # last seq of the batch
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("state", sa.String(8), nullable=False),  # pending | done
    sa.Column("worker", sa.String(64)),  # who finished it (host:pid)
    sa.Column("signals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done_at", Time),
)
