"""The TAXII 2.1 service's answers in full: discovery, API root, collections, error messages,
filters, pages, manifests and status resources (TaxiiService directly, and media types over HTTP).

tests/share/test_partner_visibility.py checks what each partner sees; this file pins the shape
and the refusals, so that a fault in either shows up (mutation testing, docs/evaluation.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.share.partner_world import ORG, make_object, partner_at

from fimiscope.core.errors import NotFound
from fimiscope.share import taxii_server
from fimiscope.share.markings import TLP2_IDS, tlp_marking_definition
from fimiscope.share.taxii_server import (
    DEFAULT_LIMIT,
    MAX_CONTENT_LENGTH,
    MAX_LIMIT,
    STIX_MEDIA,
    TAXII_MEDIA,
    TaxiiError,
    TaxiiService,
    accepts_taxii,
    content_is_taxii,
)
from fimiscope.store import Store
from fimiscope.store.share import QUARANTINE, ShareStore

R = "fimi"


class Site:
    def __init__(self, store: Store) -> None:
        self.store = store
        shares = ShareStore(store)
        shares.add_collection("shared", "Shared", "For partners")
        shares.add_collection("inbox", "Inbox", "Submissions")
        shares.add_collection("both", "Both", "Read and write")
        self.svc = TaxiiService(store)
        self.reader = partner_at(store, "reader", "amber", ["shared", "both"], [], 1)
        self.writer = partner_at(store, "writer", "green", [], ["inbox", "both"], 2)
        self.objects = [make_object(f"o{i}", [TLP2_IDS["clear"]], modified=f"2025-01-0{i + 1}T00:00:00.000Z")
                        for i in range(5)]
        for o in self.objects:
            taxii_server.publish(store, "shared", [o])


@pytest.fixture
def site(store: Store) -> Iterator[Site]:
    yield Site(store)


def _err(fn: Any, *args: Any) -> TaxiiError:
    with pytest.raises(TaxiiError) as err:
        fn(*args)
    return err.value


def test_authentication_and_its_refusal(site: Site) -> None:
    svc, r = site.svc, site.reader
    assert svc.authenticate(f"Bearer {r.token}").name == "reader"
    assert svc.authenticate(f"bearer   {r.token}  ").name == "reader"
    basic = base64.b64encode(f"reader:{r.token}".encode()).decode()
    assert svc.authenticate(f"Basic {basic}").name == "reader"
    assert svc.authenticate(f"BASIC {basic}").name == "reader"
    for bad in (None, "", "Bearer", f"Token {r.token}", "Basic !!!", "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
                "Basic " + base64.b64encode(b"reader").decode(), "Bearer wrong"):
        e = _err(svc.authenticate, bad)
        assert (e.status, e.title) == (401, "Unauthorized") and "Bearer" in e.description
        assert e.body() == {"title": "Unauthorized", "description": e.description, "http_status": "401"}


def test_discovery_root_and_collections(site: Site) -> None:
    svc = site.svc
    assert svc.discovery("https://h.example/") == {
        "title": "fimiscope TAXII 2.1",
        "description": "FIMI incidents shared with partners (STIX 2.1, TLP 2.0).",
        "default": "https://h.example/taxii2/fimi/",
        "api_roots": ["https://h.example/taxii2/fimi/"],
    }
    assert TaxiiService(site.store, title="Other").discovery("http://x")["title"] == "Other"
    root = svc.api_root(R)
    assert root["versions"] == [TAXII_MEDIA] and root["max_content_length"] == MAX_CONTENT_LENGTH
    assert root["title"] and root["description"]
    e = _err(svc.api_root, "other")
    assert (e.status, e.title) == (404, "API root not found") and "/taxii2/fimi/" in e.description
    reader, writer = site.reader.partner, site.writer.partner
    assert svc.collections(R, reader) == {"collections": [
        {"id": "both", "title": "Both", "description": "Read and write", "can_read": True, "can_write": False,
         "media_types": [STIX_MEDIA]},
        {"id": "shared", "title": "Shared", "description": "For partners", "can_read": True, "can_write": False,
         "media_types": [STIX_MEDIA]},
    ]}
    assert [(c["id"], c["can_read"], c["can_write"]) for c in svc.collections(R, writer)["collections"]] == [
        ("both", False, True), ("inbox", False, True)]
    nobody = partner_at(site.store, "nobody", "red", [], [], 3).partner
    assert svc.collections(R, nobody) == {}
    assert _err(svc.collections, "x", reader).status == 404
    assert svc.collection(R, "shared", reader)["id"] == "shared"
    for cid in ("inbox", "nope"):
        e = _err(svc.collection, R, cid, reader)
        assert (e.status, e.title) == (404, "Collection not found")
    ShareStore(site.store).update_partner("reader", read_collections=["shared", "gone"])
    e = _err(svc.collection, R, "gone", ShareStore(site.store).partner("reader"))
    assert (e.status, e.title) == (404, "Collection not found")  # granted, but not there


def test_reading_refusals(site: Site) -> None:
    svc, w = site.svc, site.writer.partner
    oid = site.objects[0]["id"]
    for fn, args in ((svc.objects, (R, "inbox", w, {})), (svc.manifest, (R, "inbox", w, {})),
                     (svc.object, (R, "inbox", oid, w, {})), (svc.versions, (R, "inbox", oid, w, {}))):
        e = _err(fn, *args)
        assert (e.status, e.title, e.description) == (403, "Forbidden", "you may not read this collection")
    r = site.reader.partner
    for fn, args in ((svc.object, (R, "shared", "threat-actor--nope", r, {})),
                     (svc.versions, (R, "shared", "threat-actor--nope", r, {}))):
        e = _err(fn, *args)
        assert (e.status, e.title) == (404, "Object not found")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": ["0"]}, "limit must be at least 1"),
        ({"limit": ["-3"]}, "limit must be at least 1"),
        ({"limit": ["x"]}, "x"),
        ({"next": ["x"]}, "x"),
        ({"added_after": ["yesterday-ish"]}, "yesterday-ish"),
        ({"match[version]": ["not-a-time"]}, "match[version]"),
    ],
)
def test_bad_filters(site: Site, params: dict[str, list[str]], words: str) -> None:
    e = _err(site.svc.objects, R, "shared", site.reader.partner, params)
    assert (e.status, e.title) == (400, "Bad filter") and words in e.description
    e = _err(site.svc.manifest, R, "shared", site.reader.partner, params)
    assert e.status == 400


def test_pages_and_manifest_records(site: Site) -> None:
    svc, r = site.svc, site.reader.partner
    page = svc.objects(R, "shared", r, {"limit": ["2"]})
    assert page.body["more"] is True and [o["name"] for o in page.body["objects"]] == ["o0", "o1"]
    rows = ShareStore(site.store).objects_in("shared")
    assert page.body["next"] == str(rows[1].pk)
    assert page.first == rows[0].date_added and page.last == rows[1].date_added
    second = svc.objects(R, "shared", r, {"limit": ["2"], "next": [page.body["next"]]})
    assert [o["name"] for o in second.body["objects"]] == ["o2", "o3"]
    last = svc.objects(R, "shared", r, {"limit": ["2", "3"], "next": [second.body["next"]]})  # last value wins
    assert last.body == {"more": False, "objects": [site.objects[4]]}
    empty = svc.objects(R, "shared", r, {"match[type]": ["indicator"]})
    assert empty.body == {"more": False} and empty.first is None and empty.last is None
    manifest = svc.manifest(R, "shared", r, {"limit": ["1"]})
    assert manifest.body["objects"] == [{
        "id": site.objects[0]["id"],
        "date_added": taxii_server.timestamp(rows[0].date_added),
        "version": "2025-01-01T00:00:00.000Z",
        "media_type": STIX_MEDIA,
    }]
    versions = svc.versions(R, "shared", site.objects[1]["id"], r, {})
    assert versions.body == {"more": False, "versions": ["2025-01-02T00:00:00.000Z"]}
    assert svc.object(R, "shared", site.objects[1]["id"], r, {}).body["objects"] == [site.objects[1]]
    assert svc.objects(R, "shared", r, {"match[spec_version]": ["2.0"]}).body == {"more": False}
    assert len(svc.objects(R, "shared", r, {"match[spec_version]": ["2.0, 2.1"]}).body["objects"]) == 5
    assert len(svc.objects(R, "shared", r, {"match[id]": [f"{site.objects[0]['id']}, {site.objects[1]['id']}"]})
               .body["objects"]) == 2
    assert DEFAULT_LIMIT == 100 and MAX_LIMIT == 1000
    # a page past the end of an object's versions is empty, not "not found"
    beyond = {"next": [str(rows[-1].pk + 100)]}
    oid = site.objects[1]["id"]
    assert svc.versions(R, "shared", oid, r, beyond).body == {"more": False}
    assert svc.object(R, "shared", oid, r, beyond).body == {"more": False}


def test_the_limit_is_capped(site: Site) -> None:
    many = [make_object(f"m{i}", [TLP2_IDS["clear"]]) for i in range(MAX_LIMIT + 1)]
    taxii_server.publish(site.store, "both", many)
    page = site.svc.manifest(R, "both", site.reader.partner, {"limit": ["5000"]})
    assert len(page.body["objects"]) == MAX_LIMIT and page.body["more"] is True
    default = site.svc.manifest(R, "both", site.reader.partner, {})
    assert len(default.body["objects"]) == DEFAULT_LIMIT


def _post(site: Site, body: Any, collection: str = "inbox") -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return site.svc.add_objects(R, collection, site.writer.partner, raw)


def test_write_refusals_store_nothing(site: Site) -> None:
    svc, me = site.svc, site.writer.partner.identity_id
    e = _err(svc.add_objects, R, "inbox", site.reader.partner, b"{}")
    assert (e.status, e.title) == (404, "Collection not found")
    e = _err(svc.add_objects, R, "both", site.reader.partner, b"{}")
    assert (e.status, e.title, e.description) == (403, "Forbidden", "this collection is read-only for you")
    e = _err(_post, site, b" " * (MAX_CONTENT_LENGTH + 1))
    assert (e.status, e.title, e.description) == (413, "Too large", f"the limit is {MAX_CONTENT_LENGTH} bytes")
    assert _err(_post, site, b" " * MAX_CONTENT_LENGTH).status == 400  # at the limit: read, then refused as JSON
    for body, words in ((b"{nope", "not JSON"), (b"\xff\xfe", "not JSON"), ([1], 'expected {"objects": [...]}'),
                        ({"objects": {}}, 'expected {"objects": [...]}'), ({}, 'expected {"objects": [...]}')):
        e = _err(_post, site, body)
        assert (e.status, e.title) == (400, "Malformed envelope") and words in e.description, body
    bad = dict(make_object("bad", [TLP2_IDS["clear"]], created_by=me), id="threat-actor--nope")
    e = _err(_post, site, {"objects": [bad]})
    assert (e.status, e.title) == (400, "Invalid STIX") and "threat-actor--nope" in e.description
    assert ShareStore(site.store).objects_in(QUARANTINE) == []


def test_status_resources(site: Site) -> None:
    me = site.writer.partner.identity_id
    own = make_object("own", [TLP2_IDS["green"]], created_by=me)
    forged = make_object("forged", [TLP2_IDS["green"]], created_by=ORG)
    status = _post(site, {"objects": [own, forged, tlp_marking_definition("red")]})
    assert set(status) == {"id", "status", "request_timestamp", "total_count", "success_count", "successes",
                           "failure_count", "failures", "pending_count", "pendings"}
    assert status["status"] == "complete" and status["total_count"] == 3
    assert (status["success_count"], status["failure_count"], status["pending_count"]) == (2, 1, 0)
    assert status["pendings"] == [] and status["request_timestamp"].endswith("Z")
    assert {s["id"] for s in status["successes"]} == {own["id"], TLP2_IDS["red"]}
    assert [f["id"] for f in status["failures"]] == [forged["id"]]
    assert all(x["version"] for x in status["successes"] + status["failures"])
    assert me in status["failures"][0]["message"]
    assert site.svc.status(R, status["id"], site.writer.partner) == status
    e = _err(site.svc.status, R, status["id"], site.reader.partner)
    assert (e.status, e.title) == (404, "Status not found")
    assert _err(site.svc.status, "other", status["id"], site.writer.partner).status == 404
    with pytest.raises(NotFound, match="no status 'nope'"):
        ShareStore(site.store).status("nope", site.writer.partner.id)
    held = ShareStore(site.store).objects_in(QUARANTINE)
    assert [(h.stix_id, h.origin, h.target_collection) for h in held] == [(own["id"], "partner:writer", "inbox")]
    # review: only the chosen rows, only the named partner's
    assert taxii_server.quarantined(site.store, "reader") == []
    assert [q.stix_id for q in taxii_server.quarantined(site.store, "writer")] == [own["id"]]
    assert taxii_server.accept(site.store, pks=[held[0].pk + 1000]).accepted == []
    assert taxii_server.accept(site.store, pks=[held[0].pk], partner="reader").accepted == []
    assert len(taxii_server.accept(site.store, pks=[held[0].pk], partner="writer").accepted) == 1
    assert [r.stix_id for r in ShareStore(site.store).objects_in("inbox")] == [own["id"]]


def test_publish_counts_and_refuses_unknown_collections(site: Site) -> None:
    o = make_object("p", [TLP2_IDS["red"]])
    assert taxii_server.publish(site.store, "both", [o]) == (1, 0)
    assert taxii_server.publish(site.store, "both", [o]) == (0, 1)
    assert ShareStore(site.store).objects_in("both")[0].tlp_rank == 4
    with pytest.raises(Exception, match="no collection"):
        taxii_server.publish(site.store, "nope", [o])


@pytest.mark.parametrize(
    ("accept", "ok"),
    [
        (None, True), ("", True), ("*/*", True), ("application/*", True), ("application/taxii+json", True),
        ("application/taxii+json;version=2.1", True), ("application/taxii+json; version=2.1", True),
        ("APPLICATION/TAXII+JSON;VERSION=2.1", True), ("text/html, application/taxii+json;version=2.1;q=0.9", True),
        ("application/taxii+json ; version = 2.1", True), ("text/html;q=0.9, */*;q=0.1", True),
        ("application/taxii+json;version=2.0", False), ("application/json", False), ("text/html", False),
        ("application/stix+json;version=2.1", False),
    ],
)
def test_accept_negotiation(accept: str | None, ok: bool) -> None:
    assert accepts_taxii(accept) is ok


@pytest.mark.parametrize(
    ("ctype", "ok"),
    [
        (None, False), ("", False), ("application/taxii+json", True), ("application/taxii+json;version=2.1", True),
        ("application/taxii+json; version=2.1", True), ("Application/TAXII+JSON", True),
        ("application/taxii+json ; version=2.1", True), ("application/taxii+json;version=2.1 ", True),
        ("application/taxii+json;version=2.0", False), ("application/json", False),
        ("application/stix+json;version=2.1", False),
    ],
)
def test_content_type(ctype: str | None, ok: bool) -> None:
    assert content_is_taxii(ctype) is ok


def test_store_versions_and_default_query(site: Site) -> None:
    from fimiscope.store.share import ObjectQuery, stix_version

    assert stix_version({"created": "2024-01-01T00:00:00Z"}) == "2024-01-01T00:00:00.000000Z"
    assert stix_version({"created": "2024-01-01T00:00:00Z", "modified": "2024-02-01T00:00:00Z"}) \
        == "2024-02-01T00:00:00.000000Z"
    assert stix_version({}) == "1970-01-01T00:00:00.000000Z"
    rows, more = ShareStore(site.store).query(ObjectQuery(collection="shared", max_tlp_rank=0, versions=()))
    assert [r.data["name"] for r in rows] == ["o0", "o1", "o2", "o3", "o4"] and not more
