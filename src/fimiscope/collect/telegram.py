"""Telegram Desktop channel exports (``result.json``): one document per message, with links,
forwards (their origin as ``shared_from``), views and edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fimiscope.collect.base import CollectContext, Connector, ItemError, connector
from fimiscope.collect.files import _unchanged, location_path
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document, Source

MAX_EXPORT_BYTES = 512 * 1024 * 1024


def _text(value: Any) -> tuple[str, list[str]]:
    """Telegram writes text as a string or a list of strings and entity objects."""
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise InvalidInput(f"text is {type(value).__name__}, not a string or list")
    parts: list[str] = []
    links: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict):
            parts.append(str(part.get("text", "")))
            if part.get("type") == "text_link" and part.get("href"):
                links.append(str(part["href"]))
            elif part.get("type") == "link" and part.get("text"):
                links.append(str(part["text"]))
    return "".join(parts), links


def channel_name(export: dict[str, Any]) -> tuple[str, str | None]:
    username = export.get("username")
    if isinstance(username, str) and username:
        return f"telegram:{username.lstrip('@')}", username.lstrip("@")
    if export.get("id") is not None:
        return f"telegram:{export['id']}", None
    if export.get("name"):
        return f"telegram:{export['name']}", None
    raise InvalidInput("the export names no channel (no username, id or name)")


def message_document(msg: dict[str, Any], source: str, username: str | None) -> Document | None:
    """A Document for one message, None for service messages and empty ones."""
    if msg.get("type", "message") != "message":
        return None
    if msg.get("id") is None:
        raise InvalidInput("message without an id")
    text, links = _text(msg.get("text", ""))
    for ent in msg.get("text_entities") or []:
        if isinstance(ent, dict) and ent.get("type") in ("link", "text_link"):
            url = ent.get("href") or ent.get("text")
            if isinstance(url, str) and url not in links:
                links.append(url)
    caption = msg.get("caption")
    if not text.strip() and isinstance(caption, str):
        text = caption
    if not text.strip():
        return None
    if "date" not in msg and "date_unixtime" not in msg:
        raise InvalidInput("message without a date")
    published = parse_time(msg.get("date_unixtime") or msg["date"])
    metadata: dict[str, Any] = {}
    for key in ("views", "forwards", "reply_to_message_id", "edited", "from", "forwarded_from", "saved_from"):
        if msg.get(key) is not None:
            metadata[key] = msg[key]
    shared_from = msg.get("forwarded_from") or msg.get("saved_from")
    return Document(
        text=text,
        external_id=str(msg["id"]),
        url=f"https://t.me/{username}/{msg['id']}" if username else None,
        source=source,
        platform="telegram",
        published_at=published,
        author=msg.get("author") or msg.get("from"),
        links=links,
        shared_from=str(shared_from) if shared_from else None,
        metadata=metadata,
        raw=json.dumps(msg, ensure_ascii=False).encode(),
    )


@connector
class TelegramConnector(Connector):
    kind = "telegram"
    description = "a Telegram Desktop channel export (result.json)"

    def collect(self, source: Source, ctx: CollectContext) -> Iterator[Document | ItemError]:
        path = location_path(source)
        if path.is_dir():
            path = path / "result.json"
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise InvalidInput(f"{path} is larger than {MAX_EXPORT_BYTES // 2**20} MB")
        if _unchanged(path, ctx):
            return
        try:
            export = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{path.name} is not a Telegram JSON export: {exc}") from None
        if not isinstance(export, dict) or not isinstance(export.get("messages"), list):
            raise InvalidInput(f"{path.name} has no 'messages' list: not a channel export")
        name, username = channel_name(export)
        for i, msg in enumerate(export["messages"]):
            where = f"{path.name} message {msg.get('id', f'#{i}') if isinstance(msg, dict) else f'#{i}'}"
            if not isinstance(msg, dict):
                yield ItemError(where=where, reason="not an object")
                continue
            try:
                doc = message_document(msg, name, username)
            except InvalidInput as exc:
                yield ItemError(where=where, reason=str(exc))
                continue
            if doc is not None:
                yield doc
