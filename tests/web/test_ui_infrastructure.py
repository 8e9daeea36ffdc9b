"""Site groups in a real browser: the stages find the planted network on a live store; the
menu leads to the group page, whose bipartite graph is drawn by Cytoscape, GEXF downloads,
and a site opens its infrastructure page with the sites sharing it, tiered."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from playwright.sync_api import Page, expect
from tests.detect import infra_support as web
from tests.web.test_ui_clusters import CANVAS_PAINTED
from tests.web.ui_support import ARTIFACTS, Live, login

from fimiscope import pipeline
from fimiscope.store import infrastructure as infra_db


def test_site_group_page_in_chromium(page: Page, live: Live) -> None:
    web.load(live.store)
    pipeline.run(live.store, only=["extract.fingerprints", "detect.infrastructure"])
    gid = live.store.read(infra_db.list_groups)[0]["id"]
    login(page, live)

    page.click("header.top nav >> text=Infrastructure")
    expect(page).to_have_url(re.compile(r"/infrastructure$"))
    row = page.locator(f'#infra-groups tr[data-href="/infrastructure/groups/{gid}"]')
    expect(row).to_contain_text("DIMA: fictional-op")
    row.locator("a.open").click()
    expect(page).to_have_url(re.compile(f"/infrastructure/groups/{gid}$"))

    # The bipartite graph: 4 sites + the shared indicators, drawn on Cytoscape's canvases.
    graph = page.locator("#infra-graph")
    expect(graph).to_have_attribute("data-ready", re.compile(r"^([5-9]|\d\d+)$"))
    assert page.evaluate(CANVAS_PAINTED, "#infra-graph")
    expect(page.locator("table.indicators")).to_contain_text("UA-7654321")
    expect(page.locator("table.indicators tr.tier-row-conclusive").first).to_contain_text("ga")
    page.screenshot(path=str(ARTIFACTS / "infrastructure-group.png"), full_page=True)

    with page.expect_download() as got:
        page.click("#gexf-export")
    path = got.value.path()
    root = ET.parse(path).getroot()
    labels = {n.get("label") for n in root.iterfind(".//{http://gexf.net/1.3}node")}
    assert {"daily-truth.example", "state-tv.example", "ga: UA-7654321"} <= labels

    page.click("table.members >> text=daily-truth.example")
    expect(page).to_have_url(re.compile(r"/infrastructure/sites/daily-truth\.example$"))
    sharers = page.locator("table.sharers")
    expect(sharers).to_contain_text("state-tv.example")
    expect(sharers.locator("tr", has_text="state-tv.example")).to_contain_text("conclusive")
    expect(page.locator("table.fingerprints")).to_contain_text("wordpress:truthmag-pro")
    page.screenshot(path=str(ARTIFACTS / "infrastructure-site.png"), full_page=True)
