"""HTML -> main text and metadata. trafilatura is the default extractor (see
docs/benchmarks.md for the measurement that chose it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput

MAX_HTML_BYTES = 5 * 1024 * 1024  # beyond this a page is cut before parsing


@dataclass(slots=True)
class Extracted:
    text: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    links: list[str] = field(default_factory=list)


def decode(body: bytes, declared: str | None = None) -> str:
    """Bytes -> text: the declared charset if it decodes cleanly, else detection."""
    if declared:
        try:
            return body.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        return str(best) if best is not None else body.decode("utf-8", errors="replace")


ENGINES = ("trafilatura", "resiliparse")
MAX_DEPTH = 1000  # browsers stop nesting near 512; past this a page is hostile or broken
# Void elements and those whose end tag may be omitted do not count towards nesting depth.
_NO_DEPTH = frozenset(
    "area base br col embed hr img input link meta source track wbr p li dt dd tr td th option "
    "thead tbody tfoot colgroup rt rp optgroup".split()
)


def looks_binary(text: str, sample: int = 8192) -> bool:
    """NULs, or over 10% control or replacement characters in the first ``sample`` characters."""
    head = text[:sample]
    if not head:
        return False
    if "\x00" in head:
        return True
    bad = sum(1 for ch in head if (ord(ch) < 32 and ch not in "\t\n\r\f") or ch == "\ufffd")
    return bad > len(head) // 10


_TAG_NAME = re.compile(r"(/?)([a-zA-Z][a-zA-Z0-9-]{0,40})")


def iter_tags(html: str) -> Iterator[tuple[int, int, bool, str, str]]:
    """``(start, end, closing, name, attributes text)`` of every tag, in one linear pass.

    A tag runs from ``<`` to the next ``>`` (quotes are not honoured: this is the scan for
    pages too hostile for a tree, not a parser). A regex with ``[^>]*`` here would rescan the
    rest of the page from every ``<`` of a page that never closes one: quadratic time.
    """
    find = html.find
    i = find("<")
    while i >= 0:
        j = find(">", i + 1)
        if j < 0:
            return
        m = _TAG_NAME.match(html, i + 1, min(j, i + 43))
        if m:
            name = m.group(2).lower()
            yield i, j + 1, bool(m.group(1)), name, html[m.end() : j]
        i = find("<", j + 1)


def nesting_depth(html: str, limit: int = MAX_DEPTH) -> int:
    """Maximum element nesting depth, scanning tags once; stops counting past ``limit``."""
    depth = deepest = 0
    for _start, _end, closing, name, attrs in iter_tags(html):
        if name in _NO_DEPTH or attrs.endswith("/"):
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
    return deepest


def extract(
    html: str | bytes, url: str | None = None, *, encoding: str | None = None, engine: str = "trafilatura"
) -> Extracted:
    """Main text and metadata of an article page. Raises InvalidInput when there is no text.

    ``trafilatura`` (default) has the better body F1 and full metadata; ``resiliparse`` is ~30x
    faster with a few points less F1 and only the title, for corpus-scale crawls
    (benchmarks/collect_bench.py, docs/benchmarks.md).
    """
    if isinstance(html, bytes):
        html = decode(html[:MAX_HTML_BYTES], encoding)
    else:
        html = html[:MAX_HTML_BYTES]
    if looks_binary(html):
        raise InvalidInput("binary content, not an HTML page")
    if nesting_depth(html) > MAX_DEPTH:
        raise InvalidInput(f"HTML nested deeper than {MAX_DEPTH} levels: hostile or broken page, not parsed")
    if engine == "resiliparse":
        return _extract_resiliparse(html)
    if engine != "trafilatura":
        raise InvalidInput(f"unknown extractor {engine!r}; use one of {', '.join(ENGINES)}")
    import trafilatura

    doc: Any = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if doc is None or not (doc.text or "").strip():
        raise InvalidInput("no main text found in the page")
    published = None
    if doc.date:
        try:
            published = parse_time(doc.date)
        except InvalidInput:
            published = None
    return Extracted(
        text=doc.text,
        title=doc.title or None,
        author=doc.author or None,
        published_at=published,
        language=doc.language or None,
        canonical_url=doc.url if doc.url and doc.url != url else None,
    )


def _extract_resiliparse(html: str) -> Extracted:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    text = extract_plain_text(tree, main_content=True)
    if not text.strip():
        raise InvalidInput("no main text found in the page")
    return Extracted(text=text, title=(tree.title or "").strip() or None)
