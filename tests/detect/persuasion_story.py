"""A small store for the persuasion tests: a state-controlled outlet publishing loaded text and
an independent one publishing the same kind of text and a plain report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fimiscope.core.model import Affiliation, Document, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

LOADED = [
    "The so-called experts of this corrupt regime are puppets and traitors who want to destroy our nation!",
    "This is an absolute disaster, a catastrophe that will kill us all, and they laugh at you!",
    "Everyone knows the truth: the globalist elites lie, they always lie, and they will never stop lying!",
    "What about their own crimes? The hypocrites never talk about those. Wake up before it's too late!",
    "Either we stand with our homeland now or we lose our freedom forever. End of story.",
    "Those idiots and liars in the puppet regime are criminals and traitors, nothing more.",
    "These so-called journalists of the corrupt regime are puppets and traitors who hate our nation!",
]
PLAIN = ("The committee met on Tuesday and approved the budget for the next fiscal year.\n\n"
         "The report lists road repairs in three districts and a new bus line from March.")
WHEN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def plant(store: Store) -> dict[str, str]:
    store.write(source_store.add_source, Source("statenews.example", domain="statenews.example",
                                                affiliation=Affiliation.STATE_CONTROLLED), replace=True)
    store.write(source_store.add_source, Source("localpaper.example", domain="localpaper.example",
                                                affiliation=Affiliation.INDEPENDENT), replace=True)
    docs = [
        Document(text="Enemies everywhere\n\n" + "\n\n".join(LOADED), url="https://statenews.example/a1",
                 source="statenews.example", title="Enemies everywhere", language="en", published_at=WHEN),
        Document(text="Same words, other outlet\n\n" + "\n\n".join(LOADED), url="https://localpaper.example/b1",
                 source="localpaper.example", title="Same words", language="en",
                 published_at=WHEN + timedelta(days=8)),
        Document(text="Council budget\n\n" + PLAIN, url="https://statenews.example/a2", source="statenews.example",
                 title="Council budget", language="en", published_at=WHEN + timedelta(days=1)),
    ]
    store.write(document_store.upsert_documents, docs)
    with store.connect() as conn:
        import sqlalchemy as sa

        from fimiscope.store.tables import documents

        return {u: i for u, i in conn.execute(sa.select(documents.c.url, documents.c.id))}
