"""Small helpers the web connectors share: reading ``Source.metadata`` options, the bounded
"seen" memory kept in connector state, and text from an HTML fragment."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Source

SEEN_LIMIT = 20_000


def option(source: Source, name: str, default: Any, kind: type) -> Any:
    value = (source.metadata or {}).get(name, default)
    if value is None:
        return default
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return kind(value)
    except (TypeError, ValueError):
        what = f"source {source.name}: option {name!r}"
        raise InvalidInput(f"{what} should be a {kind.__name__}, got {value!r}") from None


def patterns(source: Source, name: str) -> list[str]:
    value = (source.metadata or {}).get(name) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"source {source.name}: option {name!r} should be a list of regular expressions")
    return value


class Seen:
    """Keys already collected, oldest dropped first past SEEN_LIMIT; lives in ``state[name]``."""

    def __init__(self, state: dict[str, Any], name: str = "seen") -> None:
        stored = state.get(name) or {}
        self._items: dict[str, Any] = dict.fromkeys(stored, True) if isinstance(stored, list) else dict(stored)
        self._state = state
        self._name = name

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def get(self, key: str) -> Any:
        return self._items.get(key)

    def add(self, key: str, value: Any = True) -> None:
        self._items.pop(key, None)
        self._items[key] = value
        while len(self._items) > SEEN_LIMIT:
            self._items.pop(next(iter(self._items)))
        self._state[self._name] = self._items


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        elif tag in ("p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_text(fragment: str) -> tuple[str, list[str]]:
    """Plain text and link targets of an HTML fragment (a feed entry's content)."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line), parser.links


def html_links(html: str) -> Iterator[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    yield from parser.links
