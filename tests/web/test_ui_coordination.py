"""Coordinated groups in a real browser: the detector finds a 50-member group on the live store;
the group list with its filters, the group page (the account network readable at 50 members,
the timeline of co-actions, the shared items with each member's delay), signal -> group, and
"create incident" from the group."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.detect.coordination_story import bursts, crowd, organic, sources
from tests.web.ui_support import ARTIFACTS, Live, login

from fimiscope import pipeline
from fimiscope.store import coordination as db
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store

MEMBERS = [f"telegram:patriot_voice_{i}" for i in range(1, 51)]

# Something was painted: some pixel of one of Cytoscape's layered canvases is not transparent.
CANVAS_PAINTED = """(sel) => Array.from(document.querySelectorAll(sel + ' canvas')).some((c) => {
  if (!c.width || !c.height) return false;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
})"""

# Rendered node boxes (label included) inside the drawing area, and how many pairs overlap.
NODE_LAYOUT = """() => {
  const cy = window.fimiscopeGroupGraph, w = cy.width(), h = cy.height();
  const boxes = cy.nodes().map((n) => n.renderedBoundingBox({ includeLabels: true }));
  const inside = boxes.every((b) => b.x1 >= -1 && b.y1 >= -1 && b.x2 <= w + 1 && b.y2 <= h + 1);
  const centres = cy.nodes().map((n) => n.renderedPosition());
  let close = 0;
  for (let i = 0; i < centres.length; i++) for (let j = i + 1; j < centres.length; j++) {
    const dx = centres[i].x - centres[j].x, dy = centres[i].y - centres[j].y;
    if (Math.hypot(dx, dy) < 14) close++;
  }
  return { nodes: cy.nodes().length, edges: cy.edges().length, inside: inside, close: close };
}"""


def test_group_list_and_page_with_fifty_members_in_chromium(page: Page, live: Live) -> None:
    live.store.write(source_store.merge_sources, sources())
    live.store.write(
        document_store.upsert_documents, [*bursts(MEMBERS, range(6), gap=(1, 3)), *organic(), *crowd(1000)]
    )
    (report,) = pipeline.run(live.store, only=["detect.coordination"])
    with live.store.connect() as conn:
        (group,) = db.list_groups(conn)
    assert group["size"] == 50 and report.signals == 1
    login(page, live)

    # The list from the menu, its filters.
    page.click("header.top nav >> text=Coordination")
    expect(page).to_have_url(re.compile(r"/coordination$"))
    row = page.locator(f'#group-table tr[data-href="/coordination/{group["id"]}"]')
    expect(row).to_contain_text("patriot_voice_1")
    expect(row.locator("td.num").first).to_have_text("50")
    page.select_option("select[name=kind]", "hashtag")
    page.click("#group-filters button")
    expect(page.locator("section.empty")).to_contain_text("No group matches these filters")
    page.select_option("select[name=kind]", "share")
    page.select_option("select[name=platform]", "telegram")
    page.fill("input[name=min_size]", "10")
    page.click("#group-filters button")
    expect(row).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "coordination-groups.png"), full_page=True)
    row.locator("a.open").click()
    expect(page).to_have_url(re.compile(f"/coordination/{group['id']}$"))

    # The network: 50 members drawn inside the box, no two nodes on top of each other.
    expect(page.locator("#group-graph canvas").first).to_be_attached()
    page.wait_for_function(CANVAS_PAINTED, arg="#group-graph")
    layout = page.evaluate(NODE_LAYOUT)
    assert layout["nodes"] == 50 and layout["edges"] > 100
    assert layout["inside"] and layout["close"] == 0, layout
    page.locator("#group-graph").screenshot(path=str(ARTIFACTS / "coordination-network-50.png"))
    # The timeline: one lane per member, points by kind.
    expect(page.locator("#group-timeline svg")).to_be_visible()
    expect(page.locator("#group-timeline")).to_contain_text("co-link")
    expect(page.locator("#group-timeline")).to_contain_text("telegram:patriot_voice_1")
    # Shared items with each member's delay.
    items = page.locator("#group-items tbody tr")
    expect(items.first).to_contain_text("truth-now.example/story-0")
    expect(items.first.locator("td.delays")).to_contain_text("+0 s")
    assert items.first.locator(".delay").count() >= 25
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(ARTIFACTS / "coordination-group.png"), full_page=True)

    # Signal -> group, and "create incident" from the group with its signal linked.
    page.click('aside a[href^="/signals/"]')
    expect(page).to_have_url(re.compile(r"/signals/sig_"))
    page.click("#open-group")
    expect(page).to_have_url(re.compile(f"/coordination/{group['id']}$"))
    page.click("#group-create-incident")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal=sig_"))
    expect(page.locator("#incident-new-form")).to_contain_text("shared 6 links")
