"""Partner writes: what a partner sends keeps the TLP it carries, and nobody claims what is not theirs.

Driven over HTTP against the real app; ``accept`` is the analyst's review step. The answers to a
refused write are not pinned word for word (they must not tell whether an id exists); what is
pinned is what ends up stored and what each reader can then see.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.share.partner_world import ORG, ROOT, TLP1, PartnerAt, make_object, partner_at
from tests.share.taxii_helpers import LiveServer

from fimiscope.cases.tlp import TLP_RANK
from fimiscope.share import taxii_server
from fimiscope.share.markings import TLP2_IDS
from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store
from fimiscope.store.share import QUARANTINE, ShareStore, StoredObject
from fimiscope.store.tables_cases import stix_objects


class Inbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        shares = ShareStore(store)
        shares.add_collection("inbox", "Partner submissions")
        shares.add_collection("shared", "Shared with partners")
        self.writer = partner_at(store, "writer", "green", [], ["inbox"], 1)  # write-only, ceiling green
        self.rival = partner_at(store, "rival", "red", ["shared"], ["inbox", "shared"], 2)
        self.green = partner_at(store, "green-reader", "green", ["inbox", "shared"], [], 3)
        self.red = partner_at(store, "red-reader", "red", ["inbox", "shared"], [], 4)
        self.url = ""

    def post(self, who: PartnerAt, objects: list[dict[str, Any]], collection: str = "inbox") -> dict[str, Any]:
        r = httpx.post(
            f"{self.url}{ROOT}collections/{collection}/objects/",
            content=json.dumps({"objects": objects}),
            headers={"Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA, "Authorization": f"Bearer {who.token}"},
            timeout=20,
        )
        assert r.status_code == 202, r.text
        return dict(r.json())

    def seen(self, who: PartnerAt, collection: str = "inbox") -> dict[str, list[dict[str, Any]]]:
        """Every version ``who`` can get of every object, by id, through listing, by id and manifest."""
        h = {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {who.token}"}
        base = f"{self.url}{ROOT}collections/{collection}/"
        listing = httpx.get(base + "objects/", params={"match[version]": "all"}, headers=h, timeout=20).json()
        out: dict[str, list[dict[str, Any]]] = {}
        for o in listing.get("objects", []):
            out.setdefault(o["id"], []).append(o)
        manifest = httpx.get(base + "manifest/", params={"match[version]": "all"}, headers=h, timeout=20).json()
        assert {m["id"] for m in manifest.get("objects", [])} == set(out)
        return out

    def get(self, who: PartnerAt, collection: str, oid: str, suffix: str = "") -> httpx.Response:
        h = {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {who.token}"}
        return httpx.get(f"{self.url}{ROOT}collections/{collection}/objects/{oid}/{suffix}", headers=h, timeout=20)

    def stored(self, collection: str) -> list[StoredObject]:
        return ShareStore(self.store).objects_in(collection)


@pytest.fixture
def inbox(store: Store) -> Iterator[Inbox]:
    box = Inbox(store)
    with LiveServer(store) as server:
        box.url = server.url
        yield box


def _written(me: str) -> dict[str, tuple[dict[str, Any], str]]:
    t2 = TLP2_IDS
    cases = {
        "red": ([t2["red"]], None, "red"),
        "tlp1 red": ([TLP1["red"]], None, "red"),
        "clear and red": ([t2["clear"], t2["red"]], None, "red"),
        "granular red": ([t2["clear"]], [t2["red"]], "red"),
        "amber+strict": ([t2["amber+strict"]], None, "amber+strict"),
        "tlp1 amber": ([TLP1["amber"]], None, "amber"),
        "green": ([t2["green"]], None, "green"),
        "unmarked": (None, None, "green"),
        "clear": ([t2["clear"]], None, "clear"),
    }
    return {
        label: (make_object(label, refs, granular=gran, created_by=me), level)
        for label, (refs, gran, level) in cases.items()
    }


def test_a_partner_write_keeps_its_tlp_after_review(inbox: Inbox) -> None:
    written = _written(inbox.writer.partner.identity_id)
    status = inbox.post(inbox.writer, [o for o, _ in written.values()])
    assert status["success_count"] == len(written) and status["failure_count"] == 0
    # held for review: nobody reads it yet, not even at red
    assert inbox.seen(inbox.red) == {} and inbox.seen(inbox.green) == {}
    held = {r.stix_id: r for r in inbox.stored(QUARANTINE)}
    assert {held[o["id"]].tlp_rank for o, _ in written.values()} == {TLP_RANK[lv] for _, lv in written.values()}
    for o, level in written.values():
        assert held[o["id"]].tlp_rank == TLP_RANK[level], o["name"]
    assert len(taxii_server.accept(inbox.store).accepted) == len(written)
    assert inbox.stored(QUARANTINE) == []
    kept = {r.stix_id: r for r in inbox.stored("inbox")}
    for o, level in written.values():
        assert kept[o["id"]].tlp_rank == TLP_RANK[level], o["name"]
        assert kept[o["id"]].data == o  # markings and all, as sent
    red_sees, green_sees = inbox.seen(inbox.red), inbox.seen(inbox.green)
    assert set(red_sees) == {o["id"] for o, _ in written.values()}
    assert {v[0]["name"] for v in green_sees.values()} == {"green", "unmarked", "clear"}
    for o, level in written.values():
        if TLP_RANK[level] > TLP_RANK["green"]:
            assert inbox.get(inbox.green, "inbox", o["id"]).status_code == 404, o["name"]
            assert inbox.get(inbox.green, "inbox", o["id"], "versions/").status_code == 404, o["name"]
            assert inbox.get(inbox.red, "inbox", o["id"]).json()["objects"] == [o]
    # the writer itself may not read what it wrote (write-only grant)
    assert inbox.get(inbox.writer, "inbox", written["clear"][0]["id"]).status_code == 403


def test_a_later_red_version_from_a_partner_never_reaches_green(inbox: Inbox) -> None:
    me = inbox.writer.partner.identity_id
    first = make_object("v1 green", [TLP2_IDS["green"]], created_by=me)
    inbox.post(inbox.writer, [first])
    taxii_server.accept(inbox.store)
    second = dict(first, modified="2026-01-01T00:00:00.000Z", name="v2 red", object_marking_refs=[TLP2_IDS["red"]])
    inbox.post(inbox.writer, [second])
    taxii_server.accept(inbox.store)
    green = inbox.seen(inbox.green)
    assert all(v["name"] != "v2 red" for versions in green.values() for v in versions)
    r = inbox.get(inbox.green, "inbox", first["id"], "versions/")
    assert r.status_code == 404 or r.json()["versions"] == [first["modified"]]
    assert [v["name"] for v in inbox.seen(inbox.red)[first["id"]]] == ["v1 green", "v2 red"]


def _claims(inbox: Inbox, oid: str) -> list[StoredObject]:
    """Rows for ``oid`` outside quarantine that the rival sent."""
    return [
        r for c in ("inbox", "shared") for r in inbox.stored(c)
        if r.stix_id == oid and r.origin == "partner:rival"
    ]


def test_identities_cannot_be_claimed_by_another_partner(inbox: Inbox) -> None:
    writer_id, rival = inbox.writer.partner.identity_id, inbox.rival
    own = {"type": "identity", "spec_version": "2.1", "id": rival.partner.identity_id, "name": "Rival CERT",
           "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "identity_class": "organization"}
    fakes = [
        dict(own, id=writer_id, name="I am the writer", created_by_ref=rival.partner.identity_id),
        dict(own, id=writer_id, name="I am the writer, no creator"),
        dict(own, id=ORG, name="I am the server's organisation", created_by_ref=rival.partner.identity_id),
        dict(own, id=inbox.red.partner.identity_id, name="I am the red reader"),
    ]
    status = inbox.post(rival, [own, *fakes])
    ok = {s["id"] for s in status.get("successes", [])}
    assert own["id"] in ok
    taxii_server.accept(inbox.store)
    for fake in fakes:
        assert _claims(inbox, fake["id"]) == [], fake["name"]
        assert fake["id"] not in inbox.seen(inbox.red)
    assert [r.data["name"] for r in _claims(inbox, own["id"])] == ["Rival CERT"]
    # the real owner can still publish its identity afterwards
    # (a later version: quarantine keeps one row per id and version, so a pending write of the
    # same version by another partner would shadow this one until it is rejected)
    mine = dict(own, id=writer_id, name="Writer CERT", modified="2025-02-01T00:00:00Z")
    assert inbox.post(inbox.writer, [mine])["success_count"] == 1
    taxii_server.accept(inbox.store)
    assert [v["name"] for v in inbox.seen(inbox.red)[writer_id]] == ["Writer CERT"]


def test_ownerless_and_others_objects_cannot_be_overwritten(inbox: Inbox) -> None:
    me, rival = inbox.writer.partner.identity_id, inbox.rival
    # ours, published without a creator (observables and identities often have none)
    ownerless = make_object("ownerless", [TLP2_IDS["green"]])
    del ownerless["created_by_ref"]
    domain = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
              "value": "example.org", "object_marking_refs": [TLP2_IDS["green"]]}
    ours = make_object("ours", [TLP2_IDS["green"]])
    taxii_server.publish(inbox.store, "shared", [ownerless, domain, ours])
    # the writer's, accepted into the inbox; and one still held for review
    theirs = make_object("theirs", [TLP2_IDS["green"]], created_by=me)
    inbox.post(inbox.writer, [theirs])
    taxii_server.accept(inbox.store)
    pending = make_object("pending", [TLP2_IDS["green"]], created_by=me)
    inbox.post(inbox.writer, [pending])
    newer = "2030-01-01T00:00:00.000Z"
    rid = rival.partner.identity_id
    attempts = [
        dict(ownerless, created_by_ref=rid, modified=newer, name="hijacked ownerless"),
        dict(domain, created_by_ref=rid, value="evil.example"),
        dict(ours, created_by_ref=rid, modified=newer, name="hijacked ours"),
        dict(ours, modified=newer, name="forged as ours"),  # created_by_ref stays ours: forged creator
        dict(theirs, created_by_ref=rid, modified=newer, name="hijacked theirs"),
        dict(theirs, modified=newer, name="forged as theirs"),
        dict(pending, created_by_ref=rid, modified=newer, name="hijacked pending"),
    ]
    for collection in ("inbox", "shared"):
        inbox.post(rival, attempts, collection)
    taxii_server.accept(inbox.store)
    for attempt in attempts:
        assert _claims(inbox, attempt["id"]) == [], attempt.get("name", attempt.get("value"))
    for collection in ("inbox", "shared"):
        for versions in inbox.seen(inbox.red, collection).values():
            assert all(v.get("created_by_ref") != rid for v in versions)
            assert all("hijacked" not in v.get("name", "") and "forged" not in v.get("name", "") for v in versions)
    assert inbox.get(inbox.red, "shared", ours["id"]).json()["objects"] == [ours]
    assert inbox.get(inbox.red, "inbox", pending["id"]).json()["objects"][0]["name"] == "pending"


def test_a_partner_may_write_only_where_granted(inbox: Inbox) -> None:
    me = inbox.writer.partner.identity_id
    for collection in ("shared", "quarantine", "raw", "nope"):
        r = httpx.post(
            f"{inbox.url}{ROOT}collections/{collection}/objects/",
            content=json.dumps({"objects": [make_object("x", [TLP2_IDS["clear"]], created_by=me)]}),
            headers={"Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA,
                     "Authorization": f"Bearer {inbox.writer.token}"},
            timeout=20,
        )
        assert r.status_code in (403, 404), collection
    reader_write = httpx.post(
        f"{inbox.url}{ROOT}collections/inbox/objects/",
        content=json.dumps({"objects": [make_object("y", [TLP2_IDS["clear"]],
                                                    created_by=inbox.green.partner.identity_id)]}),
        headers={"Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA, "Authorization": f"Bearer {inbox.green.token}"},
        timeout=20,
    )
    assert reader_write.status_code == 403  # may read the inbox, not write it
    assert inbox.stored(QUARANTINE) == []


def test_a_partner_may_write_new_versions_of_its_own_identity(inbox: Inbox) -> None:
    rid = inbox.rival.partner.identity_id
    v1 = {"type": "identity", "spec_version": "2.1", "id": rid, "name": "Rival CERT", "identity_class": "organization",
          "created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z"}  # no created_by_ref: its own
    inbox.post(inbox.rival, [v1])
    assert len(taxii_server.accept(inbox.store).accepted) == 1
    v2 = dict(v1, name="Rival CERT (renamed)", modified="2025-03-01T00:00:00Z")
    inbox.post(inbox.rival, [v2])
    review = taxii_server.accept(inbox.store)
    assert [r.data["name"] for r in review.accepted] == ["Rival CERT (renamed)"] and review.conflicts == []
    assert [v["name"] for v in inbox.seen(inbox.red)[rid]] == ["Rival CERT", "Rival CERT (renamed)"]


def test_raising_an_observable_withdraws_it_from_a_lower_partner(inbox: Inbox) -> None:
    # an observable has no timestamps: each publication is versioned by the time it is published
    domain = {"type": "domain-name", "spec_version": "2.1", "id": f"domain-name--{uuid.uuid4()}",
              "value": "example.org", "object_marking_refs": [TLP2_IDS["green"]]}
    assert taxii_server.publish(inbox.store, "shared", [domain]) == (1, 0)
    assert domain["id"] in inbox.seen(inbox.green, "shared")
    red = dict(domain, object_marking_refs=[TLP2_IDS["red"]])
    assert taxii_server.publish(inbox.store, "shared", [red]) == (1, 0)
    assert domain["id"] not in inbox.seen(inbox.green, "shared")
    assert inbox.get(inbox.green, "shared", domain["id"]).status_code == 404
    assert [v["object_marking_refs"] for v in inbox.seen(inbox.red, "shared")[domain["id"]]] == [
        [TLP2_IDS["green"]], [TLP2_IDS["red"]]]


def test_an_observable_without_spec_version_is_shared(inbox: Inbox) -> None:
    # spec_version is optional on STIX 2.1 observables; the store records 2.1 for it
    ip = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "198.51.100.7",
          "object_marking_refs": [TLP2_IDS["clear"]]}
    assert taxii_server.publish(inbox.store, "shared", [ip]) == (1, 0)
    assert inbox.seen(inbox.green, "shared")[ip["id"]] == [ip]
    t = stix_objects
    with inbox.store.connect() as c:
        assert c.execute(sa.select(t.c.spec_version).where(t.c.stix_id == ip["id"])).scalar_one() == "2.1"


def test_rejecting_one_partners_writes_keeps_the_others(inbox: Inbox) -> None:
    mine = make_object("writer's", [TLP2_IDS["green"]], created_by=inbox.writer.partner.identity_id)
    theirs = make_object("rival's", [TLP2_IDS["green"]], created_by=inbox.rival.partner.identity_id)
    inbox.post(inbox.writer, [mine])
    inbox.post(inbox.rival, [theirs])
    assert taxii_server.reject(inbox.store, partner="writer") == 1
    assert [r.stix_id for r in inbox.stored(QUARANTINE)] == [theirs["id"]]
    assert [r.stix_id for r in taxii_server.accept(inbox.store, partner="rival").accepted] == [theirs["id"]]
    assert set(inbox.seen(inbox.green)) == {theirs["id"]}


def test_raising_an_object_at_the_same_timestamp_withdraws_it(inbox: Inbox) -> None:
    # the TLP changes but `modified` does not: publishing makes a new version a millisecond later
    green = make_object("same time", [TLP2_IDS["green"]])
    assert taxii_server.publish(inbox.store, "shared", [green]) == (1, 0)
    assert taxii_server.publish(inbox.store, "shared", [green]) == (0, 1)  # the same state again
    assert inbox.seen(inbox.green, "shared")[green["id"]] == [green]
    red = dict(green, object_marking_refs=[TLP2_IDS["red"]])
    assert taxii_server.publish(inbox.store, "shared", [red]) == (1, 0)
    assert green["id"] not in inbox.seen(inbox.green, "shared")
    newest = inbox.seen(inbox.red, "shared")[green["id"]][-1]
    assert newest["object_marking_refs"] == [TLP2_IDS["red"]]
    later = datetime.strptime(green["modified"], "%Y-%m-%dT%H:%M:%S.%fZ") + timedelta(milliseconds=1)
    assert newest["modified"] == later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_a_marking_definition_is_versioned_by_its_created(inbox: Inbox) -> None:
    statement = {"type": "marking-definition", "spec_version": "2.1", "id": f"marking-definition--{uuid.uuid4()}",
                 "created": "2025-01-01T00:00:00.000Z", "definition_type": "statement",
                 "definition": {"statement": "Copyright example"}}
    assert taxii_server.publish(inbox.store, "shared", [statement]) == (1, 0)
    versions = inbox.get(inbox.green, "shared", statement["id"], "versions/")
    assert versions.json()["versions"] == ["2025-01-01T00:00:00.000Z"]
    # asking for that version by name finds it (a definition has no `modified`)
    by_version = httpx.get(f"{inbox.url}{ROOT}collections/shared/objects/{statement['id']}/",
                           params={"match[version]": "2025-01-01T00:00:00.000Z"},
                           headers={"Accept": TAXII_MEDIA, "Authorization": f"Bearer {inbox.green.token}"}, timeout=20)
    assert by_version.status_code == 200 and by_version.json()["objects"] == [statement]
    assert taxii_server.publish(inbox.store, "shared", [statement]) == (0, 1)
