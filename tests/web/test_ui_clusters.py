"""Clusters and claim matches in a real browser: the laundering detector builds a real chain
and the claim detector a real match on the live store; then the cluster list, the cluster view
(timeline and graph drawn), signal → cluster, the claim-match view and the claim search."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect
from tests.api.cluster_support import FILLER, MATCHED, make_cluster_and_claim
from tests.web.ui_support import ARTIFACTS, Live, login

from fimiscope import pipeline
from fimiscope.core.model import Document
from fimiscope.store import documents as document_store

# Something was painted: some pixel of one of Cytoscape's layered canvases is not transparent.
CANVAS_PAINTED = """(sel) => Array.from(document.querySelectorAll(sel + ' canvas')).some((c) => {
  if (!c.width || !c.height) return false;
  const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
  return false;
})"""


# The picked member's visible edge labels, as Cytoscape places them (rendered coordinates).
LABEL_BOXES = """(id) => {
  const api = window.fimiscopeCluster;
  api.select(id, 'graph');
  return api.cy.edges('.out, .in').map((e) => e.renderedBoundingBox({
    includeNodes: false, includeEdges: false, includeLabels: true, includeMainLabels: false,
    includeSourceLabels: true, includeTargetLabels: true }));
}"""


# Where a member's point sits on the timeline (pixels inside the chart's element).
POINT_AT = """(id) => {
  const chart = window.fimiscopeCluster.chart;
  const series = chart.getOption().series;
  for (let si = 0; si < series.length; si++) {
    const di = series[si].data.findIndex((d) => d.doc.id === id);
    if (di >= 0) return chart.convertToPixel({ seriesIndex: si }, series[si].data[di].value);
  }
  return null;
}"""


def test_cluster_view_and_claim_match_in_chromium(page: Page, live: Live) -> None:
    made = make_cluster_and_claim(live.store)
    # a later chain between two independent sites: updated last, yet listed after the state one
    live.store.write(document_store.upsert_documents, [
        Document(text="\n\n".join(FILLER * 3), url=f"https://{s}/bakery", source=s, title="Bakery opens",
                 language="en", published_at=datetime.now(UTC) - timedelta(hours=2 - i))
        for i, s in enumerate(("town-a.example", "town-b.example"))
    ])
    pipeline.run(live.store, only=["laundering"])
    login(page, live)

    # Overview: the cluster trend is drawn.
    expect(page.locator("#chart-cluster-trends svg")).to_be_visible()
    page.locator("#cluster-trends").screenshot(path=str(ARTIFACTS / "overview-cluster-trends.png"))

    # The list, from the menu; j/k move and Enter opens.
    page.click("header.top nav >> text=Clusters")
    expect(page).to_have_url(re.compile(r"/clusters$"))
    rows = page.locator("#cluster-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("rt.example")  # state-affiliated origins first
    expect(rows.nth(1)).to_contain_text("town-a.example")
    row = page.locator(f'#cluster-table tr[data-href="/clusters/{made.cluster_id}"]')
    expect(row).to_contain_text("Troops to join border exercise")
    expect(row).to_contain_text("rt.example")
    page.screenshot(path=str(ARTIFACTS / "clusters.png"), full_page=True)
    rows = page.locator("#cluster-table tbody tr")
    expect(rows.first).to_have_class(re.compile("current"))
    hrefs = [rows.nth(i).get_attribute("data-href") for i in range(rows.count())]
    index = hrefs.index(f"/clusters/{made.cluster_id}")
    for _ in range(index):
        page.keyboard.press("j")
    expect(row).to_have_class(re.compile("current"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/clusters/{made.cluster_id}$"))

    # The cluster view: timeline (ECharts, SVG) with one point per member, graph (Cytoscape) painted.
    timeline = page.locator("#cluster-timeline svg")
    expect(timeline).to_be_visible()
    expect(page.locator("#cluster-timeline")).to_contain_text("rt.example · en")
    expect(page.locator("#cluster-timeline")).to_contain_text("novosti.example · ru")
    expect(page.locator("#cluster-graph canvas").first).to_be_attached()
    page.wait_for_function(CANVAS_PAINTED, arg="#cluster-graph")
    # The graph: by time left to right; the picked member's edge labels do not overlap
    # (bounding boxes from Cytoscape); picking in the graph picks on the timeline and back.
    boxes = page.evaluate(LABEL_BOXES, made.origin_id)
    assert len(boxes) == 2, boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a["x2"] <= b["x1"] or b["x2"] <= a["x1"] or a["y2"] <= b["y1"] or b["y2"] <= a["y1"], (a, b)
    xs = page.evaluate("(ids) => ids.map((id) => window.fimiscopeCluster.cy.getElementById(id).position('x'))",
                       [made.origin_id, made.copy_id, made.translation_id])
    assert xs == sorted(xs), "laid out by publication time, left to right"
    # a click on the translation's point on the timeline picks it in the graph
    # (the point's place is read right before each click: on a loaded machine the page may still
    # be settling its layout, and a click at a stale place lands beside the point)
    page.locator("#cluster-timeline").scroll_into_view_if_needed()
    for _attempt in range(3):
        at = page.evaluate(POINT_AT, made.translation_id)
        box = page.locator("#cluster-timeline").bounding_box()
        assert box is not None and at is not None
        page.mouse.click(box["x"] + at[0], box["y"] + at[1])
        if "novosti.example" in (page.locator("#graph-picked").text_content() or ""):
            break
        page.wait_for_timeout(500)
    expect(page.locator("#graph-picked")).to_contain_text("novosti.example")
    picked = page.evaluate("() => window.fimiscopeCluster.cy.$('node.picked').map((n) => n.id())")
    assert picked == [made.translation_id]
    page.locator("#cluster-graph").screenshot(path=str(ARTIFACTS / "cluster-graph.png"))
    members = page.locator("table.members tbody tr")
    expect(members).to_have_count(3)
    expect(members.first).to_contain_text("origin")
    expect(page.locator("table.edges")).to_contain_text("en → ru")
    expect(page.locator("table.edges")).to_contain_text("stripped")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling at 1280 px
    page.screenshot(path=str(ARTIFACTS / "cluster.png"), full_page=True)

    # The aligned comparison: the verbatim copy's shared sentences and its added framing line;
    # the translation's sentence about Colonel Petrov paired by its anchors, marked on both sides.
    same = page.locator("#aligned .aligned[data-mode='same language']")
    expect(same.locator("tr.align-shared").first).to_be_visible()
    expect(same.locator("tr.align-added").first).to_contain_text("BREAKING")
    translated = page.locator("#aligned .aligned[data-mode='translation']").first
    petrov = translated.locator("tr.align-aligned", has_text="Petrov")
    expect(petrov.locator("td.align-origin mark.anchor", has_text="Petrov")).to_be_visible()
    expect(petrov.locator("td.align-copy mark.anchor", has_text="Петров")).to_be_visible()
    expect(petrov.locator("td.align-copy")).to_contain_text("Petrov = Петров (petrov)")
    highlighted = page.evaluate(
        "(el) => getComputedStyle(el).backgroundColor",
        petrov.locator("td.align-copy").element_handle(),
    )
    assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent"), "the aligned sentence is highlighted"
    page.locator("#aligned").screenshot(path=str(ARTIFACTS / "cluster-aligned.png"))

    # Member table links to documents; the signal list links to the laundering signals.
    page.click(f'table.members a[href="/documents/{made.copy_id}"]')
    expect(page).to_have_url(re.compile(f"/documents/{made.copy_id}$"))
    page.go_back()
    page.click(f'aside a[href="/signals/{made.laundering_signal_id}"]')
    expect(page).to_have_url(re.compile(f"/signals/{made.laundering_signal_id}$"))
    # the signal shows its copy beside the origin, the dropped dateline and the added lines marked
    expect(page.locator("#aligned tr.align-dropped")).to_contain_text("Moscow, 1 March.")
    expect(page.locator("#aligned tr.align-shared").first).to_be_visible()
    page.locator("#aligned").screenshot(path=str(ARTIFACTS / "signal-aligned.png"))

    # From the laundering signal back to its cluster.
    page.click("#open-cluster")
    expect(page).to_have_url(re.compile(f"/clusters/{made.cluster_id}$"))

    # The claim-match view: the sentence in its document beside the claim and its debunk.
    page.goto(f"{live.url}/signals/{made.claim_signal_id}")
    section = page.locator("#claim-match")
    expect(section.locator("blockquote.sentence mark")).to_contain_text(MATCHED)
    expect(section.locator("blockquote.claim")).to_contain_text("The explosions in the munitions depot in Vinnitsa")
    expect(section.locator(".debunk")).to_contain_text("Investigators named sabotage")
    expect(section.locator("a.debunk-link")).to_have_attribute("href", "https://debunk.example/vinnitsa")
    expect(section.locator("table.components")).to_contain_text("calibrated")
    left = section.locator("blockquote.sentence").bounding_box()
    right = section.locator("blockquote.claim").bounding_box()
    assert left and right and right["x"] > left["x"] + left["width"] - 1, "sentence and claim side by side"
    page.screenshot(path=str(ARTIFACTS / "claim-match.png"), full_page=True)

    # The claim database: search as you type, then the claim with the documents matched to it.
    page.click("header.top nav >> text=Claims")
    page.fill("#q", "explosions Vinnitsa depot")
    expect(page.locator("#claims-table th").first).to_have_text("Score")  # the ranked results arrived
    expect(page.locator("#claims-table tbody tr")).to_have_count(1)
    expect(page.locator(".pager")).to_contain_text("best matches")
    page.screenshot(path=str(ARTIFACTS / "claims.png"), full_page=True)
    page.click(f'#claims-table a[href="/claims/{made.claim_id}"]')
    expect(page.locator(f'a[href="/signals/{made.claim_signal_id}"]')).to_be_visible()

    # The cluster report opens on its own.
    page.goto(f"{live.url}/reports/clusters/{made.cluster_id}.html")
    expect(page.locator("h1")).to_contain_text("Troops to join border exercise")
    expect(page.locator("svg[aria-label='cluster timeline']")).to_be_visible()
    expect(page.locator(".aligned[data-mode='translation'] mark.anchor", has_text="Петров").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "cluster-report.png"), full_page=True)


def test_empty_cluster_and_claim_pages_say_what_to_do(page: Page, live: Live) -> None:
    login(page, live, "vic")
    expect(page.locator("#cluster-trends")).to_contain_text("fimiscope detect laundering")
    page.goto(f"{live.url}/clusters")
    expect(page.locator(".empty")).to_contain_text("No laundering clusters yet")
    page.goto(f"{live.url}/claims")
    expect(page.locator(".empty")).to_contain_text("fimiscope claims import")
