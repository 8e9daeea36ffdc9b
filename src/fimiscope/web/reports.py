"""Self-contained reports: one HTML file (inline CSS, charts as inline SVG) an analyst can
mail or archive; PDF through Chromium's print-to-PDF when a Chromium is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from fimiscope import __version__
from fimiscope.api.auth import require
from fimiscope.config import Settings
from fimiscope.core.clock import utcnow
from fimiscope.core.errors import Unavailable
from fimiscope.core.model import Signal
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store import workbench as wb
from fimiscope.store.users import User
from fimiscope.web.evidence import cut_words
from fimiscope.web.render import STATIC_DIR, snippet

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 60


class NoConverter(Unavailable):
    """No program here turns HTML into PDF; the HTML report still works."""

    http_status = 501
    title = "No PDF converter"


def bar_chart_svg(
    labels: list[str], values: list[float], *, width: int = 640, bar_h: int = 22, label: str = "evidence scores"
) -> Markup:
    """A horizontal bar chart as inline SVG (no script: the report must open anywhere)."""
    if not values:
        return Markup("")
    top = max(max(values), 1e-9)
    label_w = 230
    height = bar_h * len(values) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" font-family="system-ui, sans-serif" font-size="12">'
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * bar_h
        w = max(1.0, (width - label_w - 60) * value / top)
        parts.append(f'<text x="0" y="{y + 15}" fill="#333">{escape(cut_words(label, 34))}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 8}" fill="#c8372d" rx="2"/>')
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="#333">{value:.2f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def signal_report_html(request: Request, store: Store, sig: Signal) -> str:
    docs = wb.signal_documents(store, sig)
    rows: list[dict[str, Any]] = []
    for i, ev in enumerate(sig.evidence):
        doc = docs.get(ev.document_id or "")
        rows.append(
            {
                "n": i + 1,
                "ev": ev,
                "doc": doc,
                "snippet": snippet(doc.text, ev.span_start, ev.span_end, context=200) if doc else None,
            }
        )
    scored = [(f"#{r['n']} {(r['doc'].title if r['doc'] else r['ev'].document_id) or ''}", r["ev"].score)
              for r in rows if r["ev"].score is not None]
    chart = bar_chart_svg([s[0] for s in scored], [float(s[1]) for s in scored])
    return render_report(request, "report_signal.html", sig=sig, rows=rows, chart=chart)


def render_report(request: Request, template_name: str, **context: Any) -> str:
    """One self-contained report page: the template with the report stylesheet inlined and the
    footer facts (when, by whom, which version) every report carries."""
    css = (STATIC_DIR / "report.css").read_text(encoding="utf-8")
    html: str = request.app.state.templates.get_template(template_name).render(
        **context,
        css=Markup(css),
        generated=utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        by=request.state.user.name,
    )
    return html


def pdf_response(request: Request, html: str, filename: str) -> Response:
    """The report printed to PDF, or 501 problem+json saying no converter is installed."""
    pdf = html_to_pdf(html)  # NoConverter becomes 501 problem+json in the app's error handler
    disposition = {"Content-Disposition": f'inline; filename="{filename}"'}
    return Response(pdf, media_type="application/pdf", headers=disposition)


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def html_to_pdf(html: str) -> bytes:
    browser = find_chromium()
    if browser is None:
        raise NoConverter("PDF export needs Chromium (apt-get install chromium); the HTML report works without it")
    with tempfile.TemporaryDirectory(prefix="fimiscope-report-") as tmp:
        src, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-pdf-header-footer",
            f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}", src.as_uri(),
        ]
        subprocess.run(cmd, capture_output=True, timeout=PDF_TIMEOUT_S, check=False)
        if not out.exists():
            raise NoConverter("Chromium did not produce a PDF; use the HTML report")
        return out.read_bytes()


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    viewer = require("viewer")

    @app.get("/reports/signals/{signal_id}.html", tags=["reports"], summary="Self-contained HTML report of a signal",
             response_class=HTMLResponse)
    def signal_report(request: Request, signal_id: str, download: bool = False, _u: User = viewer) -> Response:
        html = signal_report_html(request, store, store.read(signal_store.get_signal, signal_id))
        headers = {"Content-Disposition": f'attachment; filename="signal-{signal_id}.html"'} if download else {}
        return HTMLResponse(html, headers=headers)

    @app.get("/reports/signals/{signal_id}.pdf", tags=["reports"], summary="PDF report (needs Chromium)")
    def signal_report_pdf(request: Request, signal_id: str, _u: User = viewer) -> Response:
        sig = store.read(signal_store.get_signal, signal_id)
        return pdf_response(request, signal_report_html(request, store, sig), f"signal-{signal_id}.pdf")
