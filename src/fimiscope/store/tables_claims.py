"""Tables of the claims area: debunked claims that documents are matched against."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Json, Time, metadata

claims = sa.Table(
    "claims",
    metadata,
    # pk: grows on every insert, so (count, max pk) tells a matcher its index is stale.
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    # key: the normalised text's hash, so the same claim from two feeds is one row.
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("language", sa.String(16), index=True),
    sa.Column("published_at", Time, index=True),
    sa.Column("verdict", sa.String(200)),
    sa.Column("debunk", sa.Text),
    sa.Column("debunk_url", sa.Text),
    sa.Column("keywords", Json, nullable=False),
    sa.Column("countries", Json, nullable=False),
    sa.Column("outlets", Json, nullable=False),  # [{"name": ..., "url": ...}]
    sa.Column("links", Json, nullable=False),
    sa.Column("provenance", Json, nullable=False),  # [{"by", "where", "when", ...}], one per import
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# The claim matcher's lexical index (BM25 postings as bytes), one row per analyzer setting:
# loaded at a start instead of re-analysing every claim; (max_pk, count) say which claims it
# holds, so claims added since are added to it rather than the whole index rebuilt.
claims_index = sa.Table(
    "claims_index",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("max_pk", sa.Integer, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("codec", sa.String(16), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
