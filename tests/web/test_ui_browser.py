"""The workbench in a real browser: log in, overview, keyboard triage, evidence, search."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.web.ui_support import ARTIFACTS, PASSWORD, PHRASE, Live

from fimiscope.store import signals as signal_store


def _login(page: Page, live: Live, user: str = "ana") -> None:
    page.goto(f"{live.url}/triage")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/triage$"))


def test_workbench_in_chromium(page: Page, live: Live) -> None:
    page.goto(f"{live.url}/login")
    page.screenshot(path=str(ARTIFACTS / "login.png"))
    _login(page, live)

    # Overview: figures, charts drawn by the vendored ECharts, strongest signals.
    page.goto(f"{live.url}/")
    expect(page.locator(".stat b").first).to_have_text("25")
    expect(page.locator("#chart-aff svg")).to_be_visible()
    expect(page.locator("#chart-day svg")).to_be_visible()
    expect(page.locator(".siglist").first).to_contain_text("RT biolab story")
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # Triage with the keyboard: j moves down, c confirms, k moves up, d dismisses.
    page.goto(f"{live.url}/triage")
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_class(re.compile("current"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("current"))
    page.keyboard.press("c")
    expect(rows.nth(1).locator(".st")).to_have_text("confirmed")
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("d")
    expect(rows.nth(0).locator(".st")).to_have_text("dismissed")
    page.screenshot(path=str(ARTIFACTS / "triage.png"), full_page=True)
    assert live.store.read(signal_store.get_signal, live.signal_ids[1]).status.value == "confirmed"
    assert live.store.read(signal_store.get_signal, live.signal_ids[0]).status.value == "dismissed"

    # Bulk: select the remaining one with its checkbox, escalate.
    page.goto(f"{live.url}/triage")
    expect(page.locator("#queue-table tbody tr")).to_have_count(1)
    page.locator("#queue-table .pick").first.check()
    page.click("button[data-bulk=escalated]")
    expect(page.locator("#queue-table tbody tr .st").first).to_have_text("escalated")
    assert live.store.read(signal_store.get_signal, live.signal_ids[2]).status.value == "escalated"

    # Document view: the evidence span is highlighted and links to the signals citing it.
    page.goto(f"{live.url}/documents/{live.doc_ids[0]}")
    mark = page.locator("mark.ev").first
    expect(mark).to_have_text(PHRASE)
    assert set(mark.get_attribute("data-signals").split()) == set(live.signal_ids[:2])  # type: ignore[union-attr]
    expect(page.locator(".citing li")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)
    mark.locator("a").click()
    expect(page).to_have_url(re.compile(r"/signals/sig_"))
    expect(page.locator("blockquote mark").first).to_have_text(PHRASE)
    expect(page.locator("#evidence-graph canvas").first).to_be_attached()  # Cytoscape drew the graph
    page.screenshot(path=str(ARTIFACTS / "signal.png"), full_page=True)

    # Search as you type (htmx).
    page.goto(f"{live.url}/search")
    page.fill("#q", "biolabs")
    expect(page.locator("ol.hits li")).to_have_count(1)
    expect(page.locator("ol.hits")).to_contain_text("Biolabs in Ukraine")
    expect(page.locator("ol.hits mark").first).to_have_text("biolabs")
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)

    page.goto(f"{live.url}/sources")
    expect(page.locator("table.sources tbody tr")).to_have_count(3)
    page.screenshot(path=str(ARTIFACTS / "sources.png"), full_page=True)

    # The report opens on its own (no server assets needed).
    page.goto(f"{live.url}/reports/signals/{live.signal_ids[0]}.html")
    expect(page.locator("h1")).to_contain_text("RT biolab story")
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


def test_viewer_reads_but_cannot_triage(page: Page, live: Live) -> None:
    _login(page, live, "vic")
    expect(page.locator(".bulk")).to_be_hidden()
    page.keyboard.press("c")
    expect(page.locator(".toast")).to_contain_text("may not")
    assert live.store.read(signal_store.get_signal, live.signal_ids[0]).status.value == "new"
    page.goto(f"{live.url}/signals/{live.signal_ids[0]}")
    expect(page.locator(".statusbtns")).to_have_count(0)
