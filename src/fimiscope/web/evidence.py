"""The evidence of a signal as a report prints it: the documents it cites (origin and copies,
with URL, publication time and an excerpt with the shared passage marked), the laundering
chain as a graph and the incident's documents on a timeline, both as inline SVG drawn here,
so a report needs no script and prints to PDF as it shows on screen."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from fimiscope.core.clock import lag_text, to_utc
from fimiscope.core.model import Document, Signal

ORIGIN_COLOR = "#c8372d"
STRIPPED_COLOR = "#e0752f"
CREDITED_COLOR = "#2f5bd3"
OTHER_COLOR = "#6a7282"
SVG_FONT = 'font-family="system-ui, sans-serif"'
# Roles that repeat a document already cited (its paragraphs): they mark the passage, not a row.
PASSAGE_ROLES = ("matched_paragraph",)
ROLE_ORDER = {"origin": 0, "quoted": 1, "copy": 2}
# What a role means to a reader of the report (the rest: the role, underscores as spaces).
ROLE_WORDS = {"sentence": "matched sentence", "quoted": "quoted document", "co_action": "coordinated post",
              "carrying_sentence": "carrying sentence", "shared_indicator": "shared indicator"}


def clean(text: str | None) -> str:
    """Text for one line of a report: whitespace (and a literal backslash-n left by an
    upstream JSON encoder) folded into single spaces."""
    if not text:
        return ""
    return " ".join(text.replace("\\n", " ").split())


def cut_words(text: str | None, n: int) -> str:
    """``text`` on one line, at most ``n`` characters, cut at a word boundary with an ellipsis."""
    text = clean(text)
    if len(text) <= n:
        return text
    cut = text[: max(1, n - 1)]
    space = cut.rfind(" ")
    if space >= n // 3:
        cut = cut[:space]
    return cut.rstrip(" .,;:–-") + "…"


def excerpt(text: str, span: tuple[int, int] | None, context: int = 160) -> Markup:
    """The passage ``span`` of ``text`` marked, with up to ``context`` characters either side
    (cut at words); without a span, the text's opening."""
    if span is None:
        return Markup(escape(cut_words(text, context * 2)))
    start, end = max(0, span[0]), min(len(text), span[1])
    a, b = max(0, start - context), min(len(text), end + context)
    pre, mid, post = text[a:start], text[start:end], text[end:b]
    if a > 0:
        pre = "…" + pre[pre.find(" ") + 1 :] if " " in pre else "…" + pre
    if b < len(text):
        post = (post[: post.rfind(" ")] if " " in post else post) + "…"

    def fold(s: str) -> str:
        return re.sub(r"\s+", " ", s.replace("\\n", " "))

    return Markup(f'{escape(fold(pre))}<mark class="ev">{escape(fold(mid).strip())}</mark>{escape(fold(post))}')


@dataclass
class CitedDocument:
    """One document a signal cites, as the report lists it."""

    document_id: str
    roles: list[str]
    title: str
    source: str
    language: str
    url: str
    published: datetime | None
    excerpt: Markup
    lag_s: float | None = None
    attribution_stripped: bool | None = None
    passages: int = 0  # matched paragraphs (laundering) marked in this document
    signals: list[int] = field(default_factory=list)  # the report's numbers of the signals citing it

    @property
    def role(self) -> str:
        return ", ".join(ROLE_WORDS.get(r, r.replace("_", " ")) for r in self.roles)


def cited_documents(sig: Signal, docs: dict[str, Document]) -> list[CitedDocument]:
    """The distinct documents ``sig`` cites, origin first, each with the passage its evidence
    points at marked (for a laundering copy, its first matched paragraph; for what it copied,
    the same paragraph on that side)."""
    spans: dict[str, tuple[int, int]] = {}
    passages: dict[str, int] = {}
    roles: dict[str, list[str]] = {}
    facts: dict[str, dict[str, Any]] = {}
    for ev in sig.evidence:
        if not ev.document_id:
            continue
        details = ev.details or {}
        if ev.role in PASSAGE_ROLES:
            passages[ev.document_id] = passages.get(ev.document_id, 0) + 1
            copied, copied_span = details.get("copied_document_id"), details.get("copied_span")
            if copied and copied_span and copied not in spans:
                spans[copied] = (int(copied_span[0]), int(copied_span[1]))
        else:
            roles.setdefault(ev.document_id, [])
            if ev.role not in roles[ev.document_id]:
                roles[ev.document_id].append(ev.role)
            facts.setdefault(ev.document_id, details)
        if ev.span_start is not None and ev.span_end is not None and ev.document_id not in spans:
            spans[ev.document_id] = (ev.span_start, ev.span_end)
    for doc_id in passages:
        roles.setdefault(doc_id, ["copy"])
    out = []
    for doc_id, rs in roles.items():
        doc = docs.get(doc_id)
        if doc is None:
            continue
        details = facts.get(doc_id) or {}
        stripped = details.get("attribution_stripped")
        out.append(
            CitedDocument(
                document_id=doc_id,
                roles=rs,
                title=cut_words(doc.title or "(untitled)", 120),
                source=doc.source or "unknown source",
                language=doc.language or "?",
                url=doc.url or "",
                published=to_utc(doc.published_at) if doc.published_at else None,
                excerpt=excerpt(doc.text or "", spans.get(doc_id)),
                lag_s=details.get("lag_s"),
                attribution_stripped=stripped if isinstance(stripped, bool) else None,
                passages=passages.get(doc_id, 0),
            )
        )
    out.sort(key=lambda d: (min(ROLE_ORDER.get(r, 3) for r in d.roles), d.published is None, d.published or 0))
    return out


def chain_members(sig: Signal, docs: dict[str, Document]) -> list[CitedDocument]:
    """The other members of a laundering signal's chain (copies of copies, translations) that
    it does not cite itself: the timeline places them too."""
    details = sig.details or {}
    cited = {e.document_id for e in sig.evidence}
    stripped = {e["copier"]: e.get("attribution") == "stripped" for e in details.get("chain") or [] if e.get("copier")}
    out = []
    for m in details.get("members") or []:
        doc = docs.get(m.get("document_id") or "")
        if doc is None or doc.id in cited:
            continue
        out.append(
            CitedDocument(
                document_id=doc.id or "",
                roles=[str(m.get("role") or "copy")],
                title=cut_words(doc.title or "(untitled)", 120),
                source=doc.source or "unknown source",
                language=doc.language or "?",
                url=doc.url or "",
                published=to_utc(doc.published_at) if doc.published_at else None,
                excerpt=excerpt(doc.text or "", None),
                attribution_stripped=stripped.get(doc.id or ""),
            )
        )
    return out


def _at(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, str) and value:
        try:
            return to_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def chain_graph_svg(sig: Signal, *, width: int = 760) -> Markup:
    """A laundering signal's chain (its cluster's members and edges, as the detector stored
    them) as a graph: one column per member in publication order, one row per language, arrows
    from what was copied to who copied it. The origin is a red diamond; a copy is orange when it
    strips attribution and blue when it credits; this signal's copy has a black ring. Labels of
    neighbouring columns sit on alternate rows, so they never overlap."""
    details = sig.details or {}
    members = [m for m in details.get("members") or [] if m.get("document_id")]
    chain = details.get("chain") or []
    if sig.type != "laundering" or len(members) < 2 or not chain:
        return Markup("")
    mine = next((e.document_id for e in sig.evidence if e.role == "copy"), None)
    origin = details.get("origin_document_id")
    members.sort(key=lambda m: (_at(m.get("published_at")) is None, _at(m.get("published_at")) or 0,
                                m["document_id"] != origin, m["document_id"]))
    origin_lang = next((m.get("language") for m in members if m["document_id"] == origin), None) or "?"
    lanes = sorted({m.get("language") or "?" for m in members}, key=lambda x: (x != origin_lang, x))
    stripped = {e["copier"]: e.get("attribution") == "stripped" for e in chain if e.get("copier")}
    n = len(members)
    left, right, top, lane_h = 56, 56, 24, 84
    col_w = (width - left - right) / max(n - 1, 1)
    label_chars = max(5, min(24, int(min(2 * col_w - 8, 180) / 6.6)))
    pos: dict[str, tuple[float, float]] = {}
    for rank, m in enumerate(members):
        x = left + col_w * rank if n > 1 else width / 2
        y = float(top + lane_h * lanes.index(m.get("language") or "?") + (22 if rank % 2 else 0))
        pos[m["document_id"]] = (x, y)
    height = top + lane_h * len(lanes) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="laundering chain" class="chain-graph" {SVG_FONT} font-size="11">',
        "<defs>",
        *(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            for name, color in (("s", STRIPPED_COLOR), ("c", CREDITED_COLOR))
        ),
        "</defs>",
    ]
    for i, lane in enumerate(lanes):
        lane_y = top + lane_h * i + 11
        parts.append(f'<text x="0" y="{lane_y + 4:.0f}" fill="#6a7282">{escape(lane)}</text>')
    for e in chain:
        a, b = pos.get(e.get("copied", "")), pos.get(e.get("copier", ""))
        if a is None or b is None:
            continue
        dx, dy = b[0] - a[0], b[1] - a[1]
        dist = max((dx * dx + dy * dy) ** 0.5, 1.0)
        r = 9.0
        x1, y1, x2, y2 = a[0] + dx * r / dist, a[1] + dy * r / dist, b[0] - dx * r / dist, b[1] - dy * r / dist
        kind = "s" if e.get("attribution") == "stripped" else "c"
        color = STRIPPED_COLOR if kind == "s" else CREDITED_COLOR
        dash = ' stroke-dasharray="5 3"' if e.get("method") == "translation" else ""
        tip = escape(f"{lag_text(e.get('lag_s'))} · {str(e.get('method') or '').replace('_', ' ')}")
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="1.6"'
            f'{dash} marker-end="url(#arrow-{kind})"><title>{tip}</title></line>'
        )
    for m in members:
        doc_id = m["document_id"]
        x, y = pos[doc_id]
        at = _at(m.get("published_at"))
        title = escape(f"{m.get('source') or 'no source'} · {at.strftime('%Y-%m-%d %H:%M') if at else 'no date'}")
        ring = ' stroke="#111" stroke-width="2.5"' if doc_id == mine else ' stroke="#fff" stroke-width="1"'
        if doc_id == origin:
            parts.append(
                f'<rect x="{x - 8:.1f}" y="{y - 8:.1f}" width="16" height="16" fill="{ORIGIN_COLOR}"{ring} '
                f'transform="rotate(45 {x:.1f} {y:.1f})"><title>origin: {title}</title></rect>'
            )
        else:
            color = STRIPPED_COLOR if stripped.get(doc_id, True) else CREDITED_COLOR
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="{color}"{ring}><title>copy: {title}</title></circle>'
            )
        anchor = "start" if n > 1 and x <= left else ("end" if n > 1 and x >= width - right else "middle")
        parts.append(
            f'<text x="{x:.1f}" y="{y + 22:.1f}" text-anchor="{anchor}" fill="#1c2230">'
            f"{escape(cut_words(m.get('source') or 'no source', label_chars))}</text>"
        )
        parts.append(
            f'<text x="{x:.1f}" y="{y + 35:.1f}" text-anchor="{anchor}" fill="#6a7282" font-size="10">'
            f"{at.strftime('%m-%d %H:%M') if at else 'no date'}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def timeline_svg(items: Sequence[CitedDocument], *, width: int = 760) -> Markup:
    """The incident's cited documents by publication time, one lane per source: the origin a
    red diamond, a copy orange (attribution stripped) or blue (credited), anything else grey;
    the signal numbers above each point. Undated documents are left to the table."""
    dated = sorted((d for d in items if d.published), key=lambda d: d.published or 0)
    if not dated:
        return Markup("")
    lanes: list[str] = []
    for d in dated:
        if d.source not in lanes:
            lanes.append(d.source)
    t0, t1 = dated[0].published, dated[-1].published
    assert t0 is not None and t1 is not None
    span = max((t1 - t0).total_seconds(), 1.0)
    label_w, right, lane_h, top = 170, 40, 32, 14
    plot_w = width - label_w - right
    height = top + lane_h * len(lanes) + 34
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="timeline of the cited documents" class="evidence-timeline" {SVG_FONT} font-size="12">'
    ]
    for i, lane in enumerate(lanes):
        y = top + i * lane_h + lane_h / 2
        parts.append(f'<text x="0" y="{y + 4:.0f}" fill="#333">{escape(cut_words(lane, 26))}</text>')
        parts.append(f'<line x1="{label_w}" y1="{y:.0f}" x2="{width - right}" y2="{y:.0f}" stroke="#e1e4ea"/>')
    axis_y = top + lane_h * len(lanes) + 4
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#8a93a3"/>')
    ticks = ((0.0, "start", t0), (1.0, "end", t1)) if t1 > t0 else ((0.0, "start", t0),)
    for frac, anchor, t in ticks:
        x = label_w + plot_w * frac
        parts.append(
            f'<text x="{x:.0f}" y="{axis_y + 16}" fill="#6a7282" text-anchor="{anchor}">'
            f"{t.strftime('%Y-%m-%d %H:%M')} UTC</text>"
        )
    last_label: dict[str, float] = {}
    for d in dated:
        assert d.published is not None
        x = label_w + plot_w * (d.published - t0).total_seconds() / span
        y = top + lanes.index(d.source) * lane_h + lane_h / 2
        title = escape(f"{d.role}: {d.title} ({d.published.strftime('%Y-%m-%d %H:%M')} UTC)")
        if "origin" in d.roles:
            parts.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="{ORIGIN_COLOR}" '
                f'transform="rotate(45 {x:.1f} {y:.1f})"><title>{title}</title></rect>'
            )
        else:
            color = OTHER_COLOR
            if "copy" in d.roles:
                color = CREDITED_COLOR if d.attribution_stripped is False else STRIPPED_COLOR
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color}"><title>{title}</title></circle>')
        if d.signals and x - last_label.get(d.source, -1e9) >= 28:  # a close neighbour keeps its label
            last_label[d.source] = x
            parts.append(
                f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" fill="#6a7282" font-size="10">'
                f"{escape(' '.join(f'#{n}' for n in d.signals))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
