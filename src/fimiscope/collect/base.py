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


def connectors() -> dict[str, type[Connector]]:
    import importlib
    import pkgutil

    import fimiscope.collect as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"fimiscope.collect.{info.name}")
    return dict(sorted(_CONNECTORS.items()))
