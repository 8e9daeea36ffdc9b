"""Tables of stored vectors: what an encoder made of a claim or of a document's sentences, kept
so that a restart loads them instead of encoding again. Created by ``vectors_0001``."""

from __future__ import annotations

import sqlalchemy as sa

from fimiscope.store.tables import Time, metadata

# One row per (kind, model, item): a claim's vector, or all of a document's sentence vectors.
vectors = sa.Table(
    "vectors",
    metadata,
    # pk grows on every insert: it is the row's label in the ANN index on disk, and the index's
    # highest label tells it which rows it has not seen yet.
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # "claim", "sentences"
    sa.Column("model", sa.String(200), nullable=False),  # the encoder's name@version
    sa.Column("item_id", sa.String(64), nullable=False),  # claim id or document id
    sa.Column("digest", sa.String(32), nullable=False),  # of the text encoded: a changed text is encoded again
    sa.Column("size", sa.Integer, nullable=False),  # vectors in data (1 for a claim)
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),  # float32 little-endian, size x dim, L2-normalised
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("kind", "model", "item_id", name="uq_vectors_item"),
    sa.Index("ix_vectors_kind_model_pk", "kind", "model", "pk"),
    sqlite_autoincrement=True,  # never reuse a deleted row's pk: it may still be a label on disk
)
