"""UTC time helpers. Every timestamp fimiscope stores is timezone-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fimiscope.core.errors import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_EPOCH_RE = re.compile(r"^\d{9,13}(\.\d+)?$")


def parse_time(value: object) -> datetime:
    """Parse the timestamps found in the wild: ISO 8601, RFC 2822, epoch seconds/ms, dd.mm.yyyy.

    Raises InvalidInput with the offending value so a rejected row can say why.
    """
    try:
        return _parse_time(value)
    except (OverflowError, OSError, ValueError) as exc:
        # fromtimestamp and astimezone fail this way past the years 1..9999 (OSError on
        # some platforms): a malformed row, never a crash.
        raise InvalidInput(f"timestamp out of range: {str(value)[:60]!r}") from exc


def _parse_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInput(f"not a timestamp: {value!r}")
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"not a timestamp: {value!r}")
    text = value.strip()
    if _EPOCH_RE.match(text):
        return _parse_time(float(text))
    try:
        return to_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return to_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    from dateutil import parser as dateparser

    try:
        # Day-first: European sources write 03.04.2024 for 3 April.
        return to_utc(dateparser.parse(text, dayfirst=True))
    except (ValueError, OverflowError, TypeError) as exc:
        raise InvalidInput(f"unrecognised date {text[:60]!r}") from exc


def lag_text(seconds: float | None, *, unknown: str = "unknown", space: str = " ") -> str:
    """A lag as an analyst says it: minutes under an hour, hours under two days, then days."""
    if seconds is None:
        return unknown
    sign = "-" if seconds < 0 else ""
    s = abs(float(seconds))
    if s < 3600:
        return f"{sign}{s / 60:.0f}{space}min" if space else f"{sign}{s / 60:.0f}m"
    if s < 48 * 3600:
        return f"{sign}{s / 3600:.1f}{space}h"
    return f"{sign}{s / 86400:.1f}{space}d"
