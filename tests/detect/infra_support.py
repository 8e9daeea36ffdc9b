"""A small web of fictional sites with planted infrastructure, stored as collected pages, for
the stage, API, CLI and UI tests of the infrastructure room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fimiscope.core.model import Affiliation, Document, Provenance, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
REG = Provenance(by="test registry", where="tests", when="2026-01-01")
NETWORK = ["daily-truth.example", "free-voice.example", "real-news-now.example"]
STATE = "state-tv.example"
INDEPENDENT = "city-paper.example"
COMMON = ('<script src="https://cdn.jsdelivr.net/npm/jquery@3/dist/jquery.min.js"></script>'
          '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">')


def page(site: str, n: int, extra: str = "", ga: str | None = None) -> bytes:
    tracking = f"<script>ga('create', '{ga}', 'auto');</script>" if ga else ""
    return (f"<!doctype html><html><head><title>{site} {n}</title>{COMMON}{tracking}{extra}</head>"
            f"<body><article><h1>Story {n}</h1><p>Text of story {n} on {site}.</p></article>"
            f'<footer><a href="mailto:info@{site}">contact</a> <script>var x = "<b>&amp;</b>";</script>'
            "</footer></body></html>").encode()


NETWORK_EXTRA = ('<link rel="stylesheet" href="/wp-content/themes/truthmag-pro/style.css">'
                 '<meta name="yandex-verification" content="9f8e7d6c5b4a3921">')


def sources() -> list[Source]:
    out = [Source(name=STATE, domain=STATE, affiliation=Affiliation.STATE_CONTROLLED, provenance=[REG],
                  lists=["dima:fictional-op"]),
           Source(name=INDEPENDENT, domain=INDEPENDENT, affiliation=Affiliation.INDEPENDENT, provenance=[REG])]
    out += [Source(name=s, domain=s) for s in NETWORK]
    return out


def documents(sites: list[str] | None = None) -> list[Document]:
    docs = []
    for i, site in enumerate(sites or [*NETWORK, STATE, INDEPENDENT]):
        for n in range(2):
            if site in NETWORK:
                raw = page(site, n, NETWORK_EXTRA, ga="UA-7654321-1")
            elif site == STATE:
                raw = page(site, n, ga="UA-7654321-2")  # the same Analytics account as the network
            else:
                raw = page(site, n, ga=f"UA-{1000000 + i}-1")
            docs.append(Document(text=f"Story {n} on {site}.", url=f"https://{site}/news/{n}", source=site,
                                 title=f"Story {n}", collected_at=T0 + timedelta(hours=i, minutes=n), raw=raw,
                                 metadata={"content_type": "text/html", "encoding": "utf-8"}))
    return docs


def load(store: Store) -> None:
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, documents())
