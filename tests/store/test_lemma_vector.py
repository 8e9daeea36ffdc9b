"""The lemma vector built by the client (store/tsvector.py, migration 0006) is exactly the one
PostgreSQL computed as a generated column: same vectors, same search results and scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from fimiscope.core.model import Document
from fimiscope.pipeline import ingest
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import search as search_store
from fimiscope.store.db import migrate
from fimiscope.store.documents import lemma_column
from fimiscope.store.tsvector import lemma_vector, tsvector_literal

# Three languages lemmatised (each query word is looked up in every stored one, and each
# dictionary takes a while to load); the other scripts are stored as words, lower-cased.
LONG_WORD = "a" + "bc" * 1500  # 3,001 letters: PostgreSQL does not index it
DOCS = [
    ("cs", "Obilí z Ukrajiny", "Obchodníci s obilím čekají na sklizeň. Vláda schválila rozpočet na příští rok."),
    ("ru", "Зерно", "Цены на зерна снова выросли. Торговля зерном идёт через порт Одессы."),
    (None, None, "Statek ze zbożem wypłynął z portu. Zboże jest tańsze niż rok temu."),
    (None, None, "Ціни на пшеницю у портах зросли; пшениця знову дорожчає."),
    (None, "Straße", "Die Straßen in Köln: Ärger über GROSSE Baustellen (ß, ẞ, Maße)."),
    (None, "ΣΑΣ", "Οι τιμές των σιτηρών αυξήθηκαν. Σας ευχαριστούμε, ΟΔΥΣΣΕΑΣ."),
    (None, "İstanbul", "İSTANBUL'da ışık ve IĞDIR; ıspanak İzmir'e gitti."),
    ("en", "Quotes", "He said \"it's 'fine'\" \\ back\\slash \\\\ and O'Brien's dog; C:\\temp\\x."),
    ("en", "Numbers", "1e5abc 12e3x 2nd 10km 1990s 3.14 1,000 0x1f v2.0 e5 1_2 covid_19 x² Ⅻ ٣٤٥ ３"),
    ("en", "Web", "Mail me@example.com or see https://www.example.org/path?q=1 and www.site.cz/a-b."),
    ("en", "Hyphens", "State-of-the-art pro-Kremlin anti_vax self–made — dashes… «guillemets» „quotes“"),
    (None, "हिन्दी", "भारत सरकार ने नई नीति की घोषणा की। क़ानून"),
    (None, "عربي", "أعلنت الحكومة عن سياسة جديدة. الحكومةُ"),
    (None, None, "הממשלה הודיעה על מדיניות חדשה"),
    (None, "中文", "政府宣布了新政策。俄罗斯 乌克兰"),
    ("en", "Long", f"start {LONG_WORD} end {'x' * 2046} {'y' * 2047}"),
    (None, "Répétitions", " ".join(["blé"] * 300 + ["fin"])),
    ("en", "Many", " ".join(f"w{i % 5000}" for i in range(17000))),
    ("cs", "Combining", "Cafe\u0301 nai\u0308ve ǅungla ǈ ﬁnance"),
    ("en", None, "   "),
]
QUERIES = [
    "obilí", "obilím sklizeň", "зерно", "зерном порт", "zboże", "пшениця", "straße", "strasse", "σας",
    "ΟΔΥΣΣΕΑΣ", "istanbul", "İstanbul", "ışık", "O'Brien", "back\\slash", "\\", "it's", "'fine'",
    '"obilím"', '"s obilím"', '"back slash"', '"it s"', "1e5abc", "12e3", "2nd", "10km", "covid_19", "19",
    "example", "me@example.com", "state-of-the-art", "kremlin", "guillemets", "भारत", "الحكومة", "הממשלה",
    "政府宣布了新政策", LONG_WORD, "x" * 2046, "blé", "fin", "w42", "w4999", "café", "ǆungla", "finance", '"',
    'obilí "Obchodníci s"', "a'b\\c", "''", "e5",
]


def _documents() -> list[Document]:
    return [Document(text=text, title=title, url=f"https://news.example/{i}", language=lang,
                     published_at=datetime(2024, 1, 5, tzinfo=UTC)) for i, (lang, title, text) in enumerate(DOCS)]


def _pg(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the lemma vector is PostgreSQL's; SQLite keeps FTS5")


def _results(store: Store) -> dict[str, list[tuple[str | None, float]]]:
    out = {}
    for q in QUERIES:
        try:
            out[q] = [(d.url, score) for d, score in store.read(search_store.search, q, limit=100)]
        except Exception as exc:  # the same refusal on both forms counts as the same result
            out[q] = [(type(exc).__name__, 0.0)]
    return out


def test_built_vectors_equal_postgresql_s_own(database_url: str) -> None:
    _pg(database_url)
    store = Store.open(database_url)
    texts = [lemma_column(title, text, lang) for lang, title, text in DOCS]
    texts += ["", " ", "a  b", " lead trail ", "ABC", "x_y", "1e5", "123", "ǆ", "x\ty", "a\u0307"]
    built = [lemma_vector(t) for t in texts]
    with store.connect() as c:
        for text, vector in zip(texts, built, strict=True):
            if vector is not None:
                same = c.execute(sa.text("SELECT CAST(:v AS tsvector) = to_tsvector('simple', :t)"),
                                 {"v": vector, "t": text}).scalar_one()
                assert same, (text[:80], vector[:200])
    # the ordinary texts are built by the client, the uncertain ones left to the server
    assert sum(v is not None for v in built[:14]) >= 8
    assert lemma_vector(lemma_column(None, "1e5abc", None)) is None
    assert lemma_vector("x_y") is None and lemma_vector("ABC") is None
    store.close()


def test_any_lexeme_round_trips_through_the_literal(database_url: str) -> None:
    _pg(database_url)
    store = Store.open(database_url)
    lexemes = {"it's": [1, 3], "back\\slash": [2], "''": [4], "\\": [5], "a b": [6], "x:1": [7], "é": [8],
               "many": list(range(1, 400)), "far": [20000, 5]}
    with store.connect() as c:
        row = c.execute(sa.text("SELECT tsvector_to_array(v), length(v), "
                                "(SELECT array_length(positions, 1) FROM unnest(v) WHERE lexeme = 'many'), "
                                "(SELECT positions FROM unnest(v) WHERE lexeme = 'far') "
                                "FROM (SELECT CAST(:v AS tsvector) AS v) s"),
                        {"v": tsvector_literal(lexemes)}).one()
    assert sorted(row[0]) == sorted(lexemes) and row[1] == len(lexemes)
    assert row[2] == 255 and list(row[3]) == [5, 16383]
    store.close()


def test_search_results_unchanged_from_the_generated_column(database_url: str) -> None:
    _pg(database_url)
    # the generated form: a store at migration 0005, rows written as before
    old = Store.open(database_url, upgrade=False)
    migrate(old.engine, "0005")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with old.transaction() as c:
        for i, doc in enumerate(_documents(), start=1):
            c.execute(
                sa.text("INSERT INTO documents (id, key, seq, platform, url, title, text, lemmas, language, "
                        "published_at, collected_at, content_hash, links, metadata, version, updated_at) VALUES "
                        "(:id, :key, :seq, 'web', :url, :title, :text, :lemmas, :lang, :t, :t, :h, '[]', '{}', 1, :t)"),
                {"id": f"doc_{i}", "key": doc.key, "seq": i, "url": doc.url, "title": doc.title, "text": doc.text,
                 "lemmas": lemma_column(doc.title, doc.text, doc.language), "lang": doc.language, "t": now,
                 "h": str(i)},
            )
    migrate(old.engine)
    before = _results(old)
    assert sum(bool(v) for v in before.values()) > 30  # most queries find something

    # the new form: the same documents through bulk import, vectors built by the client
    with old.transaction() as c:
        c.execute(sa.text("DELETE FROM documents"))
    report = ingest(old, iter(_documents()))
    assert report.new == len(DOCS)
    with old.connect() as c:
        mismatched = c.execute(sa.text("SELECT count(*) FROM documents "
                                       "WHERE lemma_vector IS DISTINCT FROM to_tsvector('simple', lemmas)")).scalar()
    assert mismatched == 0
    assert _results(old) == before
    old.close()


def test_other_writers_keep_the_vector_in_step(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("the lemma vector is PostgreSQL's; SQLite keeps FTS5")
    doc = Document(text="Obchodníci s obilím čekají na sklizeň.", url="https://news.example/later")
    ids = store.write(document_store.upsert_documents, [doc]).ids  # no vectors prepared: the trigger
    store.write(document_store.update_document_fields, ids[0], language="cs")  # lemmas change
    changed = Document(text="Zboží a obilí dorazilo.", url="https://news.example/later", language="cs")
    store.write(document_store.upsert_documents, [changed])  # a new version
    with store.connect() as c:
        rows = c.execute(sa.text("SELECT lemma_vector = to_tsvector('simple', lemmas), lemmas FROM documents")).all()
    assert rows and all(r[0] for r in rows)
    assert "obilí" in rows[0][1]
    found = {d.id for d, _ in store.read(search_store.search, "obilím", language="cs")}
    assert found == {ids[0]}


def test_migration_0006_goes_down_and_up_again(database_url: str) -> None:
    from alembic import command

    from fimiscope.store.db import alembic_config

    store = Store.open(database_url, upgrade=False)
    migrate(store.engine, "0006")
    command.downgrade(alembic_config(store.engine), "0005")
    migrate(store.engine, "0006")
    if store.dialect == "postgresql":
        with store.connect() as c:
            generated = c.execute(sa.text("SELECT attgenerated FROM pg_attribute WHERE attname = 'lemma_vector' "
                                          "AND attrelid = 'documents'::regclass")).scalar_one()
            triggers = c.execute(sa.text("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal "
                                         "AND tgrelid = 'documents'::regclass")).scalar_one()
        assert generated == "" and triggers == 2
    store.close()
