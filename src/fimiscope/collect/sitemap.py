"""Sitemaps (sitemaps.org), Google News sitemaps and sitemap indexes, followed recursively.

Options (``Source.metadata``):
- ``max_pages`` (default 500): pages fetched per run.
- ``max_sitemaps`` (default 50): sitemap files read per run (an index pointing at thousands
  of sitemaps is read up to this cap).
- ``include`` / ``exclude``: regular expressions a page URL must / must not match.

A page is fetched again only when its ``<lastmod>`` changed; news sitemaps give title,
publication date and language, which fill what the page itself lacks.
"""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import Iterator

from fimiscope.collect.base import CollectContext, Connector, Item, ItemError, RawPage, connector
from fimiscope.collect.fetch import HTML_TYPES, SITEMAP_TYPES, FetchError
from fimiscope.collect.webutil import Seen, option, patterns
from fimiscope.collect.xmlsafe import local, parse_xml
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import FimiscopeError, InvalidInput
from fimiscope.core.model import Source

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed


def _gunzip(body: bytes, url: str) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(body, MAX_SITEMAP_BYTES + 1)
    if len(out) > MAX_SITEMAP_BYTES:
        raise InvalidInput(f"{url}: gzipped sitemap expands past {MAX_SITEMAP_BYTES:,} bytes; refused")
    return out


def read_sitemap(body: bytes, url: str) -> tuple[list[str], list[dict[str, str | None]]]:
    """(child sitemaps, pages) of one sitemap file. Pages: loc, lastmod, title, published, language."""
    root = parse_xml(_gunzip(body, url), "sitemap")
    kind = local(root.tag)
    if kind == "sitemapindex":
        children = [
            (loc.text or "").strip()
            for sm in root
            if local(sm.tag) == "sitemap"
            for loc in sm
            if local(loc.tag) == "loc"
        ]
        return [c for c in children if c], []
    if kind != "urlset":
        raise InvalidInput(f"{url}: not a sitemap (root element <{kind}>)")
    pages: list[dict[str, str | None]] = []
    for node in root:
        if local(node.tag) != "url":
            continue
        page: dict[str, str | None] = {"loc": None, "lastmod": None, "title": None, "published": None, "language": None}
        for child in node:
            name = local(child.tag)
            if name in ("loc", "lastmod"):
                page[name] = (child.text or "").strip() or None
            elif name == "news":
                for sub in child.iter():
                    sname = local(sub.tag)
                    if sname == "title":
                        page["title"] = (sub.text or "").strip() or None
                    elif sname == "publication_date":
                        page["published"] = (sub.text or "").strip() or None
                    elif sname == "language":
                        page["language"] = (sub.text or "").strip() or None
        if page["loc"]:
            pages.append(page)
    return [], pages


@connector
class SitemapConnector(Connector):
    kind = "sitemap"
    description = "sitemap, news sitemap or sitemap index at a URL"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Item]:
        if not source.location:
            raise InvalidInput(f"source {source.name} has no sitemap URL (--location)")
        max_pages = option(source, "max_pages", 500, int)
        max_sitemaps = option(source, "max_sitemaps", 50, int)
        include = [re.compile(p) for p in patterns(source, "include")]
        exclude = [re.compile(p) for p in patterns(source, "exclude")]
        seen = Seen(ctx.state)
        queue = [source.location]
        visited: set[str] = set()
        fetched = 0
        while queue and len(visited) < max_sitemaps:
            url = queue.pop(0)
            if url in visited:
                continue
            visited.add(url)
            try:
                # The top sitemap is fetched whole each time; it is small and says what changed.
                resp = ctx.fetcher.get(
                    url, accept=SITEMAP_TYPES, max_bytes=MAX_SITEMAP_BYTES, conditional=url != source.location
                )
            except FimiscopeError as exc:
                if url == source.location:
                    raise
                yield ItemError(url, exc.reason if isinstance(exc, FetchError) else str(exc))
                continue
            if resp.not_modified:
                continue
            try:
                children, pages = read_sitemap(resp.body, url)
            except FimiscopeError as exc:
                if url == source.location:
                    raise
                yield ItemError(url, str(exc))
                continue
            queue.extend(c for c in children if c not in visited)
            for page in pages:
                loc = page["loc"] or ""
                if include and not any(p.search(loc) for p in include):
                    continue
                if any(p.search(loc) for p in exclude):
                    continue
                marker = page["lastmod"] or True
                if seen.get(loc) == marker:
                    continue
                if fetched >= max_pages:
                    ctx.log(f"{source.name}: page budget of {max_pages} reached")
                    return
                fetched += 1
                try:
                    got = ctx.fetcher.get(loc, accept=HTML_TYPES)
                except FimiscopeError as exc:
                    yield ItemError(loc, exc.reason if isinstance(exc, FetchError) else str(exc))
                    continue
                seen.add(loc, marker)
                if got.not_modified:
                    continue
                hints: dict[str, object] = {"title": page["title"], "language": page["language"]}
                if page["published"]:
                    with contextlib.suppress(InvalidInput):
                        hints["published_at"] = parse_time(page["published"])
                yield RawPage(
                    url=got.url,
                    body=got.body,
                    source=source.name,
                    content_type=got.content_type,
                    encoding=got.encoding,
                    fetched_at=got.fetched_at,
                    hints={k: v for k, v in hints.items() if v},
                )
        if queue:
            ctx.log(f"{source.name}: sitemap cap of {max_sitemaps} files reached; {len(queue)} left unread")


__all__ = ["SitemapConnector", "read_sitemap"]
