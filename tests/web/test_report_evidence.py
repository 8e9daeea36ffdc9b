"""The incident report a partner can act on, read in Chromium and printed to PDF by the served
app: for each linked signal the origin and copies with URLs, publication times, excerpts with
the shared passage marked, the chain as a graph, a timeline; first / last seen filled from the
evidence and equal to the STIX bundle's. The PDF is rasterised with poppler's ``pdftoppm`` (the
PNG pages are kept as artifacts) and read back with ``pdftotext``."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.api.cluster_support import Made, make_cluster_and_claim
from tests.detect.test_laundering import STORY
from tests.web.ui_support import ARTIFACTS, Live, login

from fimiscope.api.incidents import create_incident
from fimiscope.store import documents as document_store

MICROSECONDS = re.compile(r"\d\d:\d\d:\d\d\.\d{3,}")
MARK_RGB = (0xFF, 0xE5, 0x8A)  # report.css: mark.ev, the marked passage


def _incident(live: Live) -> tuple[str, Made]:
    made = make_cluster_and_claim(live.store)
    inc = create_incident(
        live.store,
        {"title": "Border-exercise story laundered through daily-news", "tlp": "green",
         "summary": "The RT story reappears on daily-news.example within three hours.\n\nA translation followed."},
        [made.laundering_signal_id, made.claim_signal_id],
        "ana",
    )
    assert inc.id
    return inc.id, made


def _published(live: Live, doc_id: str) -> datetime:
    at = live.store.read(document_store.get_document, doc_id).published_at
    assert at is not None
    return at


def test_incident_report_carries_the_evidence_and_agrees_with_stix(page: Page, live: Live) -> None:
    iid, made = _incident(live)
    login(page, live)
    page.goto(f"{live.url}/reports/incidents/{iid}.html")

    sections = page.locator("section.linked-signal")
    expect(sections).to_have_count(2)
    laundering = page.locator("section.linked-signal[data-type=laundering]")
    # Origin and copy, each with its URL, publication time and an excerpt with the passage marked.
    docs = laundering.locator("tr.cited-doc")
    expect(docs.first).to_contain_text("origin")
    expect(docs.first.locator(".url")).to_have_text("https://rt.example/a1")
    expect(laundering.locator("tr.role-copy .url")).to_have_text("https://daily-news.example/b1")
    origin_at = _published(live, made.origin_id)
    expect(docs.first).to_contain_text(origin_at.strftime("%Y-%m-%d %H:%M"))
    expect(laundering.locator("tr.role-copy")).to_contain_text("3.0 h after the origin")
    expect(laundering.locator("tr.role-copy")).to_contain_text("attribution stripped")
    marked = laundering.locator("tr.role-copy blockquote mark.ev")
    expect(marked).to_have_count(1)
    assert marked.inner_text().strip() and marked.inner_text().strip()[:40] in " ".join(" ".join(STORY).split())
    expect(docs.first.locator("blockquote mark.ev")).to_have_count(1)  # the same passage on the origin's side
    # The chain as a graph, drawn without script: the origin, both copies, their edges.
    graph = laundering.locator("svg.chain-graph")
    expect(graph).to_be_visible()
    expect(graph.locator("rect")).to_have_count(1)
    expect(graph.locator("circle")).to_have_count(2)
    assert graph.locator("line").count() >= 2
    expect(graph).to_contain_text("daily-news.example")
    expect(laundering.locator(".aligned-table tr.align-shared").first).to_be_visible()
    # The claim match cites the article, its matched sentence marked.
    claim = page.locator("section.linked-signal[data-type=claim_match]")
    expect(claim.locator(".url")).to_have_text("https://daily-news.example/vinnitsa")
    expect(claim.locator("mark.ev")).to_contain_text("According to local bloggers")
    # A timeline of every cited document.
    expect(page.locator("svg.evidence-timeline")).to_be_visible()
    expect(page.locator("table.timeline tr")).to_have_count(1 + 4)  # origin, copy, translation, article
    expect(page.locator("body")).to_contain_text("linked signal #1")

    # First / last seen filled from the evidence: the origin's and the article's publication times.
    article_at = _published(live, made.article_id)
    seen = page.locator("#seen")
    expect(seen).to_contain_text(f"{origin_at:%Y-%m-%d %H:%M} / {article_at:%Y-%m-%d %H:%M}")
    expect(seen).to_contain_text("publication times of the cited documents")

    assert page.locator("script").count() == 0  # drawn server-side: prints as it shows
    # Read as a person reads it: no raw JSON, no microseconds, no literal \n.
    text = page.locator("body").inner_text()
    assert "\\n" not in text and not MICROSECONDS.search(text)
    assert '{"' not in text and "': " not in text
    assert "The RT story reappears" in text and "A translation followed." in text
    page.screenshot(path=str(ARTIFACTS / "incident-report-evidence.png"), full_page=True)

    # The STIX bundle says the same: title, marking, first / last seen, one sighting per signal.
    bundle = page.request.get(f"{live.url}/api/incidents/{iid}/stix").json()
    (incident,) = [o for o in bundle["objects"] if o["type"] == "incident"]
    assert incident["name"] == page.locator("h1").inner_text()
    assert incident["first_seen"].startswith(f"{origin_at:%Y-%m-%dT%H:%M}")
    assert incident["last_seen"].startswith(f"{article_at:%Y-%m-%dT%H:%M}")
    assert incident["x_fimiscope_seen_from"] == "evidence"
    sightings = {o["x_fimiscope_signal_id"] for o in bundle["objects"] if o["type"] == "sighting"}
    assert sightings == {made.laundering_signal_id, made.claim_signal_id}
    expect(page.locator("#tlp-marking")).to_contain_text("TLP:GREEN")
    markings = {o["name"] for o in bundle["objects"] if o["type"] == "marking-definition"}
    assert "TLP:GREEN" in markings


def _ppm_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a binary PPM (P6, maxval 255), as pdftoppm writes it."""
    data = path.read_bytes()
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    return int(fields[1]), int(fields[2]), data[pos + 1 :]


def _count_rgb(pixels: bytes, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    n = 0
    for i in range(0, len(pixels) - 2, 3):
        if all(abs(pixels[i + k] - rgb[k]) <= tolerance for k in range(3)):
            n += 1
    return n


def test_incident_pdf_shows_an_excerpt_and_a_url(page: Page, live: Live, tmp_path: Path) -> None:
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install poppler-utils)")
    iid, _made = _incident(live)
    login(page, live)
    reply = page.request.get(f"{live.url}/reports/incidents/{iid}.pdf")
    assert reply.status == 200, reply.text()[:300]
    assert reply.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "incident.pdf"
    pdf.write_bytes(reply.body())
    assert pdf.read_bytes().startswith(b"%PDF")
    shutil.copy(pdf, ARTIFACTS / "incident-report.pdf")

    # Rasterised as a partner's viewer would show it; the pages are kept as artifacts.
    for old in ARTIFACTS.glob("incident-report-pdf-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "incident-report-pdf")],
                   check=True, timeout=120)
    pngs = sorted(ARTIFACTS.glob("incident-report-pdf-*.png"))
    assert pngs, "pdftoppm wrote no page"
    subprocess.run(["pdftoppm", "-r", "40", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    marked = 0
    for ppm in sorted(tmp_path.glob("page-*.ppm")):
        _w, _h, pixels = _ppm_pixels(ppm)
        marked += _count_rgb(pixels, MARK_RGB)
    assert marked > 20, "no marked passage is painted on any page of the PDF"

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    flat = " ".join(text.split())
    assert "https://rt.example/a1" in flat and "https://daily-news.example/b1" in flat
    assert "According to local bloggers" in flat  # the claim match's excerpt
    # an excerpt of the copied story, as the origin's and the copy's rows quote it
    assert any(" ".join(s.split()[:6]) in flat for s in STORY), f"no excerpt of the story in: {flat[:400]}"
    assert "TLP:GREEN" in flat and "Timeline" in flat
    assert not MICROSECONDS.search(flat) and "\\n" not in flat
