"""The analyst's whole path on the demo data, in a real browser: log in, triage a laundering
signal with the keyboard, open its cluster, turn the cluster into an incident with a DISARM
technique and a TLP, and download the STIX bundle a partner would receive."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect
from stix2validator import ValidationOptions, validate_instance
from tests.web.ui_support import ARTIFACTS, PASSWORD, Live

from fimiscope.store import signals as signal_store


def test_from_a_demo_signal_to_a_shared_incident(page: Page, demo_live: Live) -> None:
    url = demo_live.url
    page.goto(f"{url}/triage?type=laundering")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=name]", "ana")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/triage\?type=laundering$"))
    page.wait_for_load_state("load")  # the keyboard handlers are attached once the scripts ran

    # Triage: the strongest laundering signal is current; move down and back, confirm it.
    rows = page.locator("#queue-table tbody tr")
    expect(rows.first).to_have_class(re.compile("current"))
    assert rows.count() >= 2
    signal_id = rows.first.get_attribute("data-id")
    assert signal_id
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("current"))
    page.keyboard.press("k")
    page.keyboard.press("c")
    expect(rows.first.locator(".st")).to_have_text("confirmed")
    assert demo_live.store.read(signal_store.get_signal, signal_id).status.value == "confirmed"
    page.screenshot(path=str(ARTIFACTS / "flow-1-triage.png"), full_page=True)

    # The signal (c moved the cursor on; k comes back), then its laundering cluster: timeline
    # and chain graph drawn.
    expect(rows.nth(1)).to_have_class(re.compile("current"))
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/signals/{signal_id}$"))
    page.click("#open-cluster")
    expect(page).to_have_url(re.compile(r"/clusters/clu_\w+$"))
    expect(page.locator("#cluster-timeline svg, #cluster-timeline canvas").first).to_be_attached()
    expect(page.locator("#cluster-graph canvas").first).to_be_attached()
    page.screenshot(path=str(ARTIFACTS / "flow-2-cluster.png"), full_page=True)

    # An incident from the cluster's signals, with a DISARM technique picked by typing.
    page.click("#cluster-create-incident")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal="))
    assert page.locator("#new-incident-signals li").count() >= 1
    page.fill("#inc-title", "Demo: state outlet story laundered through look-alike sites")
    page.check("#tlp-amber")
    page.click("#create-incident-submit")
    expect(page).to_have_url(re.compile(r"/incidents/inc_\w+$"))
    incident_id = page.url.rsplit("/", 1)[1]
    page.locator("#disarm-search").press_sequentially("hashtag", delay=30)
    hit = page.locator("#disarm-results li.disarm-hit").first
    expect(hit).to_contain_text("T0015")
    hit.click()
    expect(page.locator("#techniques li.technique[data-id='T0015']")).to_be_visible()
    page.select_option("#att-confidence", "likely")
    page.click("#save-incident")
    expect(page.locator("#incident-saved")).to_be_visible()
    expect(page.locator("#inc-tlp-badge")).to_have_text("TLP:AMBER")
    expect(page.locator("#audit-log tbody tr[data-field='techniques']")).to_contain_text("T0015")
    page.screenshot(path=str(ARTIFACTS / "flow-3-incident.png"), full_page=True)

    # Export: a valid STIX 2.1 bundle with the incident, the technique and the TLP marking.
    with page.expect_download() as info:
        page.click("#export-stix")
    bundle = json.loads(info.value.path().read_text(encoding="utf-8"))
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    objects = bundle["objects"]
    (incident,) = [o for o in objects if o["type"] == "incident"]
    assert incident["name"] == "Demo: state outlet story laundered through look-alike sites"
    assert [p["external_references"][0]["external_id"] for p in objects if p["type"] == "attack-pattern"] == ["T0015"]
    amber = [o["id"] for o in objects if o["type"] == "marking-definition" and "amber" in json.dumps(o).lower()]
    assert amber and set(amber) & set(incident.get("object_marking_refs", []))
    assert demo_live.store.read(signal_store.get_signal, signal_id).status.value in {"confirmed", "escalated"}
    assert incident_id
