"""lemmatised full-text search: documents.lemmas, indexed beside the exact forms

Every document gets a ``lemmas`` column (its title and text, word by word in dictionary form,
in its language), and the full-text index reads it: FTS5's ``documents_fts`` gains a third
column on SQLite; PostgreSQL gets a generated ``lemma_vector`` with its GIN index. The exact
forms stay indexed for quoted phrases. Existing documents are lemmatised here, in batches,
with a progress bar on a terminal.

Revision ID: 0005
Revises: 0004
"""

import sys

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 2000

_FTS_TRIGGERS = (
    "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, text{lem}) "
    "VALUES ('delete', old.pk, old.title, old.text{old}); END",
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text{of} ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, text{lem}) "
    "VALUES ('delete', old.pk, old.title, old.text{old}); "
    "INSERT INTO documents_fts(rowid, title, text{lem}) VALUES (new.pk, new.title, new.text{new}); END",
)


def _sqlite_fts(with_lemmas: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS documents_fts_ad")
    op.execute("DROP TRIGGER IF EXISTS documents_fts_au")
    op.execute("DROP TABLE IF EXISTS documents_fts")
    lem = ", lemmas" if with_lemmas else ""
    op.execute(
        f"CREATE VIRTUAL TABLE documents_fts USING fts5(title, text{lem}, content='documents', "
        "content_rowid='pk', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")
    parts = {"lem": lem, "of": lem, "old": ", old.lemmas" if with_lemmas else "",
             "new": ", new.lemmas" if with_lemmas else ""}
    for trigger in _FTS_TRIGGERS:
        op.execute(trigger.format(**parts))


def _lemmatise_existing() -> None:
    """Fill ``lemmas`` for the documents already stored, a batch at a time."""
    from fimiscope.store.documents import lemma_column

    conn = op.get_bind()
    docs = sa.table("documents", sa.column("pk", sa.Integer), sa.column("title", sa.Text),
                    sa.column("text", sa.Text), sa.column("language", sa.String),
                    sa.column("lemmas", sa.Text))
    total = int(conn.execute(sa.select(sa.func.count()).select_from(docs)).scalar_one())
    if not total:
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("[bold]re-indexing documents for lemmatised search"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), transient=True, disable=not sys.stderr.isatty())
    update = sa.text("UPDATE documents SET lemmas = :lemmas WHERE pk = :pk")
    done, last = 0, 0
    with bar:
        task = bar.add_task("lemmas", total=total)
        while True:
            rows = conn.execute(
                sa.select(docs.c.pk, docs.c.title, docs.c.text, docs.c.language)
                .where(docs.c.pk > last).order_by(docs.c.pk).limit(_BATCH)
            ).all()
            if not rows:
                break
            conn.execute(update, [{"pk": r.pk, "lemmas": lemma_column(r.title, r.text, r.language)} for r in rows])
            last = rows[-1].pk
            done += len(rows)
            bar.update(task, completed=done)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # no index to keep in step while the column fills
        op.execute("DROP TRIGGER IF EXISTS documents_fts_ad")
        op.execute("DROP TRIGGER IF EXISTS documents_fts_au")
        op.execute("DROP TABLE IF EXISTS documents_fts")
    op.add_column("documents", sa.Column("lemmas", sa.Text))
    _lemmatise_existing()
    if sqlite:
        _sqlite_fts(with_lemmas=True)
    else:
        op.execute(
            "ALTER TABLE documents ADD COLUMN lemma_vector tsvector GENERATED ALWAYS AS ("
            "to_tsvector('simple', coalesce(lemmas, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_documents_lemmas ON documents USING gin (lemma_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS documents_fts_ad")
        op.execute("DROP TRIGGER IF EXISTS documents_fts_au")
        op.execute("DROP TABLE IF EXISTS documents_fts")
        with op.batch_alter_table("documents") as batch:
            batch.drop_column("lemmas")
        _sqlite_fts(with_lemmas=False)
    else:
        op.execute("DROP INDEX IF EXISTS ix_documents_lemmas")
        op.execute("ALTER TABLE documents DROP COLUMN lemma_vector")
        op.drop_column("documents", "lemmas")
