"""The JSON-ready form of domain objects, shared by the CLI and the API so their shapes agree."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from enum import Enum
from typing import Any

from fimiscope.core.errors import InvalidInput


def plain(obj: Any) -> Any:
    """Dataclasses to dicts, enums to values, datetimes to ISO 8601; raw bytes are left out."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [plain(v) for v in obj]
    if isinstance(obj, bytes):
        return None
    return obj


def has_nul(value: Any) -> bool:
    """Whether a string, or any key or string within lists/dicts, holds a NUL character
    (PostgreSQL stores none, in text or JSON)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


def without_nul(value: Any) -> Any:
    """``value`` with every NUL character removed from its strings (keys included)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether lists/dicts in ``value`` nest more than ``limit`` levels (``[]`` is one level).
    Iterative, so a hostile document cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def parse_json(data: bytes | str, *, what: str = "the file") -> Any:
    """``json.loads`` that answers malformed or absurdly nested input (100,000 ``[``) with one
    ``InvalidInput`` line instead of a ``RecursionError`` traceback."""
    try:
        return json.loads(data)
    except RecursionError:
        raise InvalidInput(f"{what} nests arrays/objects too deeply to read") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from exc
