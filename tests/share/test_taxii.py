"""TAXII 2.1 server security and protocol tests, and interop with taxii2-client and our own client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.share.taxii_helpers import LiveServer, sdo

from fimiscope.share import taxii_client, taxii_server
from fimiscope.share.markings import TLP2_IDS
from fimiscope.share.stix import organisation_identity
from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store
from fimiscope.store.share import QUARANTINE, Partner, ShareStore

ORG = organisation_identity()["id"]
H = {"Accept": TAXII_MEDIA}
ROOT = "/taxii2/fimi/"


def partner(
    store: Store, name: str, read: list[str], write: list[str], max_tlp: str = "green", **kw: Any
) -> tuple[Partner, str]:
    token = f"tok-{name}-0123456789abcdef"
    p = ShareStore(store).add_partner(
        Partner(
            id="",
            name=name,
            identity_id=f"identity--{len(name):08d}-0000-4000-8000-000000000001",
            read_collections=read,
            write_collections=write,
            max_tlp=max_tlp,
            **kw,
        ),
        token,
    )
    return p, token


@pytest.fixture
def world(store: Store) -> Iterator[dict[str, Any]]:
    """Collections 'shared' and 'internal', objects at each TLP, three partners."""
    shares = ShareStore(store)
    shares.add_collection("shared", "Shared with partners")
    shares.add_collection("internal", "Ours only")
    shares.add_collection("inbox", "Partner submissions")
    objs = {tlp: sdo("threat-actor", f"actor {tlp}", tlp, ORG) for tlp in ("clear", "green", "amber", "red")}
    objs["unmarked"] = sdo("threat-actor", "actor unmarked", None, ORG)
    taxii_server.publish(store, "shared", list(objs.values()))
    internal = sdo("threat-actor", "internal actor", "clear", ORG)
    taxii_server.publish(store, "internal", [internal])
    reader, reader_tok = partner(store, "reader", ["shared"], [], "green")
    writer, writer_tok = partner(store, "writer", ["shared"], ["inbox"], "amber")
    with LiveServer(store) as server:
        yield {
            "store": store,
            "url": server.url,
            "objs": objs,
            "internal": internal,
            "reader": reader,
            "reader_tok": reader_tok,
            "writer": writer,
            "writer_tok": writer_tok,
        }


def get(w: dict[str, Any], path: str, token: str, **params: Any) -> httpx.Response:
    return httpx.get(w["url"] + path, params=params, headers={**H, "Authorization": f"Bearer {token}"}, timeout=10)


def post(w: dict[str, Any], path: str, token: str, body: bytes | str, ctype: str = TAXII_MEDIA) -> httpx.Response:
    return httpx.post(
        w["url"] + path,
        content=body,
        timeout=10,
        headers={**H, "Authorization": f"Bearer {token}", "Content-Type": ctype},
    )


def ids(resp: httpx.Response) -> set[str]:
    return {o["id"] for o in resp.json().get("objects", [])}


def test_partner_never_sees_above_its_tlp_or_outside_its_collections(world: dict[str, Any]) -> None:
    w, tok, objs = world, world["reader_tok"], world["objs"]
    listing = get(w, ROOT + "collections/shared/objects/", tok)
    assert listing.status_code == 200 and listing.headers["content-type"].startswith("application/taxii+json")
    assert ids(listing) == {objs["clear"]["id"], objs["green"]["id"], objs["unmarked"]["id"]}
    manifest = get(w, ROOT + "collections/shared/manifest/", tok)
    assert {m["id"] for m in manifest.json()["objects"]} == ids(listing)
    for level in ("amber", "red"):
        oid = objs[level]["id"]
        assert get(w, ROOT + f"collections/shared/objects/{oid}/", tok).status_code == 404
        assert get(w, ROOT + f"collections/shared/objects/{oid}/versions/", tok).status_code == 404
        assert get(w, ROOT + "collections/shared/objects/", tok, **{"match[id]": oid}).json().get("objects") is None
        assert get(w, ROOT + "collections/shared/manifest/", tok, **{"match[id]": oid}).json().get("objects") is None
    # out of collection: not listed, not readable, not even confirmed to exist
    cols = get(w, ROOT + "collections/", tok).json()["collections"]
    assert [c["id"] for c in cols] == ["shared"]
    assert get(w, ROOT + "collections/internal/objects/", tok).status_code == 404
    assert get(w, ROOT + f"collections/internal/objects/{w['internal']['id']}/", tok).status_code == 404
    assert get(w, ROOT + "collections/internal/manifest/", tok).status_code == 404
    assert get(w, ROOT + f"collections/shared/objects/{w['internal']['id']}/", tok).status_code == 404
    # the amber partner sees amber but still not red
    amber = ids(get(w, ROOT + "collections/shared/objects/", w["writer_tok"]))
    assert objs["amber"]["id"] in amber and objs["red"]["id"] not in amber


def test_credentials_and_media_types(world: dict[str, Any]) -> None:
    w = world
    assert get(w, "/taxii2/", "wrong-token").status_code == 401
    assert httpx.get(w["url"] + "/taxii2/", headers=H).status_code == 401
    disc = get(w, "/taxii2/", w["reader_tok"]).json()
    assert disc["default"].endswith("/taxii2/fimi/")
    bad_accept = httpx.get(
        w["url"] + ROOT, headers={"Accept": "application/xml", "Authorization": f"Bearer {w['reader_tok']}"}
    )
    assert bad_accept.status_code == 406
    env = json.dumps({"objects": []})
    assert post(w, ROOT + "collections/inbox/objects/", w["writer_tok"], env, "application/json").status_code == 415
    ShareStore(w["store"]).revoke("reader")
    assert get(w, ROOT + "collections/shared/objects/", w["reader_tok"]).status_code == 401


def test_taxii_runs_under_the_login_layer_with_partner_credentials_only(world: dict[str, Any]) -> None:
    """The served app (login layer included): partner tokens open /taxii2/ and nothing else; a
    user's API token and a browser session open the workbench and not /taxii2/."""
    from fimiscope.store import users as user_store

    w, store = world, world["store"]
    user_store.add_user(store, "ana", "a long enough password", "admin")
    _tid, user_token = user_store.create_token(store, "ana")
    basic = httpx.BasicAuth("reader", w["reader_tok"])
    for path in ("/taxii2/", ROOT, ROOT + "collections/", ROOT + "collections/shared/",
                 ROOT + "collections/shared/objects/", ROOT + "collections/shared/manifest/",
                 ROOT + f"collections/shared/objects/{w['objs']['green']['id']}/",
                 ROOT + f"collections/shared/objects/{w['objs']['green']['id']}/versions/"):
        assert get(w, path, w["reader_tok"]).status_code == 200, path
        assert httpx.get(w["url"] + path, headers=H, auth=basic).status_code == 200, path
        refused = get(w, path, user_token)
        assert refused.status_code == 401 and refused.json()["http_status"] == "401", path
    # Basic must name the partner the token belongs to
    assert httpx.get(w["url"] + "/taxii2/", headers=H, auth=("writer", w["reader_tok"])).status_code == 401
    # a partner token is no key to the workbench, by bearer or Basic
    for path in ("/api/me", "/api/incidents", "/"):
        assert get(w, path, w["reader_tok"]).status_code == 401, path
        assert httpx.get(w["url"] + path, auth=basic).status_code in (401, 303), path
    assert get(w, "/api/me", user_token).json()["name"] == "ana"
    # a browser session carries no partner rights either
    with httpx.Client(base_url=w["url"]) as browser:
        form = browser.get("/login")
        csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        done = browser.post("/login", data={"name": "ana", "password": "a long enough password",
                                            "csrf_token": csrf, "next": "/"})
        assert done.status_code == 303 and browser.get("/api/me").status_code == 200
        assert browser.get("/taxii2/", headers=H).status_code == 401
        assert browser.get(ROOT + "collections/shared/objects/", headers=H).status_code == 401
    # no path trick leaves the TAXII prefix for a workbench route
    assert get(w, "/taxii2/../api/me", w["reader_tok"]).status_code in (401, 404)


def test_read_only_collection_refuses_writes(world: dict[str, Any]) -> None:
    w = world
    obj = sdo("threat-actor", "x", "green", w["reader"].identity_id)
    resp = post(w, ROOT + "collections/shared/objects/", w["reader_tok"], json.dumps({"objects": [obj]}))
    assert resp.status_code == 403
    resp = post(w, ROOT + "collections/shared/objects/", w["writer_tok"], json.dumps({"objects": [obj]}))
    assert resp.status_code == 403  # the writer may read 'shared' but write only to 'inbox'
    assert ShareStore(w["store"]).objects_in(QUARANTINE) == []


def test_writes_go_to_quarantine_and_collisions_are_decided_at_review(world: dict[str, Any]) -> None:
    w, store = world, world["store"]
    me = w["writer"].identity_id
    own = sdo("threat-actor", "their actor", "green", me)
    forged_creator = sdo("threat-actor", "pretends to be us", "green", ORG)
    visible = dict(w["objs"]["green"], created_by_ref=me, modified="2030-01-01T00:00:00.000Z", name="hijacked")
    hidden = dict(w["objs"]["red"], created_by_ref=me, modified="2030-01-01T00:00:00.000Z", name="probe")
    unknown = sdo("threat-actor", "never heard of", "green", me)
    env = {"objects": [own, forged_creator, visible, hidden, unknown]}
    resp = post(w, ROOT + "collections/inbox/objects/", w["writer_tok"], json.dumps(env))
    assert resp.status_code == 202
    status = resp.json()
    assert status["success_count"] == 4 and status["failure_count"] == 1
    failed = {f["id"]: f["message"] for f in status["failures"]}
    assert "identity" in failed[forged_creator["id"]]
    # no existence oracle: an id we hold (visible to it or not) gets the answer any new id gets
    answers = {s["id"]: s["message"] for s in status["successes"]}
    assert answers[visible["id"]] == answers[hidden["id"]] == answers[unknown["id"]] == "held for review"
    again = get(w, ROOT + f"status/{status['id']}/", w["writer_tok"])
    assert again.json()["id"] == status["id"]
    assert get(w, ROOT + f"status/{status['id']}/", w["reader_tok"]).status_code == 404
    held = ShareStore(store).objects_in(QUARANTINE)
    assert {r.stix_id for r in held} == {own["id"], visible["id"], hidden["id"], unknown["id"]}
    assert {r.target_collection for r in held} == {"inbox"}
    # the original object of ours is untouched
    shown = get(w, ROOT + f"collections/shared/objects/{w['objs']['green']['id']}/", w["reader_tok"]).json()
    assert [o["name"] for o in shown["objects"]] == ["actor green"]
    # review decides: ids created by another identity stay in quarantine as conflicts
    review = taxii_server.accept(store, None, "writer")
    assert {r.stix_id for r in review.accepted} == {own["id"], unknown["id"]}
    assert {r.stix_id for r, _why in review.conflicts} == {visible["id"], hidden["id"]}
    assert {r.stix_id for r in ShareStore(store).objects_in("inbox")} == {own["id"], unknown["id"]}
    assert taxii_server.reject(store, None, "writer") == 2
    assert ShareStore(store).objects_in(QUARANTINE) == []


def test_malformed_and_oversized_bundles_store_nothing(world: dict[str, Any]) -> None:
    w = world
    me = w["writer"].identity_id
    path = ROOT + "collections/inbox/objects/"
    good = sdo("threat-actor", "fine", "green", me)
    bad = {"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--not-a-uuid", "name": "x"}
    r = post(w, path, w["writer_tok"], json.dumps({"objects": [good, bad]}))
    assert r.status_code == 400 and "not a STIX id" in r.json()["description"]
    missing = {k: v for k, v in sdo("threat-actor", "y", "green", me).items() if k != "created"}
    r = post(w, path, w["writer_tok"], json.dumps({"objects": [good, missing]}))
    assert r.status_code == 400 and r.json()["title"] == "Invalid STIX"
    r = post(w, path, w["writer_tok"], b"{not json")
    assert r.status_code == 400 and "not JSON" in r.json()["description"]
    r = post(w, path, w["writer_tok"], json.dumps({"objects": "nope"}))
    assert r.status_code == 400
    big = json.dumps({"objects": [dict(good, description="x" * (taxii_server.MAX_CONTENT_LENGTH + 10))]})
    r = post(w, path, w["writer_tok"], big)
    assert r.status_code == 413
    assert ShareStore(w["store"]).objects_in(QUARANTINE) == []


def test_pagination_filters_and_headers(world: dict[str, Any]) -> None:
    w, tok = world, world["writer_tok"]  # amber: sees clear, green, amber, unmarked
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        r = get(w, ROOT + "collections/shared/objects/", tok, **params)
        body = r.json()
        seen += [o["id"] for o in body.get("objects", [])]
        assert "X-TAXII-Date-Added-First" in r.headers and "X-TAXII-Date-Added-Last" in r.headers
        pages += 1
        if not body["more"]:
            break
        params["next"] = body["next"]
    assert pages == 2 and len(seen) == 4 == len(set(seen))
    last = r.headers["X-TAXII-Date-Added-Last"]
    assert get(w, ROOT + "collections/shared/objects/", tok, added_after=last).json() == {"more": False}
    only = get(w, ROOT + "collections/shared/objects/", tok, **{"match[type]": "indicator"}).json()
    assert "objects" not in only
    # a newer version: 'last' by default, both with match[version]=all, listed in versions
    newer = dict(w["objs"]["green"], modified="2026-01-01T00:00:00.000Z", name="actor green v2")
    taxii_server.publish(w["store"], "shared", [newer])
    oid = newer["id"]
    latest = get(w, ROOT + f"collections/shared/objects/{oid}/", tok).json()["objects"]
    assert [o["name"] for o in latest] == ["actor green v2"]
    allv = get(w, ROOT + f"collections/shared/objects/{oid}/", tok, **{"match[version]": "all"}).json()["objects"]
    assert len(allv) == 2
    first = get(w, ROOT + f"collections/shared/objects/{oid}/", tok, **{"match[version]": "first"}).json()["objects"]
    assert [o["name"] for o in first] == ["actor green"]
    vers = get(w, ROOT + f"collections/shared/objects/{oid}/versions/", tok).json()["versions"]
    assert vers == ["2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]
    assert get(w, ROOT + "collections/shared/objects/", tok, limit="x").status_code == 400


def test_taxii2_client_library_interop(world: dict[str, Any]) -> None:
    from taxii2client.exceptions import AccessError
    from taxii2client.v21 import Server, as_pages

    w = world
    reader = Server(w["url"] + "/taxii2/", user="reader", password=w["reader_tok"])
    assert reader.default is not None
    cols = {c.id: c for c in reader.default.collections}
    assert set(cols) == {"shared"}
    shared = cols["shared"]
    assert shared.can_read and not shared.can_write
    got = set()
    for page in as_pages(shared.get_objects, per_request=2):
        got |= {o["id"] for o in page.get("objects", [])}
    assert w["objs"]["red"]["id"] not in got and w["objs"]["green"]["id"] in got
    assert shared.get_object(w["objs"]["green"]["id"])["objects"][0]["name"] == "actor green"
    assert {m["id"] for m in shared.get_manifest()["objects"]} == got
    with pytest.raises(AccessError):
        shared.add_objects(json.dumps({"objects": [sdo("threat-actor", "n", "green", w["reader"].identity_id)]}))
    writer = Server(w["url"] + "/taxii2/", user="writer", password=w["writer_tok"])
    inbox = next(c for c in writer.default.collections if c.id == "inbox")
    assert inbox.can_write and not inbox.can_read
    status = inbox.add_objects(
        json.dumps({"objects": [sdo("threat-actor", "theirs", "green", w["writer"].identity_id)]})
    )
    assert status.status == "complete" and status.success_count == 1
    assert len(ShareStore(w["store"]).objects_in(QUARANTINE)) == 1


def test_pull_from_a_second_instance(store: Store, tmp_path: Path) -> None:
    """Partner B runs fimiscope too; we pull from B, remembering added_after per collection."""
    theirs = Store.open(None, tmp_path / "partner-b")
    try:
        b_shares = ShareStore(theirs)
        b_shares.add_collection("for-a", "For organisation A")
        b_org = "identity--00000000-0000-4000-8000-00000000000b"
        first = [sdo("threat-actor", "B actor", "green", b_org), sdo("intrusion-set", "B set", "clear", b_org)]
        secret = sdo("threat-actor", "B red actor", "red", b_org)
        taxii_server.publish(theirs, "for-a", [*first, secret])
        _, token_for_us = partner(theirs, "org-a", ["for-a"], [], "amber")
        with LiveServer(theirs) as server_b:
            ShareStore(store).add_partner(
                Partner(
                    id="",
                    name="org-b",
                    identity_id=b_org,
                    read_collections=[],
                    write_collections=[],
                    max_tlp="green",
                    remote_url=server_b.url + "/taxii2/",
                    remote_token=token_for_us,
                ),
                None,
            )
            res = taxii_client.pull(store, "org-b", "alice", allow_private=True)
            assert [(r.collection, r.fetched, r.new) for r in res] == [("for-a", 2, 2)]
            kept = ShareStore(store).objects_in("raw")
            assert {r.stix_id for r in kept} == {o["id"] for o in first}
            assert {r.origin for r in kept} == {"partner:org-b"}
            again = taxii_client.pull(store, "org-b", "alice", allow_private=True)
            assert [(r.fetched, r.new) for r in again] == [(0, 0)]
            later = sdo("threat-actor", "B later", "green", b_org)
            taxii_server.publish(theirs, "for-a", [later])
            third = taxii_client.pull(store, "org-b", "alice", allow_private=True)
            assert [(r.fetched, r.new) for r in third] == [(1, 1)]
            assert secret["id"] not in {r.stix_id for r in ShareStore(store).objects_in("raw")}
            with pytest.raises(Exception, match="private address"):
                taxii_client.pull(store, "org-b", "alice", allow_private=False)
    finally:
        theirs.close()


def test_marking_ids_are_the_official_tlp2_ones() -> None:
    assert TLP2_IDS["red"] == "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    assert TLP2_IDS["clear"] == "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
