"""Incidents in a real browser: from a signal to an incident with a DISARM technique picked by
typing, a TLP, the audit log, and the STIX bundle downloaded from the editor."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect
from tests.web.ui_support import ARTIFACTS, Live, login

from fimiscope.store import signals as signal_store


def test_incident_from_a_signal_to_stix(page: Page, live: Live) -> None:
    login(page, live, "ana")
    page.goto(f"{live.url}/incidents")
    expect(page.locator("#incidents-empty")).to_contain_text("No incidents yet")
    page.screenshot(path=str(ARTIFACTS / "incidents-empty.png"), full_page=True)

    # From the signal's page: "Create incident" opens the form with the signal linked.
    sid = live.signal_ids[0]
    page.goto(f"{live.url}/signals/{sid}")
    page.click("#create-incident")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal=sig_"))
    expect(page.locator("#inc-title")).to_have_value("RT biolab story republished without attribution")
    expect(page.locator("#new-incident-signals li")).to_have_count(1)
    page.fill("#inc-title", "RT biolab story laundered through news-front")
    page.screenshot(path=str(ARTIFACTS / "incident-new.png"), full_page=True)
    page.click("#create-incident-submit")
    expect(page).to_have_url(re.compile(r"/incidents/inc_\w+$"))
    iid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#linked-signals a[href='/signals/" + sid + "']")).to_be_visible()

    # The DISARM picker: type words, pick with the mouse; type an id, pick with the keyboard.
    page.locator("#disarm-search").press_sequentially("hashtag", delay=30)
    first = page.locator("#disarm-results li.disarm-hit").first
    expect(first).to_contain_text("T0015")
    expect(first).to_contain_text("Create Hashtags and Search Artefacts")
    page.screenshot(path=str(ARTIFACTS / "incident-disarm-picker.png"), full_page=True)
    first.click()
    expect(page.locator("#techniques li.technique[data-id='T0015']")).to_contain_text("Develop Content")
    page.locator("#disarm-search").press_sequentially("T0049", delay=30)
    expect(page.locator("#disarm-results li.disarm-hit").first).to_contain_text("T0049")
    page.keyboard.press("Enter")
    expect(page.locator("#techniques li.technique")).to_have_count(2)
    expect(page).to_have_url(re.compile(rf"/incidents/{iid}$"))  # Enter picked, it did not submit the form

    # TLP, attribution, an actor and a channel; then save.
    page.check("#tlp-green")
    page.select_option("#att-confidence", "likely")
    page.fill("#att-actor", "Storm-1516")
    page.fill("#inc-threat-actors", "Storm-1516=CopyCop")
    page.fill("#inc-channels", "outlet:news-front.info")
    page.click("#save-incident")
    expect(page.locator("#incident-saved")).to_be_visible()
    expect(page.locator("#inc-tlp-badge")).to_have_text("TLP:GREEN")
    expect(page.locator("#techniques li.technique")).to_have_count(2)
    audit = page.locator("#audit-log tbody")
    expect(audit.locator("tr[data-field='techniques']")).to_contain_text("T0015")
    expect(audit.locator("tr[data-field='tlp']")).to_contain_text("green")
    expect(audit.locator("tr[data-field='tlp']")).to_contain_text("ana")
    page.screenshot(path=str(ARTIFACTS / "incident-editor.png"), full_page=True)
    stored = live.store.read(signal_store.get_signal, sid)
    assert stored.status.value == "escalated"

    # Remove a technique again.
    page.locator("#techniques li.technique[data-id='T0049'] button.remove").click()
    page.click("#save-incident")
    expect(page.locator("#techniques li.technique")).to_have_count(1)

    # Export STIX: the download is a bundle with the incident and the DISARM attack-pattern.
    with page.expect_download() as info:
        page.click("#export-stix")
    download = info.value
    assert download.suggested_filename == f"incident-{iid}.stix.json"
    bundle = json.loads(download.path().read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle"
    incidents = [o for o in bundle["objects"] if o["type"] == "incident"]
    assert [o["name"] for o in incidents] == ["RT biolab story laundered through news-front"]
    patterns = [o for o in bundle["objects"] if o["type"] == "attack-pattern"]
    assert [p["external_references"][0]["external_id"] for p in patterns] == ["T0015"]
    assert any(o["type"] == "relationship" and o["relationship_type"] == "uses" for o in bundle["objects"])

    # Back on the signal's page, the incident is listed.
    page.goto(f"{live.url}/signals/{sid}")
    expect(page.locator(f"#signal-incident-list a[href='/incidents/{iid}']")).to_be_visible()
    expect(page.locator("#signal-incident-list")).to_contain_text("TLP:GREEN")

    # The report opens with its TLP marking.
    page.goto(f"{live.url}/reports/incidents/{iid}.html")
    expect(page.locator("#tlp-marking")).to_contain_text("TLP:GREEN")
    page.screenshot(path=str(ARTIFACTS / "incident-report.png"), full_page=True)

    page.goto(f"{live.url}/incidents")
    expect(page.locator("#incidents-table tbody tr")).to_have_count(1)
    expect(page.locator("#incidents-table")).to_contain_text("TLP:GREEN")
    page.screenshot(path=str(ARTIFACTS / "incidents.png"), full_page=True)


def test_new_incident_from_the_triage_queue_and_read_only_viewer(page: Page, live: Live) -> None:
    login(page, live, "ana")
    page.goto(f"{live.url}/triage")
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(3)
    rows.nth(0).locator(".pick").check()
    rows.nth(1).locator(".pick").check()
    page.click("#incident-from-selected")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal=sig_\w+&signal=sig_\w+$"))
    expect(page.locator("#new-incident-signals li")).to_have_count(2)
    page.check("#tlp-red")
    page.screenshot(path=str(ARTIFACTS / "incident-new-from-triage.png"), full_page=True)
    page.click("#create-incident-submit")
    expect(page).to_have_url(re.compile(r"/incidents/inc_\w+$"))
    expect(page.locator("#inc-tlp-badge")).to_have_text("TLP:RED")
    expect(page.locator("#linked-signals li")).to_have_count(2)
    url = page.url

    # The keyboard: n on the queue opens the form for the current row.
    page.goto(f"{live.url}/triage?status=all")
    page.keyboard.press("j")
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/incidents/new\?signal=sig_\w+$"))
    expect(page.locator("#new-incident-signals li")).to_have_count(1)

    page.click("form[action='/logout'] button")
    login(page, live, "vic")
    page.goto(url)
    expect(page.locator("#read-only-note")).to_be_visible()
    expect(page.locator("#inc-title")).to_be_disabled()
    expect(page.locator("#disarm-search")).to_have_count(0)
    expect(page.locator("#save-incident")).to_have_count(0)
    expect(page.locator("#export-stix")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "incident-viewer.png"), full_page=True)
