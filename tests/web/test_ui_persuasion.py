"""Persuasion techniques in a real browser: the detector runs on a small live store; the
document page shows the paragraphs with their techniques and the trigger words highlighted, the
search filters by technique, the source page draws its technique rates, the signal opens an
incident that proposes DISARM techniques."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.detect.persuasion_story import plant
from tests.web.conftest import serving
from tests.web.ui_support import ARTIFACTS, PASSWORD, Live, login

from fimiscope import pipeline
from fimiscope.store import Store
from fimiscope.store import persuasion as db
from fimiscope.store import users as user_store


@pytest.fixture
def persuasion_live(tmp_path: Path) -> Iterator[Live]:
    store = Store.open(None, tmp_path / "data")
    user_store.add_user(store, "ana", PASSWORD, "analyst")
    try:
        with serving(store, tmp_path / "data") as url:
            yield Live(url=url, store=store, doc_ids=[], signal_ids=[])
    finally:
        store.close()


def test_persuasion_pages_in_chromium(page: Page, persuasion_live: Live) -> None:
    live = persuasion_live
    login(page, live)
    # Before the detector runs: the room says what to run.
    page.click("header.top nav >> text=Sources")
    page.click("#persuasion-link")
    expect(page.locator("#persuasion-empty")).to_contain_text("fimiscope detect persuasion")

    ids = plant(live.store)
    pipeline.run(live.store, only=["detect.persuasion"])
    state = ids["https://statenews.example/a1"]
    stored = live.store.read(db.document_paragraphs, state)
    assert stored is not None
    technique = next(iter(stored["counts"]))

    # The document page: paragraphs with technique chips, trigger words highlighted.
    page.goto(f"{live.url}/documents/{state}")
    panel = page.locator("#persuasion")
    expect(panel.locator("li.pt-paragraph").first).to_be_visible()
    expect(panel.locator("li.pt-paragraph")).to_have_count(stored["n_with_techniques"])
    marks = panel.locator("mark.pt")
    expect(marks.first).to_be_visible()
    words = " ".join(marks.all_inner_texts()).lower()
    assert any(w in words for w in ("traitor", "puppet", "disaster", "catastrophe", "corrupt", "so-called"))
    assert marks.first.get_attribute("title")
    expect(panel.locator(".pt-chip").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "persuasion-document.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    # A chip links to search filtered by that technique.
    panel.locator(f'a.pt-chip[href="/search?technique={technique}"]').first.click()
    expect(page).to_have_url(re.compile(f"technique={technique}"))
    expect(page.locator("select[name=technique]")).to_have_value(technique)
    expect(page.locator("body")).to_contain_text("Enemies everywhere")
    expect(page.locator("body")).not_to_contain_text("Council budget")

    # The room and the source's chart of technique rates.
    page.goto(f"{live.url}/persuasion")
    expect(page.locator(f"#tech-{technique} td.num a")).to_have_text("2")  # both outlets' loaded articles
    page.click('a[href="/persuasion/sources/statenews.example"]')
    expect(page.locator("#persuasion-rates svg")).to_be_visible()
    expect(page.locator(".pt-rates")).to_contain_text("Name calling" if "Name_Calling-Labeling" in stored["counts"]
                                                      else "")
    page.screenshot(path=str(ARTIFACTS / "persuasion-source.png"), full_page=True)

    # Triage by technique, then an incident from the signal proposes DISARM techniques.
    page.goto(f"{live.url}/triage?status=all&technique={technique}")
    row = page.locator("text=persuasion-technique hits").first
    expect(row).to_be_visible()


def test_narrative_technique_rates_and_the_menu_entry_on_the_demo(page: Page, persuasion_live: Live) -> None:
    """The demo's scenario: narratives found, paragraphs classified; the top bar's "More" menu
    opens the room, and a narrative's page draws the technique rates of its documents per week."""
    from fimiscope.demo.scenario import build_scenario
    from fimiscope.store import documents as document_store
    from fimiscope.store import narratives as narrative_store
    from fimiscope.store import sources as source_store

    live = persuasion_live
    s = build_scenario(seed=7, scale=0.05)
    for src in s.sources:
        live.store.write(source_store.add_source, src, replace=True)
    live.store.write(document_store.upsert_documents, s.documents)
    live.store.write(narrative_store.define_known, s.truth["narratives"]["known"], origin="demo")
    pipeline.run(live.store, only=["detect.narratives", "detect.persuasion"])
    with live.store.connect() as conn:
        ranked = sorted(narrative_store.list_narratives(conn, limit=100), key=lambda r: (-r["size"], r["id"]))
        nid = next(r["id"] for r in ranked if db.narrative_profile(conn, r["id"])["totals"])
        prof = db.narrative_profile(conn, nid)

    login(page, live)
    menu = page.locator("header.top details.navmenu")
    expect(menu.locator(".navmenu-items a")).to_be_hidden()
    menu.locator("summary").click()
    menu.locator("text=Persuasion techniques").click()
    expect(page).to_have_url(re.compile(r"/persuasion$"))
    expect(page.locator("header.top details.navmenu summary")).to_have_class(re.compile("active"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.goto(f"{live.url}/narratives/{nid}")
    section = page.locator("#narrative-techniques")
    expect(section.locator("#persuasion-rates svg")).to_be_visible()
    expect(section.locator(".pt-rates tbody tr")).to_have_count(len(prof["totals"]))
    top = next(iter(prof["totals"]))
    expect(section.locator(f'.pt-rates a[href="/search?technique={top}"]')).to_be_visible()
    expect(section).to_contain_text(f"{prof['documents']:,} of its documents")
    page.screenshot(path=str(ARTIFACTS / "persuasion-narrative.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
