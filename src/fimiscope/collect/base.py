"""What every connector shares: the items it yields and how it registers.

A connector turns one source into items and nothing more: it never writes to the store.
The runner (``fimiscope.collect.runner``) extracts pages, stores documents, records
errors against the source and persists the connector's state between runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from fimiscope.config import Settings
from fimiscope.core.model import Document, Source


@dataclass(slots=True)
class RawPage:
    """An HTML page fetched for extraction. ``hints`` carries what a feed or sitemap already
    said about it (title, published_at, author, language) so extraction does not lose it."""

    url: str
    body: bytes
    source: str
    content_type: str = "text/html"
    encoding: str | None = None
    fetched_at: datetime | None = None
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ItemError:
    """One item that could not be read; the connector goes on with the next."""

    where: str  # URL, file:line, message id...
    reason: str


Item = Document | RawPage | ItemError


@dataclass(slots=True)
class CollectContext:
    """What a connector may use. ``state`` is persisted per source between runs (ETags,
    cursors, seen URLs); a connector updates it in place as items are yielded."""

    settings: Settings
    state: dict[str, Any] = field(default_factory=dict)
    fetcher: Any = None  # fimiscope.collect.fetch.Fetcher for web connectors
    log: Callable[[str], None] = lambda _msg: None


class Connector:
    kind: ClassVar[str]
    description: ClassVar[str] = ""

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Item]:
        raise NotImplementedError


_CONNECTORS: dict[str, type[Connector]] = {}


def connector(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available under its ``kind``."""
    _CONNECTORS[cls.kind] = cls
    return cls


# Every module that defines connectors. A new kind of source adds one line.
CONNECTOR_MODULES: tuple[str, ...] = (
    "fimiscope.collect.crawl",
    "fimiscope.collect.files",
    "fimiscope.collect.page",
    "fimiscope.collect.rss",
    "fimiscope.collect.sitemap",
    "fimiscope.collect.telegram",
    "fimiscope.collect.warc",
)


def connectors() -> dict[str, type[Connector]]:
    """Every connector by kind (the modules of ``CONNECTOR_MODULES`` are imported by name)."""
    import importlib

    for module in CONNECTOR_MODULES:
        importlib.import_module(module)
    return dict(sorted(_CONNECTORS.items()))
