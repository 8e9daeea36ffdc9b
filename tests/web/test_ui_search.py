"""Search in the browser over the demo: ``obilí`` finds the grain-market news that says
``obilím``, and marks the inflected form in the snippet."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import Page, expect
from tests.web.ui_support import ARTIFACTS, Live, login


def test_search_finds_inflected_forms(page: Page, demo_live: Live) -> None:
    login(page, demo_live)
    # every word in any form: "sklizně" counts too (typing in the box is driven in test_ui_browser)
    page.goto(f"{demo_live.url}/search?q=" + quote("obilí sklizeň"))
    expect(page.locator("#q")).to_have_value("obilí sklizeň")
    hits = page.locator("ol.hits li")
    expect(hits.filter(has_text="Obchodníci s obilím čekají slabší sklizeň")).to_have_count(1)
    expect(hits.filter(has_text="Sila na jihu Moravy jsou plná").locator("mark").first).to_have_text("obilím")
    page.screenshot(path=str(ARTIFACTS / "search-lemmas.png"), full_page=True)

    page.goto(f"{demo_live.url}/search?q=" + quote('"obilí" sklizeň'))  # in quotes: that form only
    expect(page.locator("section.empty, ol.hits").first).not_to_contain_text("Sila na jihu Moravy")
