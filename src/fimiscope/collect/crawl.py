"""A site crawl: breadth-first from a start URL.

Options (``Source.metadata``):
- ``depth`` (default 2): links followed from the start page (0: the start page only).
- ``max_pages`` (default 100): pages fetched per run (the budget).
- ``include`` / ``exclude``: regular expressions a URL must / must not match to be followed
  (the start page is always fetched).
- ``same_host`` (default true): stay on the start URL's host.

URLs are cleaned and normalised with courlan (tracking parameters dropped, fragments removed,
links to files and non-http schemes skipped). Pages at the last depth are fetched with a
conditional GET (a 304 adds nothing); pages with links to follow are fetched whole.
Navigation pages without main text are not errors (``hints['optional']``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit, urlunsplit

from courlan import check_url, normalize_url

from fimiscope.collect.base import CollectContext, Connector, Item, ItemError, RawPage, connector
from fimiscope.collect.fetch import HTML_TYPES, FetchError, canonical
from fimiscope.collect.webutil import html_links, option, patterns
from fimiscope.core.errors import FimiscopeError, InvalidInput
from fimiscope.core.model import Source


def clean_link(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "mailto:", "javascript:", "tel:", "data:")):
        return None
    absolute = urljoin(base, href)
    if not absolute.lower().startswith(("http://", "https://")):
        return None
    parts = urlsplit(absolute)
    netloc = parts.netloc
    # courlan judges public host names; an address or a dotless intranet name (a loopback test
    # server, an allow-listed host) is judged on its path and query under a stand-in name.
    stand_in = "." not in (parts.hostname or "") or _is_ip(parts.hostname or "")
    probe = parts._replace(netloc="placeholder.example.com", fragment="") if stand_in else parts._replace(fragment="")
    checked = check_url(urlunsplit(probe), strict=False, with_redirects=False)
    if checked is None:
        return None
    try:
        cleaned = urlsplit(str(normalize_url(checked[0], strict=False)))
    except ValueError:
        return None
    if stand_in:
        cleaned = cleaned._replace(netloc=netloc)
    return canonical(urlunsplit(cleaned))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@connector
class CrawlConnector(Connector):
    kind = "crawl"
    description = "crawl a site from a start URL (depth, include/exclude patterns, page budget)"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Item]:
        if not source.location:
            raise InvalidInput(f"source {source.name} has no start URL (--location)")
        depth = option(source, "depth", 2, int)
        budget = option(source, "max_pages", 100, int)
        same_host = option(source, "same_host", True, bool)
        include = [re.compile(p) for p in patterns(source, "include")]
        exclude = [re.compile(p) for p in patterns(source, "exclude")]
        start = canonical(source.location.strip())
        host = urlsplit(start).hostname
        queue: list[tuple[str, int]] = [(start, 0)]
        queued = {start}
        fetched = 0
        while queue and fetched < budget:
            url, level = queue.pop(0)
            fetched += 1
            try:
                got = ctx.fetcher.get(url, accept=HTML_TYPES, conditional=level >= depth)
            except FimiscopeError as exc:
                if url == start:
                    raise
                yield ItemError(url, exc.reason if isinstance(exc, FetchError) else str(exc))
                continue
            if got.not_modified:
                continue
            if level < depth:
                text = got.text()
                for href in html_links(text[:5_000_000]):
                    link = clean_link(got.url, href)
                    if not link or link in queued:
                        continue
                    if same_host and urlsplit(link).hostname != host:
                        continue
                    if include and not any(p.search(link) for p in include):
                        continue
                    if any(p.search(link) for p in exclude):
                        continue
                    queued.add(link)
                    queue.append((link, level + 1))
            yield RawPage(
                url=got.url,
                body=got.body,
                source=source.name,
                content_type=got.content_type,
                encoding=got.encoding,
                fetched_at=got.fetched_at,
                hints={"optional": True, "depth": level},
            )
        if queue:
            ctx.log(f"{source.name}: page budget of {budget} reached; {len(queue)} URLs left")
