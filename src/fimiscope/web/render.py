"""Jinja2 environment of the web UI and the helpers its templates use."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from fimiscope.index.lemmas import lemmatize, query_lemmas, supported
from fimiscope.store.search import parse_query
from fimiscope.web.evidence import clean, cut_words

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

AFFILIATION_LABELS = {
    "official_state": "official state",
    "state_controlled": "state-controlled",
    "state_linked": "state-linked",
    "state_aligned": "state-aligned",
    "independent": "independent",
    "unknown": "unknown",
}


def highlight(text: str, spans: list[dict[str, Any]]) -> Markup:
    """The text, HTML-escaped, with each evidence span wrapped in a ``<mark>`` that links to
    the signals citing it. Overlapping spans split into segments that carry every citer."""
    n = len(text)
    cuts = {0, n}
    good = []
    for sp in spans:
        s, e = sp.get("span_start"), sp.get("span_end")
        if s is None or e is None:
            continue
        s, e = max(0, int(s)), min(n, int(e))
        if e <= s:
            continue
        good.append((s, e, sp))
        cuts.update((s, e))
    points = sorted(cuts)
    out: list[str] = []
    for a, b in itertools.pairwise(points):
        seg = str(escape(text[a:b]))
        covering = [sp for s, e, sp in good if s <= a and b <= e]
        if not covering:
            out.append(seg)
            continue
        sig_ids = sorted({str(sp["signal_id"]) for sp in covering})
        titles = "; ".join(sorted({f"{sp['type']}: {sp['title']}" for sp in covering}))
        first = covering[0]
        out.append(
            f'<mark class="ev ev-{escape(first["type"])}" id="ev-{first["id"]}-{a}" '
            f'data-signals="{escape(" ".join(sig_ids))}" title="{escape(titles)}">'
            f'<a href="/signals/{escape(sig_ids[0])}">{seg}</a></mark>'
        )
    return Markup("".join(out))


_WORD = re.compile(r"\w+", re.UNICODE)


def snippet(text: str, start: int | None, end: int | None, context: int = 120) -> Markup:
    """The evidence span with some context either side, the span itself marked."""
    if start is None or end is None:
        return Markup(escape(" ".join(text[: context * 2].split())))
    a, b = max(0, start - context), min(len(text), end + context)
    pre = ("…" if a > 0 else "") + text[a:start]
    post = text[end:b] + ("…" if b < len(text) else "")
    return Markup(f"{escape(pre)}<mark class=\"ev\">{escape(text[start:end])}</mark>{escape(post)}")


def mark_terms(text: str, query: str, language: str | None = None, limit: int = 240) -> Markup:
    """A search hit's opening (or the passage around the first match), query words marked in
    whatever inflected form the text uses (read in ``language``, the document's)."""
    parsed = parse_query(query or "")
    exact = {w.lower() for w in parsed.words + [w for p in parsed.phrases for w in p] if len(w) > 1}
    lemmas = {lemma for w in parsed.words if len(w) > 1 for lemma in query_lemmas(w, [language])}
    lang = supported(language)

    def wanted(word: str) -> bool:
        low = word.lower()
        return low in exact or low in lemmas or (lang is not None and lemmatize(word, lang) in lemmas)

    if not exact:
        short = text[:limit]
        return Markup(escape(short + ("…" if len(text) > limit else "")))
    first = next((m for m in _WORD.finditer(text) if wanted(m.group(0))), None)
    start = max(0, first.start() - limit // 3) if first else 0
    window = text[start : start + limit]
    out, pos = [], 0
    for m in _WORD.finditer(window):
        if not wanted(m.group(0)):
            continue
        out.append(str(escape(window[pos : m.start()])))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(str(escape(window[pos:])))
    return Markup(("…" if start else "") + "".join(out) + ("…" if start + limit < len(text) else ""))


def fmt_time(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def paragraphs(text: str | None) -> list[str]:
    """``text`` as paragraphs (split at blank lines, or a literal backslash-n pair), each on one line."""
    if not text:
        return []
    return [p for p in (clean(x) for x in re.split(r"\n\s*\n|(?:\\n){2,}", text)) if p]


_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def fact_text(value: Any) -> str:
    """A parameter or evidence detail as a reader reads it: numbers rounded, times to the
    minute, lists and mappings spelled out, never JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO.match(value)):
        return fmt_time(value)
    if isinstance(value, dict):
        return "; ".join(f"{str(k).replace('_', ' ')}: {fact_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(fact_text(v) for v in value)
    return clean(str(value))


def facts(mapping: dict[str, Any] | None) -> list[tuple[str, str]]:
    """``mapping`` as (label, text) rows for a report table."""
    return [(str(k).replace("_", " "), fact_text(v)) for k, v in (mapping or {}).items()]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters["when"] = fmt_time
    env.filters["mark_terms"] = mark_terms
    env.filters["affiliation"] = lambda v: AFFILIATION_LABELS.get(str(v), str(v))
    env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=False)
    env.filters["cut"] = cut_words
    env.filters["facts"] = facts
    env.filters["paragraphs"] = paragraphs
    env.filters["score"] = lambda v: f"{float(v):.2f}" if v is not None else ""
    env.globals["static_version"] = str(int(max(p.stat().st_mtime for p in STATIC_DIR.glob("*.*"))))

    def context(request: Request) -> dict[str, Any]:
        user = getattr(request.state, "user", None)
        session = getattr(request.state, "session", None)
        nav = [n for n in getattr(request.app.state, "nav", []) if user is None or user.may(n.role)]
        return {"user": user, "csrf": session.csrf if session else "", "nav": nav, "path": request.url.path}

    templates.context_processors.append(context)
    return templates
