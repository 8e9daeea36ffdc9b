"""vectors: on a PostgreSQL server with pgvector, each single vector also in a ``vector`` column

The stored vectors stay a plain float32 array (``data``) on both backends: that is what the
detectors read, and a document's sentence vectors are a matrix per row, which pgvector's type
cannot hold. Where the server offers the ``vector`` extension (and the migrating role may create
it), the table gains ``embedding``, pgvector's ``vector``, filled for every claim's row, so that
SQL can rank stored claims by cosine (``ORDER BY embedding <=> ...``) and a team can put
pgvector's own index on one model's rows. A server without it keeps the array only.

Revision ID: vectors_0002
Revises: vectors_0001
"""

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "vectors_0002"
down_revision = "vectors_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from fimiscope.store.vectors import vector_literal

    if bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").first() is None:
        return
    try:
        with bind.begin_nested():  # a role that may not create extensions: the array alone, as before
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    except sa.exc.DBAPIError:
        return
    schema = bind.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'"
    ).scalar_one()
    op.execute(f'ALTER TABLE vectors ADD COLUMN IF NOT EXISTS embedding "{schema}".vector')
    fill = sa.text(f'UPDATE vectors SET embedding = CAST(:e AS "{schema}".vector) WHERE pk = :pk')
    after = 0
    while True:  # in pk order, a few thousand rows at a time: 100,000 claims are 200 MB of vectors
        rows = bind.execute(
            sa.text("SELECT pk, data FROM vectors WHERE kind = 'claim' AND size = 1 AND pk > :after "
                    "ORDER BY pk LIMIT 2000"),
            {"after": after},
        ).all()
        if not rows:
            break
        rows_e = [{"pk": pk, "e": vector_literal(np.frombuffer(bytes(data), dtype="<f4"))} for pk, data in rows]
        bind.execute(fill, rows_e)
        after = rows[-1][0]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE vectors DROP COLUMN IF EXISTS embedding")
