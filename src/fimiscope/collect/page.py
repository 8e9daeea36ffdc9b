"""Single pages and URL lists. ``location`` holds one URL, several separated by spaces or
new lines, or the path of a text file with one URL a line (``#`` starts a comment).

Each page is fetched with a conditional GET, so a page that did not change costs a 304 and
adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fimiscope.collect.base import CollectContext, Connector, Item, ItemError, RawPage, connector
from fimiscope.collect.fetch import HTML_TYPES, FetchError
from fimiscope.core.errors import FimiscopeError, InvalidInput
from fimiscope.core.model import Source


def page_urls(location: str) -> list[str]:
    text = location.strip()
    if text and not text.lower().startswith(("http://", "https://")) and "\n" not in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{text!r} is neither an http(s) URL nor a file of URLs")
        text = path.read_text(encoding="utf-8", errors="replace")
    urls: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        for token in line.split():
            if token not in urls:
                urls.append(token)
    return urls


@connector
class PageConnector(Connector):
    kind = "page"
    description = "one web page, a list of URLs, or a file of URLs"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Item]:
        if not source.location:
            raise InvalidInput(f"source {source.name} has no URL (--location)")
        for url in page_urls(source.location):
            try:
                got = ctx.fetcher.get(url, accept=HTML_TYPES)
            except FimiscopeError as exc:
                yield ItemError(url, exc.reason if isinstance(exc, FetchError) else str(exc))
                continue
            if got.not_modified:
                continue
            yield RawPage(
                url=got.url,
                body=got.body,
                source=source.name,
                content_type=got.content_type,
                encoding=got.encoding,
                fetched_at=got.fetched_at,
            )
