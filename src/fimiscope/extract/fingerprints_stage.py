"""The pipeline stage that reads fingerprints from every collected page's archived HTML."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from fimiscope.core.model import Document
from fimiscope.extract.fingerprints import fingerprint_page
from fimiscope.pipeline import DocumentStage, register
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db


def site_of(doc: Document) -> str | None:
    """The site a page belongs to: its URL's host without ``www.`` (a canonical URL on another
    site is not trusted for this), else its source's name."""
    host = (urlsplit(doc.url or "").hostname or "").lower().removeprefix("www.")
    return host or (doc.source or None)


@register
class FingerprintStage(DocumentStage):
    name = "extract.fingerprints"
    order = 20
    description = "read infrastructure fingerprints (analytics ids, tokens, theme, ...) from archived HTML"

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        web = [d for d in docs if d.id and d.platform == "web" and d.url]
        raws = infra_db.raw_pages(conn, [d.id for d in web if d.id])
        rows: list[dict[str, Any]] = []
        profiles: dict[str, dict[str, Any]] = defaultdict(lambda: {"classes": set(), "outbound": {}, "pages": 0,
                                                                    "notes": []})
        for doc in web:
            raw = raws.get(doc.id or "")
            site = site_of(doc)
            if raw is None or site is None or raw[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"<":
                continue  # no archived HTML (imported text, a feed item, a JSON dump)
            got = fingerprint_page(raw, doc.url, encoding=doc.metadata.get("encoding"))
            seen = doc.collected_at
            rows.extend({"site": site, "kind": fp.kind, "value": fp.value, "where": fp.where, "origin": "page",
                         "document_id": doc.id, "url": doc.url, "snippet": fp.snippet, "seen_at": seen}
                        for fp in got.fingerprints)
            prof = profiles[site]
            prof["classes"] |= set(got.classes)
            for dom, n in got.outbound.items():
                prof["outbound"][dom] = prof["outbound"].get(dom, 0) + n
            prof["pages"] += 1
            prof["favicon_url"] = prof.get("favicon_url") or got.favicon_url
            prof["notes"] += [f"{doc.url}: {n}" for n in got.notes]
            if seen is not None and (prof.get("seen_at") is None or seen > prof["seen_at"]):
                prof["seen_at"] = seen
        infra_db.record_observations(conn, rows)
        infra_db.merge_site_profiles(conn, {s: {**p, "classes": sorted(p["classes"])} for s, p in profiles.items()})
        return 0
