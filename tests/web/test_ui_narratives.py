"""Narratives in a real browser: the detector runs on the demo's planted narratives in the live
store; the list shows the surge, the narrative page draws its timelines by tier and language,
highlights the carrying sentences, names the origin and the laundering clusters and coordinated
groups that carry it; the editor defines a new narrative and
an emerging one is promoted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.web.conftest import serving
from tests.web.ui_support import ARTIFACTS, PASSWORD, Live, login

from fimiscope import pipeline
from fimiscope.demo.scenario import build_scenario
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import narratives as db
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import users as user_store


@pytest.fixture
def narrative_live(tmp_path: Path) -> Iterator[Live]:
    """Only the demo's scenario (its newest day is "this week" for the list), served."""
    store = Store.open(None, tmp_path / "data")
    user_store.add_user(store, "ana", PASSWORD, "analyst")
    try:
        with serving(store, tmp_path / "data") as url:
            yield Live(url=url, store=store, doc_ids=[], signal_ids=[])
    finally:
        store.close()


def _plant(live: Live) -> dict[str, str]:
    s = build_scenario(seed=7, scale=0.05)
    for src in s.sources:
        live.store.write(source_store.add_source, src, replace=True)
    live.store.write(document_store.upsert_documents, s.documents)
    live.store.write(db.define_known, s.truth["narratives"]["known"], origin="demo")
    pipeline.run(live.store, only=["detect.laundering", "detect.coordination", "detect.narratives",
                                   "detect.narrative_signals"])
    with live.store.connect() as conn:
        known = db.list_narratives(conn, kind="known")[0]
        candidates = db.list_narratives(conn, kind="candidate")
        surging = [r for r in candidates if r["surge"] and r["surge"] > 5]
        # a story the laundering network copies and the coordinated accounts push: both carry it
        carried = max(candidates, key=lambda r: (len(db.related_groups(conn, r["id"])),
                                                 len(db.related_clusters(conn, r["id"])), r["id"]))
        assert db.related_groups(conn, carried["id"]) and db.related_clusters(conn, carried["id"])
    return {"known": known["id"], "surging": surging[0]["id"], "carried": carried["id"]}


def test_narrative_pages_in_chromium(page: Page, narrative_live: Live) -> None:
    live = narrative_live
    made = _plant(live)
    login(page, live)

    # The overview: the most active narratives per day, the surging one among them, each linked.
    expect(page.locator("#chart-narrative-trends svg")).to_be_visible()
    links = page.locator("#narrative-trend-links")
    expect(links.locator(f'a[href="/narratives/{made["surging"]}"]')).to_have_count(1)
    page.locator("#narrative-trends").screenshot(path=str(ARTIFACTS / "overview-narrative-trends.png"))

    page.click("header.top nav >> text=Narratives")
    expect(page).to_have_url(re.compile(r"/narratives$"))
    table = page.locator("#narrative-table")
    expect(table).to_contain_text("Sanctions hurt Europe more than Russia")
    surging = table.locator(f'tr[data-href="/narratives/{made["surging"]}"]')
    expect(surging).to_contain_text("×")
    page.screenshot(path=str(ARTIFACTS / "narratives.png"), full_page=True)

    # The surging narrative's page lists its bursts and names the method.
    page.goto(f"{live.url}/narratives/{made['surging']}")
    expect(page.locator("#narrative-bursts li").first).to_contain_text("documents")
    expect(page.locator("#narrative-burst-method")).to_contain_text("Kleinberg two-state burst automaton")
    page.goto(f"{live.url}/narratives")

    # The known narrative: both timelines drawn (ECharts SVG), origin at the ministry, carrying sentences marked.
    page.click(f'a[href="/narratives/{made["known"]}"]')
    expect(page).to_have_url(re.compile(f"/narratives/{made['known']}$"))
    expect(page.locator("#narrative-tiers svg")).to_be_visible()
    expect(page.locator("#narrative-languages svg")).to_be_visible()
    expect(page.locator("#narrative-tiers")).to_contain_text("official state")
    expect(page.locator("#narrative-languages")).to_contain_text("cs")
    expect(page.locator("#narrative-origin")).to_contain_text("ministry-press.example")
    marks = page.locator("#narrative-documents mark.carrying")
    expect(marks.first).to_be_visible()
    assert "anction" in " ".join(marks.all_inner_texts()) or "анкци" in " ".join(marks.all_inner_texts())
    expect(page.locator(".siglist")).to_contain_text("reached independent outlets")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(ARTIFACTS / "narrative.png"), full_page=True)

    # Who carries a narrative: the laundering clusters holding its documents and the coordinated
    # groups whose accounts published them, each linked to its page.
    page.goto(f"{live.url}/narratives/{made['carried']}")
    with live.store.connect() as conn:
        groups = db.related_groups(conn, made["carried"])
        clusters = db.related_clusters(conn, made["carried"])
    shown = page.locator("#narrative-groups li")
    expect(shown).to_have_count(len(groups))
    expect(page.locator("#narrative-groups")).to_contain_text("telegram:truth_hub_")
    expect(page.locator("#narrative-clusters li")).to_have_count(len(clusters))
    page.screenshot(path=str(ARTIFACTS / "narrative-carriers.png"), full_page=True)
    page.click(f'#narrative-groups a[href="/coordination/{groups[0]["id"]}"]')
    expect(page).to_have_url(re.compile(f"/coordination/{groups[0]['id']}$"))
    expect(page.locator("h1")).to_contain_text(f"{groups[0]['size']} accounts")

    # The editor: define a narrative; a bad one (no name) is refused with the form kept.
    page.goto(f"{live.url}/narratives/new")
    page.fill("input[name=description]" if page.locator("input[name=description]").count() else
              "textarea[name=description]", "Claims that aid weapons end up with smugglers.")
    page.fill("textarea[name=examples]", "Donated rifles are resold by smugglers.")
    page.locator("input[name=name]").evaluate("e => e.removeAttribute('required')")
    page.click("#narrative-form button")
    expect(page.locator("p.error")).to_be_visible()
    expect(page.locator("textarea[name=examples]")).to_have_value("Donated rifles are resold by smugglers.")
    page.fill("input[name=name]", "Aid weapons are resold")
    page.click("#narrative-form button")
    expect(page).to_have_url(re.compile(r"/narratives/nar_[0-9A-Z]+\?saved=1$"))
    expect(page.locator("#narrative-name")).to_have_text("Aid weapons are resold")

    # Promote the surging emerging narrative: same id, now known, lineage says so.
    page.goto(f"{live.url}/narratives/{made['surging']}")
    page.fill("#narrative-promote input[name=name]", "Western weapons resold (promoted)")
    page.click("#narrative-promote button")
    expect(page).to_have_url(re.compile(f"/narratives/{made['surging']}\\?saved=1$"))
    expect(page.locator("#narrative-name")).to_have_text("Western weapons resold (promoted)")
    expect(page.locator("#narrative-lineage")).to_contain_text("promoted")

    # Link the known narrative to an incident: the incident names it (and its STIX export carries it).
    from fimiscope.cases import disarm
    from fimiscope.core.model import Incident
    from fimiscope.store.cases import IncidentStore

    inc = IncidentStore(live.store).create(Incident(title="Sanctions campaign", tlp="amber"), "ana")
    disarm.taxonomy(live.store)  # loaded once per process: not inside the click's 30 s on a busy machine
    page.goto(f"{live.url}/narratives/{made['known']}")
    page.select_option("#narrative-link select[name=incident]", inc.id)
    page.click("#narrative-link button", timeout=120_000)
    expect(page).to_have_url(re.compile(f"/narratives/{made['known']}\\?saved=1$"), timeout=120_000)
    assert IncidentStore(live.store).get(inc.id or "").narratives == ["Sanctions hurt Europe more than Russia"]

    # Create an incident from the narrative's signals (its state origin reaching independents):
    # the form arrives with them, and the new incident holds them, escalated out of triage.
    page.click("#narrative-create-incident")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal=sig_"))
    expect(page.locator("#new-incident-signals")).to_contain_text("narrative_reach")
    page.click("#create-incident-submit", timeout=120_000)
    expect(page).to_have_url(re.compile(r"/incidents/inc_[0-9A-Za-z]+$"), timeout=120_000)
    created = IncidentStore(live.store).get(page.url.rsplit("/", 1)[-1])
    with live.store.connect() as conn:
        linked = [signal_store.get_signal(conn, sid) for sid in created.signal_ids]
    assert linked and all(s.type.startswith("narrative_") and s.status == "escalated" for s in linked)
    assert "narrative_reach" in {s.type for s in linked}
