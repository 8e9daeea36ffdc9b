"""PostgreSQL: the lemma vector filled by the store instead of a generated column

``documents.lemma_vector`` was ``GENERATED ALWAYS AS (to_tsvector('simple', lemmas))``: a
third of the server's work per imported document. It becomes a plain column (the stored
values stay) that bulk import fills with a vector built by the client (``store/tsvector.py``),
which the server only parses. Every other writer is covered by two triggers that compute it
as before: on an insert that gives no vector, and on an update of ``lemmas`` that gives none.
SQLite keeps its FTS5 index: nothing changes there.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("ALTER TABLE documents ALTER COLUMN lemma_vector DROP EXPRESSION")
    op.execute(
        "CREATE FUNCTION documents_lemma_vector() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.lemma_vector := to_tsvector('simple', coalesce(NEW.lemmas, '')); RETURN NEW; END $$"
    )
    # WHEN clauses are checked without calling the function: a row that brings its vector
    # costs no PL/pgSQL call.
    op.execute(
        "CREATE TRIGGER documents_lemma_vector_insert BEFORE INSERT ON documents FOR EACH ROW "
        "WHEN (NEW.lemma_vector IS NULL) EXECUTE FUNCTION documents_lemma_vector()"
    )
    op.execute(
        "CREATE TRIGGER documents_lemma_vector_update BEFORE UPDATE OF lemmas ON documents FOR EACH ROW "
        "WHEN (NEW.lemmas IS DISTINCT FROM OLD.lemmas AND NEW.lemma_vector IS NOT DISTINCT FROM OLD.lemma_vector) "
        "EXECUTE FUNCTION documents_lemma_vector()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS documents_lemma_vector_update ON documents")
    op.execute("DROP TRIGGER IF EXISTS documents_lemma_vector_insert ON documents")
    op.execute("DROP FUNCTION IF EXISTS documents_lemma_vector()")
    op.execute("DROP INDEX IF EXISTS ix_documents_lemmas")
    op.execute("ALTER TABLE documents DROP COLUMN lemma_vector")
    op.execute(
        "ALTER TABLE documents ADD COLUMN lemma_vector tsvector GENERATED ALWAYS AS ("
        "to_tsvector('simple', coalesce(lemmas, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_documents_lemmas ON documents USING gin (lemma_vector)")
