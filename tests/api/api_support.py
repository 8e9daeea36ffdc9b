"""Seed data and constants shared by the API tests (a module, not conftest, so that test
files in other folders never import the wrong one)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from anyio.from_thread import start_blocking_portal

from fimiscope.core.model import Affiliation, Document, Evidence, Provenance, Reliability, Signal, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store

PASSWORD = "correct horse battery"
TEXT = (
    "Officials said the laboratories were civilian. Pundits on the channel claimed that secret biolabs "
    "in Ukraine produced weapons, a claim debunked many times."
)
SPAN = (TEXT.index("secret biolabs"), TEXT.index("secret biolabs") + len("secret biolabs in Ukraine"))


@dataclass
class Seeded:
    store: Store
    doc_ids: list[str]
    signal_ids: list[str]


def seed(store: Store) -> Seeded:
    store.write(source_store.add_source, Source(
            name="rt.com",
            display_name="RT",
            country="RU",
            language="en",
            affiliation=Affiliation.STATE_CONTROLLED,
            reliability=Reliability.E,
            provenance=[Provenance(by="EEAS", where="https://euvsdisinfo.eu", when="2024-01-01")],
            lists=["eeas-fimi"],
        ))
    store.write(source_store.add_source, Source(name="example-news.org", affiliation=Affiliation.INDEPENDENT))
    docs = [
        Document(text=TEXT, url="https://rt.com/news/1", source="rt.com", title="Biolabs in Ukraine", language="en",
                 published_at=datetime(2026, 11, 1, 9, tzinfo=UTC)),
        Document(text="Die geheimen Biolabore sind eine erfundene Geschichte.", url="https://example-news.org/de/2",
                 source="example-news.org", title="Biolabore", language="de",
                 published_at=datetime(2026, 11, 2, 9, tzinfo=UTC)),
        Document(text="Weather report: sunny with light wind over the harbour.", url="https://example-news.org/3",
                 source="example-news.org", title="Weather", language="en",
                 published_at=datetime(2026, 11, 3, 9, tzinfo=UTC)),
    ]
    res = store.write(document_store.upsert_documents, docs)
    ids = res.ids
    sigs = [
        Signal(type="laundering", title="RT biolab story copied without attribution", score=0.91, detector="test",
               detector_version="1", key="s1", summary="Same text on an independent-looking site.",
               evidence=[Evidence(document_id=ids[0], role="origin", span_start=SPAN[0], span_end=SPAN[1], score=0.9),
                         Evidence(document_id=ids[1], role="copy", score=0.7)]),
        Signal(type="claim", title="Debunked biolab claim repeated", score=0.55, detector="test", detector_version="1",
               key="s2", evidence=[Evidence(document_id=ids[0], role="match", span_start=SPAN[0], span_end=SPAN[1])]),
        Signal(type="claim", title="Weak match on weather", score=0.12, detector="test", detector_version="1",
               key="s3", evidence=[Evidence(document_id=ids[2], role="match")]),
    ]
    store.write(signal_store.upsert_signals, sigs)
    return Seeded(store=store, doc_ids=ids, signal_ids=[s.id for s in sigs if s.id])


class ASGIClient:
    """A synchronous facade over ``httpx.AsyncClient(transport=httpx.ASGITransport(app))``: the
    real app in-process, driven through httpx, with cookies kept between calls."""

    def __init__(self, app: Any, *, follow_redirects: bool = False) -> None:
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", follow_redirects=follow_redirects
        )

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._portal.call(functools.partial(self._client.request, method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._portal_cm.__exit__(None, None, None)
