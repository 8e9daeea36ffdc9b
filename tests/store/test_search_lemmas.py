"""Lemmatised full-text search: a word finds its other inflected forms, a quoted phrase only
itself, on both backends; a store from before the lemma column is re-indexed by its migration."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import search as search_store
from fimiscope.store.db import migrate

DOCS = [
    ("cs-nom", "cs", "Obilí z Ukrajiny je prý otrávené."),
    ("cs-ins", "cs", "Obchodníci s obilím čekají na sklizeň."),
    ("cs-other", "cs", "Vláda schválila rozpočet na příští rok."),
    ("ru-gen", "ru", "Цены на зерна снова выросли."),
    ("ru-ins", "ru", "Торговля зерном идёт через порт."),
    ("pl-ins", "pl", "Statek ze zbożem wypłynął z portu."),
    ("pl-nom", "pl", "Zboże jest tańsze niż rok temu."),
    ("uk-loc", "uk", "Ціни на пшеницю у портах зросли."),
    ("uk-nom", "uk", "Пшениця знову дорожчає."),
]


def _docs() -> list[Document]:
    return [Document(text=text, url=f"https://news.example/{key}", language=lang,
                     published_at=datetime(2024, 1, 5, tzinfo=UTC)) for key, lang, text in DOCS]


def _found(store: Store, query: str, **kw: object) -> set[str]:
    return {d.url.rsplit("/", 1)[1] for d, _ in store.read(search_store.search, query, **kw) if d.url}


def test_a_word_finds_its_inflected_forms_and_a_phrase_only_itself(store: Store) -> None:
    store.write(document_store.upsert_documents, _docs())
    assert _found(store, "obilí") == {"cs-nom", "cs-ins"}
    assert _found(store, "obilím") == {"cs-nom", "cs-ins"}
    assert _found(store, "зерно") == {"ru-gen", "ru-ins"}
    assert _found(store, "zboże") == {"pl-ins", "pl-nom"}
    assert _found(store, "пшениця") == {"uk-loc", "uk-nom"}
    assert _found(store, "obilím sklizeň") == {"cs-ins"}  # every word must occur
    # quotes: those exact words in that order
    assert _found(store, '"obilím"') == {"cs-ins"}
    assert _found(store, '"s obilím"') == {"cs-ins"}
    assert _found(store, '"obilím s"') == set()
    assert _found(store, 'sklizeň "obilí"') == set()
    assert _found(store, "obilí", language="ru") == set()
    assert _found(store, "зерном", language="ru") == {"ru-gen", "ru-ins"}


def test_identifying_the_language_later_lemmatises_again(store: Store) -> None:
    doc = Document(text="Obchodníci s obilím čekají na sklizeň.", url="https://news.example/later")
    ids = store.write(document_store.upsert_documents, [doc]).ids
    assert _found(store, "obilí") == set()  # no language: words kept as they are
    store.write(document_store.update_document_fields, ids[0], language="cs")
    assert _found(store, "obilí", language="cs") == {"later"}


def test_migration_lemmatises_a_store_from_before(database_url: str) -> None:
    s = Store.open(database_url, upgrade=False)
    migrate(s.engine, "0004")
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with s.transaction() as c:
        for i, (key, lang, text) in enumerate(DOCS, start=1):
            c.execute(
                sa.text("INSERT INTO documents (id, key, seq, platform, text, language, collected_at, content_hash, "
                        "links, metadata, version, updated_at) VALUES (:id, :key, :seq, 'web', :text, :lang, :t, "
                        ":h, '[]', '{}', 1, :t)"),
                {"id": f"doc_{i}", "key": f"url:{key}", "seq": i, "text": text, "lang": lang, "t": now, "h": str(i)},
            )
    migrate(s.engine)
    with s.connect() as c:
        hits = {d.id for d, _ in search_store.search(c, "obilí")}
    assert hits == {"doc_1", "doc_2"}
    s.close()
