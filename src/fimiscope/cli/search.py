"""`fimiscope search QUERY`: full-text search over stored documents."""

from __future__ import annotations

from datetime import datetime

import typer

from fimiscope.cli.app import app, open_store
from fimiscope.cli.output import check_format, emit_list
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.store import search as search_store


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except InvalidInput as exc:
        raise InvalidInput(f"--{name}: {exc}") from None


def _snippet(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@app.command("search")
def search(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help='Words to find, all in any inflected form; "quoted phrases" exactly as typed.'),
    lang: str = typer.Option(None, "--lang", "--language", help="Only this language (ISO 639-1, e.g. cs)."),
    source: str = typer.Option(None, "--source", help="Only this source name."),
    since: str = typer.Option(None, "--since", help="Published at or after (ISO date)."),
    until: str = typer.Option(None, "--until", help="Published before (ISO date)."),
    technique: str = typer.Option(None, "--technique", help="Only documents with this persuasion technique."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="At most this many hits."),
    fmt: str = typer.Option("table", "--format", help="table or json"),
) -> None:
    """Search documents by words in their title and text, best match first."""
    from fimiscope.index.persuasion import parse_technique  # numpy: loaded when asked

    check_format(fmt)
    store = open_store(ctx)
    hits = store.read(
        search_store.search, query, language=lang, source=source, since=_when(since, "since"),
        until=_when(until, "until"), technique=parse_technique(technique) if technique else None, limit=limit,
    )
    emit_list(
        hits,
        fmt,
        [
            ("score", lambda h: h[1]),
            ("id", lambda h: h[0].id),
            ("source", lambda h: h[0].source),
            ("lang", lambda h: h[0].language),
            ("published", lambda h: h[0].published_at),
            ("title / text", lambda h: _snippet(h[0].title or h[0].text, 80)),
        ],
        empty=f"No document matches {query!r}.",
        to_json=lambda h: {
            "id": h[0].id,
            "score": round(h[1], 6),
            "source": h[0].source,
            "url": h[0].url,
            "title": h[0].title,
            "language": h[0].language,
            "published_at": h[0].published_at.isoformat() if h[0].published_at else None,
            "snippet": _snippet(h[0].text),
        },
    )
