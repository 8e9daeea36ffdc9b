"""RSS, Atom and JSON Feed. The feed is fetched politely (conditional GET: an unchanged feed
costs one 304), screened through defusedxml, then read by feedparser.

Options (``Source.metadata``):
- ``fetch_articles`` (default true): fetch each new entry's article page and extract its full
  text; the entry's title, date and author fill what the page lacks. Off: the entry's own
  content (or summary) becomes the document, no page is fetched.
- ``max_entries`` (default 200): entries read per run, newest first as the feed lists them.

Entries already collected are remembered (by id or link) and not fetched again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from fimiscope.collect.base import CollectContext, Connector, Item, ItemError, RawPage, connector
from fimiscope.collect.fetch import FEED_TYPES, HTML_TYPES, FetchError
from fimiscope.collect.webutil import Seen, html_text, option
from fimiscope.collect.xmlsafe import parse_xml
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import FimiscopeError, InvalidInput
from fimiscope.core.model import Document, Source


def _entries_from_json(body: bytes) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the JSON feed is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise InvalidInput("not a JSON Feed (no https://jsonfeed.org/version/... in 'version')")
    items = data.get("items")
    if not isinstance(items, list):
        raise InvalidInput("the JSON feed has no 'items' list")
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        out.append(
            {
                "id": str(item.get("id") or item.get("url") or ""),
                "link": item.get("url") or item.get("external_url"),
                "title": item.get("title"),
                "published": item.get("date_published") or item.get("date_modified"),
                "author": next((a.get("name") for a in authors if isinstance(a, dict) and a.get("name")), None),
                "html": item.get("content_html"),
                "text": item.get("content_text") or item.get("summary"),
                "language": item.get("language") or data.get("language"),
            }
        )
    return out


def _entries_from_xml(body: bytes) -> list[dict[str, Any]]:
    import feedparser

    parse_xml(body, "feed")  # raises on entity tricks or malformed XML before feedparser runs
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=True)
    if not parsed.get("version") and not parsed.entries:
        raise InvalidInput("the document is XML but not an RSS or Atom feed")
    language = parsed.feed.get("language")
    out = []
    for e in parsed.entries:
        published = None
        for key in ("published_parsed", "updated_parsed"):
            if e.get(key):
                y, mo, d, h, mi, s = e[key][:6]
                published = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
                break
        content = e.get("content") or []
        html = content[0].get("value") if content else None
        out.append(
            {
                "id": e.get("id") or e.get("link") or "",
                "link": e.get("link"),
                "title": e.get("title"),
                "published": published,
                "author": e.get("author"),
                "html": html or e.get("summary"),
                "text": None,
                "language": language,
            }
        )
    return out


def read_feed(body: bytes, content_type: str = "") -> list[dict[str, Any]]:
    """Entries of an RSS/Atom/JSON feed as plain dicts (id, link, title, published, author, html,
    text, language)."""
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return _entries_from_json(body)
    return _entries_from_xml(body)


def _published(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return parse_time(value)
    except InvalidInput:
        return None


@connector
class FeedConnector(Connector):
    kind = "rss"
    description = "RSS, Atom or JSON Feed at a URL; fetches each new entry's article"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Item]:
        if not source.location:
            raise InvalidInput(f"source {source.name} has no feed URL (--location)")
        fetch_articles = option(source, "fetch_articles", True, bool)
        max_entries = option(source, "max_entries", 200, int)
        feed = ctx.fetcher.get(source.location, accept=FEED_TYPES + HTML_TYPES)
        if feed.not_modified:
            ctx.log(f"{source.location}: not modified")
            return
        seen = Seen(ctx.state)
        for entry in read_feed(feed.body, feed.content_type)[:max_entries]:
            key = entry["id"] or entry["link"]
            if not key or key in seen:
                continue
            hints = {
                "title": entry["title"],
                "published_at": _published(entry["published"]),
                "author": entry["author"],
                "language": entry["language"],
            }
            link = entry["link"]
            if fetch_articles and link:
                try:
                    page = ctx.fetcher.get(link, accept=HTML_TYPES)
                except FimiscopeError as exc:
                    yield ItemError(link, str(exc.reason if isinstance(exc, FetchError) else exc))
                    continue
                seen.add(key)
                if page.not_modified:
                    continue
                yield RawPage(
                    url=page.url,
                    body=page.body,
                    source=source.name,
                    content_type=page.content_type,
                    encoding=page.encoding,
                    fetched_at=page.fetched_at,
                    hints={k: v for k, v in hints.items() if v},
                )
                continue
            text, links = html_text(entry["html"]) if entry["html"] else (entry["text"] or "", [])
            if not text.strip():
                yield ItemError(link or key, "feed entry has no content and no link to fetch")
                continue
            seen.add(key)
            yield Document(
                text=text,
                url=link,
                external_id=None if link else key,
                source=source.name,
                title=hints["title"],
                published_at=hints["published_at"],
                author=hints["author"],
                language=hints["language"],
                links=links,
                raw=orjson.dumps(entry, default=str),
                metadata={"feed": source.location},
            )
