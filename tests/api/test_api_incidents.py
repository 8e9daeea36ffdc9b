"""Incidents over REST and through the web forms, on the real app and a real store (SQLite and
PostgreSQL): roles, CSRF, validation, the audit log, the DISARM search and STIX exports."""

from __future__ import annotations

import json
import re
from typing import Any

from stix2validator import ValidationOptions, validate_instance
from tests.api.api_support import Seeded
from tests.api.cluster_support import make_cluster_and_claim

from fimiscope.share.markings import TLP2_IDS
from fimiscope.store import signals as signal_store
from fimiscope.store import users as user_store

FULL = {
    "title": "Biolab story laundered through mirrors",
    "summary": "The RT paragraph reappears without attribution.",
    "tlp": "green",
    "techniques": ["T0049", "T0049.001"],
    "actors": [{"name": "Storm-1516", "kind": "threat-actor", "aliases": ["CopyCop"]},
               {"name": "Portal Kombat", "kind": "intrusion-set"}],
    "channels": [{"kind": "outlet", "value": "rt.com"},
                 {"kind": "account", "value": "telegram:rybar", "amplifies": ["outlet:rt.com"]},
                 {"kind": "domain", "value": "example-news.org"}],
    "narratives": ["Secret biolabs in Ukraine"],
    "attribution": {"actor": "Storm-1516", "confidence": "likely", "source_reliability": "B",
                    "information_credibility": "2", "statement": "Same infrastructure as earlier waves."},
    "first_seen": "2026-11-01",
    "impact": "Picked up by two outlets.",
}


def _post(c: Any, path: str, body: dict[str, Any]) -> Any:
    return c.http.post(path, json=body, headers={"X-CSRF-Token": c.csrf})


def _patch(c: Any, path: str, body: dict[str, Any]) -> Any:
    return c.http.request("PATCH", path, json=body, headers={"X-CSRF-Token": c.csrf})


def _problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["status"] == status and "\n" not in body["detail"]
    return body


def test_create_from_signals_read_list_and_audit(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    resp = _post(ana, "/api/incidents", {**FULL, "signal_ids": seeded.signal_ids[:2]})
    assert resp.status_code == 201, resp.text
    inc = resp.json()
    assert inc["id"].startswith("inc_") and inc["created_by"] == "ana" and inc["status"] == "open"
    assert inc["tlp"] == "green" and inc["techniques"] == ["T0049", "T0049.001"]
    assert inc["signal_ids"] == sorted(seeded.signal_ids[:2])
    assert inc["attribution"]["admiralty"] == "B2" and inc["attribution"]["confidence"] == "likely"
    assert {(a["kind"], a["name"]) for a in inc["actors"]} == {("threat-actor", "Storm-1516"),
                                                               ("intrusion-set", "Portal Kombat")}
    rybar = next(ch for ch in inc["channels"] if ch["value"] == "telegram:rybar")
    assert rybar["amplifies"] == ["outlet:rt.com"]
    assert inc["first_seen"].startswith("2026-11-01") and "DISARM" in inc["disarm_version"]
    # Linking escalates the signals, as on the command line.
    assert seeded.store.read(signal_store.get_signal, seeded.signal_ids[0]).status.value == "escalated"

    vic = client_factory("vic")
    assert vic.http.get(f"/api/incidents/{inc['id']}").json() == inc
    page = vic.http.get("/api/incidents").json()
    assert set(page) == {"items", "total", "limit", "offset", "next_offset"}
    assert page["total"] == 1 and page["items"][0]["id"] == inc["id"]

    audit = vic.http.get(f"/api/incidents/{inc['id']}/audit").json()
    assert [(a["action"], a["who"]) for a in audit["items"]] == [("create", "ana")] + [("link-signal", "ana")] * 2
    assert set(audit["items"][0]) == {"at", "who", "action", "field", "old", "new"}


def test_patch_replaces_fields_and_audits_each(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    iid = _post(ana, "/api/incidents", FULL).json()["id"]
    resp = _patch(ana, f"/api/incidents/{iid}", {
        "status": "investigating", "tlp": "TLP:AMBER+STRICT", "techniques": ["T0049.001"],
        "attribution": {"confidence": "very likely"}, "narratives": [],
    })
    assert resp.status_code == 200, resp.text
    inc = resp.json()
    assert inc["status"] == "investigating" and inc["tlp"] == "amber+strict"
    assert inc["techniques"] == ["T0049.001"] and inc["narratives"] == []
    # attribution merges by field: the actor and grades stay.
    assert inc["attribution"]["confidence"] == "very likely" and inc["attribution"]["actor"] == "Storm-1516"
    assert inc["attribution"]["admiralty"] == "B2"
    audit = ana.http.get(f"/api/incidents/{iid}/audit").json()["items"]
    changed = {a["field"]: (a["old"], a["new"]) for a in audit if a["action"] == "update"}
    assert set(changed) == {"status", "tlp", "techniques", "attribution", "narratives"}
    assert changed["tlp"] == ("green", "amber+strict")
    assert changed["techniques"] == (["T0049", "T0049.001"], ["T0049.001"])
    # The same values again change nothing and write no audit row.
    _patch(ana, f"/api/incidents/{iid}", {"status": "investigating"})
    assert len(ana.http.get(f"/api/incidents/{iid}/audit").json()["items"]) == len(audit)

    link = _post(ana, f"/api/incidents/{iid}/signals", {"signal_ids": [seeded.signal_ids[2], seeded.signal_ids[2]]})
    assert link.status_code == 200 and link.json()["signal_ids"] == [seeded.signal_ids[2]]
    again = _post(ana, f"/api/incidents/{iid}/signals", {"signal_ids": [seeded.signal_ids[2]]})
    assert again.json()["signal_ids"] == [seeded.signal_ids[2]]


def test_filters_and_pages(client_factory) -> None:
    ana = client_factory("ana")
    for i, (status, tlp) in enumerate([("open", "red"), ("closed", "green"), ("open", "green")]):
        assert _post(ana, "/api/incidents", {"title": f"inc {i}", "status": status, "tlp": tlp}).status_code == 201
    assert ana.http.get("/api/incidents?status=open").json()["total"] == 2
    greens = ana.http.get("/api/incidents", params={"tlp": "TLP:GREEN"}).json()
    assert greens["total"] == 2 and {i["tlp"] for i in greens["items"]} == {"green"}
    first = ana.http.get("/api/incidents?limit=2").json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2 and first["total"] == 3
    rest = ana.http.get("/api/incidents?limit=2&offset=2").json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert first["items"][0]["title"] == "inc 2"  # most recently changed first
    _problem(ana.http.get("/api/incidents?tlp=purple"), 422)
    _problem(ana.http.get("/api/incidents?status=done"), 422)


def test_validation_errors_are_one_line_problems(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    cases = [
        ({"title": "  "}, "title"),
        ({"title": "x", "tlp": "purple"}, "TLP"),
        ({"title": "x", "status": "done"}, "status"),
        ({"title": "x", "techniques": ["T9999"]}, "DISARM"),
        ({"title": "x", "techniques": ["C00006"]}, "not a technique"),
        ({"title": "x", "attribution": {"confidence": "pretty sure"}}, "estimative"),
        ({"title": "x", "attribution": {"source_reliability": "Z"}}, "Admiralty"),
        ({"title": "x", "channels": [{"kind": "forum", "value": "x"}]}, "channel"),
        ({"title": "x", "actors": [{"name": "A", "kind": "gang"}]}, "actor kind"),
        ({"title": "x", "first_seen": "2026-11-05", "last_seen": "2026-11-01"}, "before"),
        ({"title": "x", "signal_ids": ["sig_nope"]}, "sig_nope"),
        ({"title": "x", "colour": "red"}, "colour"),
        ({}, "title"),
    ]
    for body, words in cases:
        problem = _problem(_post(ana, "/api/incidents", body), 422)
        assert words.lower() in problem["detail"].lower(), (body, problem)
    assert ana.http.get("/api/incidents").json()["total"] == 0  # nothing half-made

    iid = _post(ana, "/api/incidents", {"title": "ok"}).json()["id"]
    _problem(_patch(ana, f"/api/incidents/{iid}", {"title": ""}), 422)
    _problem(_patch(ana, f"/api/incidents/{iid}", {"tlp": None}), 422)
    _problem(_post(ana, f"/api/incidents/{iid}/signals", {"signal_ids": ["sig_nope"]}), 422)
    _problem(_post(ana, f"/api/incidents/{iid}/signals", {"signal_ids": []}), 422)
    assert ana.http.get(f"/api/incidents/{iid}").json()["title"] == "ok"
    _problem(ana.http.get("/api/incidents/inc_nope"), 404)
    _problem(_patch(ana, "/api/incidents/inc_nope", {"title": "x"}), 404)
    _problem(ana.http.get("/api/incidents/inc_nope/stix"), 404)


def test_roles_and_csrf(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    iid = _post(ana, "/api/incidents", {"title": "mine"}).json()["id"]
    vic = client_factory("vic")
    assert vic.http.get(f"/api/incidents/{iid}").status_code == 200
    _problem(_post(vic, "/api/incidents", {"title": "no"}), 403)
    _problem(_patch(vic, f"/api/incidents/{iid}", {"title": "no"}), 403)
    _problem(_post(vic, f"/api/incidents/{iid}/signals", {"signal_ids": seeded.signal_ids[:1]}), 403)
    _problem(vic.http.post("/incidents", data={"title": "no", "status": "open", "tlp": "amber",
                                               "csrf_token": vic.csrf}), 403)
    # A session request without the CSRF token is refused, JSON and form alike.
    _problem(ana.http.post("/api/incidents", json={"title": "no"}), 403)
    _problem(ana.http.request("PATCH", f"/api/incidents/{iid}", json={"title": "no"}), 403)
    assert ana.http.post(f"/incidents/{iid}", data={"title": "no", "csrf_token": "wrong"}).status_code == 403
    assert ana.http.get(f"/api/incidents/{iid}").json()["title"] == "mine"
    # Without a user at all: 401.
    anon = client_factory()
    assert anon.http.get("/api/incidents").status_code == 401
    assert anon.http.get("/api/disarm?q=hashtag").status_code == 401
    # A bearer token needs no CSRF token.
    _id, token = user_store.create_token(seeded.store, "ana")
    resp = anon.http.post("/api/incidents", json={"title": "by token"}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201 and resp.json()["created_by"] == "ana"


def test_disarm_search_for_the_picker(client_factory) -> None:
    vic = client_factory("vic")
    body = vic.http.get("/api/disarm", params={"q": "hashtag"}).json()
    assert body["items"] and "DISARM" in body["disarm_version"]
    first = body["items"][0]
    assert set(first) == {"id", "name", "tactic", "kind", "parent", "url", "description"}
    assert "hashtag" in first["name"].lower() and first["kind"] in ("technique", "sub-technique")
    one = vic.http.get("/api/disarm", params={"q": "T0049"}).json()["items"]
    assert one[0]["id"] == "T0049" and one[0]["tactic"]
    assert all(i["id"].startswith("T0049") for i in one)
    listing = vic.http.get("/api/disarm?limit=5").json()
    assert len(listing["items"]) == 5 and listing["total"] > 200 and listing["next_offset"] == 5
    assert vic.http.get("/api/disarm", params={"q": "zzzqqq"}).json()["items"] == []
    _problem(vic.http.get("/api/disarm", params={"q": "!!"}), 422)


def _valid(bundle: dict[str, Any]) -> None:
    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for r in result.object_results for e in r.errors]


def test_stix_exports_validate(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    inc = _post(ana, "/api/incidents", {**FULL, "signal_ids": seeded.signal_ids[:1]}).json()
    other = _post(ana, "/api/incidents", {"title": "Second", "tlp": "red", "techniques": ["T0085"]}).json()
    vic = client_factory("vic")
    resp = vic.http.get(f"/api/incidents/{inc['id']}/stix")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/stix+json;version=2.1"
    assert resp.headers["content-disposition"] == f'attachment; filename="incident-{inc["id"]}.stix.json"'
    bundle = resp.json()
    _valid(bundle)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in bundle["objects"]:
        by_type.setdefault(obj["type"], []).append(obj)
    assert [i["name"] for i in by_type["incident"]] == [FULL["title"]]
    assert by_type["incident"][0]["id"] == inc["stix_id"]
    ids = {a["external_references"][0]["external_id"] for a in by_type["attack-pattern"]}
    assert ids == {"T0049", "T0049.001"}
    assert TLP2_IDS["green"] in by_type["incident"][0]["object_marking_refs"]
    assert "sighting" in by_type and "threat-actor" in by_type

    same = vic.http.get("/api/exports/stix", params={"incident": inc["id"]})
    assert same.headers["content-type"] == "application/stix+json;version=2.1"
    assert {o["id"] for o in same.json()["objects"]} == {o["id"] for o in bundle["objects"]}
    everything = vic.http.get("/api/exports/stix")
    assert 'filename="fimiscope-incidents.stix.json"' in everything.headers["content-disposition"]
    _valid(everything.json())
    names = {o["name"] for o in everything.json()["objects"] if o["type"] == "incident"}
    assert names == {FULL["title"], other["title"]}
    _problem(vic.http.get("/api/exports/stix", params={"incident": "inc_nope"}), 404)


def test_openapi_documents_the_endpoints(client_factory) -> None:
    spec = client_factory("vic").http.get("/api/openapi.json").json()
    for path in ("/api/incidents", "/api/incidents/{incident_id}", "/api/incidents/{incident_id}/signals",
                 "/api/incidents/{incident_id}/audit", "/api/incidents/{incident_id}/stix", "/api/exports/stix",
                 "/api/disarm"):
        assert path in spec["paths"], path
    assert "patch" in spec["paths"]["/api/incidents/{incident_id}"]


# -- the web forms -----------------------------------------------------------------------------


def test_web_forms_create_edit_and_link(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    sid = seeded.signal_ids[0]
    new = ana.http.get(f"/incidents/new?signal={sid}")
    assert new.status_code == 200 and "RT biolab story copied without attribution" in new.text
    assert f'name="signal_ids" value="{sid}"' in new.text and 'name="csrf_token"' in new.text
    resp = ana.http.post("/incidents", data={"title": "From the form", "summary": "s", "status": "open",
                                             "tlp": "amber+strict", "signal_ids": sid, "csrf_token": ana.csrf})
    assert resp.status_code == 303
    iid = resp.headers["location"].rsplit("/", 1)[1]
    inc = ana.http.get(f"/api/incidents/{iid}").json()
    assert inc["tlp"] == "amber+strict" and inc["signal_ids"] == [sid]

    page = ana.http.get(f"/incidents/{iid}")
    assert page.status_code == 200 and 'id="disarm-search"' in page.text and "TLP:AMBER+STRICT" in page.text
    form = _form_fields(page.text)
    form.update({"tlp": "red", "techniques": ["T0049", "T0085"], "threat_actors": "Storm-1516=CopyCop",
                 "channels": "outlet:rt.com\naccount:telegram:rybar",
                 "amplifications": "account:telegram:rybar>outlet:rt.com",
                 "confidence": "likely", "attribution_actor": "Storm-1516"})
    saved = ana.http.post(f"/incidents/{iid}", data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    inc = ana.http.get(f"/api/incidents/{iid}").json()
    assert inc["tlp"] == "red" and inc["techniques"] == ["T0049", "T0085"]
    assert inc["actors"] == [{"name": "Storm-1516", "kind": "threat-actor", "aliases": ["CopyCop"],
                              "description": "", "id": None}]
    assert next(c for c in inc["channels"] if c["kind"] == "account")["amplifies"] == ["outlet:rt.com"]
    assert inc["attribution"]["actor"] == "Storm-1516" and inc["attribution"]["confidence"] == "likely"
    fields = [a["field"] for a in ana.http.get(f"/api/incidents/{iid}/audit").json()["items"] if a["field"]]
    assert sorted(f for f in fields if f != "signals") == ["actors", "attribution", "channels", "techniques", "tlp"]

    # Saving the editor untouched writes nothing to the audit log.
    before = len(fields)
    untouched = _form_fields(ana.http.get(f"/incidents/{iid}").text)
    assert ana.http.post(f"/incidents/{iid}", data=untouched).status_code == 303
    assert len([a for a in ana.http.get(f"/api/incidents/{iid}/audit").json()["items"] if a["field"]]) == before

    # Bad input: the editor comes back with the error and what was typed; nothing is stored.
    bad = _form_fields(ana.http.get(f"/incidents/{iid}").text)
    bad.update({"title": "Renamed", "channels": "forum:x"})
    resp = ana.http.post(f"/incidents/{iid}", data=bad)
    assert resp.status_code == 422 and "forum:x" in resp.text and 'id="incident-error"' in resp.text
    assert 'value="Renamed"' in resp.text
    assert ana.http.get(f"/api/incidents/{iid}").json()["title"] == "From the form"

    # Someone saves while this form is open: saving the stale form is refused, the edits kept.
    stale = _form_fields(ana.http.get(f"/incidents/{iid}").text)
    _patch(client_factory("ana"), f"/api/incidents/{iid}", {"summary": "changed meanwhile"})
    stale.update({"title": "Mine"})
    resp = ana.http.post(f"/incidents/{iid}", data=stale)
    assert resp.status_code == 409 and "someone changed this incident" in resp.text and 'value="Mine"' in resp.text
    assert ana.http.get(f"/api/incidents/{iid}").json()["title"] == "From the form"
    again = _form_fields(resp.text)
    assert ana.http.post(f"/incidents/{iid}", data=again).status_code == 303  # knowingly, over theirs
    after = ana.http.get(f"/api/incidents/{iid}").json()
    assert after["title"] == "Mine" and after["summary"] == "s"

    link = ana.http.post(f"/incidents/{iid}/signals", data={"signal_ids": seeded.signal_ids[1], "csrf_token": ana.csrf})
    assert link.status_code == 303
    page = ana.http.get(f"/incidents/{iid}").text
    assert f'href="/signals/{seeded.signal_ids[1]}"' in page and 'id="audit-log"' in page

    # The signal's page lists the incidents it is part of.
    frag = ana.http.get(f"/signals/{seeded.signal_ids[1]}/incidents").text
    assert f'href="/incidents/{iid}"' in frag and "TLP:RED" in frag
    assert "Not part of an incident yet" in ana.http.get(f"/signals/{seeded.signal_ids[2]}/incidents").text

    vic = client_factory("vic")
    ro = vic.http.get(f"/incidents/{iid}").text
    assert 'id="read-only-note"' in ro and 'id="save-incident"' not in ro and "<fieldset class=\"plain\" disabled" in ro
    assert vic.http.get("/incidents/new").status_code == 403


def test_incident_from_a_laundering_cluster(client_factory, seeded: Seeded) -> None:
    made = make_cluster_and_claim(seeded.store)
    ana = client_factory("ana")
    page = ana.http.get(f"/clusters/{made.cluster_id}").text
    link = re.search(r'id="cluster-create-incident" href="([^"]+)"', page)
    assert link, "the cluster page offers Create incident"
    form = ana.http.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200 and f'name="signal_ids" value="{made.laundering_signal_id}"' in form.text
    assert 'id="cluster-create-incident"' not in client_factory("vic").http.get(f"/clusters/{made.cluster_id}").text


def test_incident_list_page(client_factory) -> None:
    ana = client_factory("ana")
    empty = ana.http.get("/incidents")
    assert empty.status_code == 200 and 'id="incidents-empty"' in empty.text and "No incidents yet" in empty.text
    assert 'href="/incidents"' in empty.text  # in the menu
    _post(ana, "/api/incidents", {"title": "Red one", "tlp": "red"})
    _post(ana, "/api/incidents", {"title": "Green one", "tlp": "green", "status": "closed"})
    page = ana.http.get("/incidents").text
    assert "Red one" in page and "Green one" in page and "TLP:RED" in page
    only = ana.http.get("/incidents?tlp=green").text
    assert "Green one" in only and "Red one" not in only
    none = ana.http.get("/incidents?status=investigating").text
    assert "No incident matches these filters" in none


def test_incident_report(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    inc = _post(ana, "/api/incidents", {**FULL, "tlp": "amber+strict", "signal_ids": seeded.signal_ids[:2]}).json()
    vic = client_factory("vic")
    resp = vic.http.get(f"/reports/incidents/{inc['id']}.html")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert html.count("TLP:AMBER+STRICT") >= 3 and 'id="tlp-marking"' in html
    assert "<svg" in html and "scores of the linked signals" in html
    assert "T0049.001" in html and "Storm-1516" in html and "RT biolab story copied without attribution" in html
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)  # self-contained
    dl = vic.http.get(f"/reports/incidents/{inc['id']}.html?download=1")
    assert dl.headers["content-disposition"] == f'attachment; filename="incident-{inc["id"]}.html"'
    pdf = vic.http.get(f"/reports/incidents/{inc['id']}.pdf")
    if pdf.status_code == 501:
        assert pdf.headers["content-type"] == "application/problem+json" and "Chromium" in pdf.json()["detail"]
    else:
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert vic.http.get("/reports/incidents/inc_nope.html").status_code == 404


def _form_fields(html: str) -> dict[str, Any]:
    """What the browser would post from #incident-form: inputs, selects, textareas, chips."""
    form = html[html.index('id="incident-form"'):html.index("</form>", html.index('id="incident-form"'))]
    out: dict[str, Any] = {"techniques": []}
    for m in re.finditer(r"<input([^>]*)>", form):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        name = attrs.get("name")
        if not name or (attrs.get("type") == "radio" and "checked" not in m.group(1)):
            continue
        if name == "techniques":
            out["techniques"].append(attrs.get("value", ""))
        else:
            out[name] = _unescape(attrs.get("value", ""))
    for m in re.finditer(r'<textarea[^>]*name="(\w+)"[^>]*>(.*?)</textarea>', form, re.S):
        out[m.group(1)] = _unescape(m.group(2))
    for m in re.finditer(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', form, re.S):
        sel = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)</option>', m.group(2))
        out[m.group(1)] = (sel.group(1) if sel.group(1) is not None else sel.group(2)) if sel else ""
    return out


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_form_parser_sees_every_field(client_factory, seeded: Seeded) -> None:
    ana = client_factory("ana")
    iid = _post(ana, "/api/incidents", FULL).json()["id"]
    fields = _form_fields(ana.http.get(f"/incidents/{iid}").text)
    assert fields["tlp"] == "green" and fields["techniques"] == ["T0049", "T0049.001"]
    assert fields["confidence"] == "likely" and fields["source_reliability"] == "B"
    assert json.dumps(fields)  # plain data


def test_hostile_text_is_escaped_on_every_new_page(client_factory, seeded: Seeded) -> None:
    """Titles, claims and actor names come from imports and partners: markup in them must
    reach the browser as text on the incident, cluster and claim pages and in the report."""
    from fimiscope.core.model import Claim
    from fimiscope.store.claims import add_claim

    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ana = client_factory("ana")
    made = _post(ana, "/api/incidents", {"title": evil, "summary": evil, "narratives": [evil],
                                          "actors": [{"name": evil, "kind": "threat-actor"}]})
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    claim = add_claim(seeded.store, Claim(text=f"{evil} secret biolabs produce weapons", title=evil))
    cluster = make_cluster_and_claim(seeded.store)
    for path in (f"/incidents/{iid}", "/incidents", f"/reports/incidents/{iid}.html", f"/claims/{claim.id}",
                 "/claims?q=biolabs", f"/clusters/{cluster.cluster_id}", "/clusters"):
        page = ana.http.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, path
    assert "&lt;script&gt;alert" in ana.http.get(f"/incidents/{iid}", headers={"Accept": "text/html"}).text
