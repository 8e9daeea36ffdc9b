"""HTML -> main text and metadata. trafilatura is the default extractor (see
docs/benchmarks.md for the measurement that chose it)."""

from __future__ import annotations

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


def extract(html: str | bytes, url: str | None = None, *, encoding: str | None = None) -> Extracted:
    """Main text and metadata of an article page. Raises InvalidInput when there is no text."""
    import trafilatura

    if isinstance(html, bytes):
        html = decode(html[:MAX_HTML_BYTES], encoding)
    else:
        html = html[:MAX_HTML_BYTES]
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
