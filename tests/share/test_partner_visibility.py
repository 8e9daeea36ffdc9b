"""What a partner may see, on every TAXII read path, for partners at every TLP ceiling.

The world (tests/share/partner_world.py) holds objects with every kind of marking the policy
has a rule for. Each test asks the real server, over HTTP, through one read path or filter, and
checks every object, manifest record and version it answers against the policy: nothing above
the partner's ceiling or outside its collections ever comes back, and everything at or below
it does. Built once per backend (SQLite, and PostgreSQL when configured) and read-only.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from tests.share.partner_world import ROOT, V1, V2, Entry, PartnerAt, Served, World, build

from fimiscope.cases.tlp import TLP_LEVELS
from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store

PG_URL = os.environ.get("FIMISCOPE_TEST_DATABASE_URL")
CEILINGS = [f"at-{lv.replace('+', '-')}" for lv in TLP_LEVELS]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "sqlite":
        store = Store.open(None, tmp_path_factory.mktemp("partner-world"))
        cleanup = None
    else:
        if not PG_URL:
            pytest.skip("PostgreSQL not configured: set FIMISCOPE_TEST_DATABASE_URL (.ci/run does)")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG_URL else "?"
        store = Store.open(f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}")

        def cleanup() -> None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()

    try:
        with Served(build(store)) as w:
            yield w
    finally:
        store.close()
        if cleanup:
            cleanup()


class Reader:
    """One partner's view over HTTP; every answer is checked against the policy as it comes."""

    def __init__(self, world: World, who: PartnerAt) -> None:
        self.world = world
        self.who = who
        self.http = httpx.Client(
            base_url=world.url + ROOT,
            headers={"Accept": TAXII_MEDIA, "Authorization": f"Bearer {who.token}"},
            timeout=20,
        )
        self.requests = 0

    def get(self, path: str, **params: Any) -> httpx.Response:
        self.requests += 1
        return self.http.get(path, params=params)

    def allowed(self, e: Entry) -> bool:
        return e.collection in self.who.read and e.rank <= self.who.rank

    def check(self, pairs: list[tuple[str, str]], where: str) -> list[Entry]:
        got = [self.world.by_version(oid, version) for oid, version in pairs]
        leaked = [e.label for e in got if not self.allowed(e)]
        assert not leaked, f"{self.who.name} (ceiling {self.who.ceiling}) received {leaked} from {where}"
        return got

    def objects(self, path: str, **params: Any) -> list[Entry]:
        """All pages of an objects/ or manifest/ answer, checked; 404/403 give nothing."""
        out: list[Entry] = []
        for _ in range(200):
            r = self.get(path, **params)
            if r.status_code in (403, 404):
                assert "objects" not in r.json()
                return out
            assert r.status_code == 200, (path, params, r.text)
            body = r.json()
            items = body.get("objects", [])
            if path.endswith("manifest/"):
                pairs = [(m["id"], m["version"]) for m in items]
            else:
                pairs = [(o["id"], o.get("modified") or o.get("created")) for o in items]
            out += self.check(pairs, f"{path} {params}")
            if not body.get("more"):
                return out
            params = {**params, "next": body["next"]}
        raise AssertionError("pagination never ended")

    def versions(self, oid: str) -> list[Entry] | None:
        r = self.get(f"collections/shared/objects/{oid}/versions/")
        if r.status_code in (403, 404):
            return None
        assert r.status_code == 200, r.text
        return self.check([(oid, v) for v in r.json()["versions"]], f"versions of {oid}")

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def reader(world: World, request: pytest.FixtureRequest) -> Iterator[Reader]:
    r = Reader(world, world.partners[request.param])
    yield r
    r.close()


def _ids(entries: list[Entry]) -> set[tuple[str, str]]:
    return {(e.id, e.version) for e in entries}


def _shared(world: World) -> dict[str, list[Entry]]:
    by_id: dict[str, list[Entry]] = {}
    for e in world.in_collection("shared"):
        by_id.setdefault(e.id, []).append(e)
    return by_id


def _expect_one_of(r: Reader, versions: list[Entry], got: list[Entry], pick: str, where: str) -> None:
    """``got`` holds the answer for one object under match[version]=``pick`` (first or last).

    The extreme version in the collection must come back when the partner may see it and no
    rule hides it; otherwise at most one version the partner may see (checked in ``check``).
    """
    extreme = (max if pick == "last" else min)(versions, key=lambda e: e.version)
    assert len(got) <= 1, (where, [e.label for e in got])
    if r.allowed(extreme) and not extreme.ambiguous:
        assert [e.label for e in got] == [extreme.label], where


@pytest.mark.parametrize("reader", CEILINGS, indirect=True)
def test_listing_and_manifest_show_exactly_what_the_ceiling_allows(reader: Reader, world: World) -> None:
    by_id = _shared(world)
    every = [e for e in world.in_collection("shared") if reader.allowed(e)]
    must = {(e.id, e.version) for e in every if not e.ambiguous}
    for path in ("collections/shared/objects/", "collections/shared/manifest/"):
        for limit in (1000, 3):  # one page, and the walk through pages
            got = reader.objects(path, **{"match[version]": "all", "limit": limit})
            assert must <= _ids(got) <= {(e.id, e.version) for e in every}, path
            assert len(got) == len(_ids(got)), "a version answered twice"
        for pick in ("last", "first"):
            params = {} if pick == "last" else {"match[version]": "first"}
            got = reader.objects(path, **params)
            for oid, versions in by_id.items():
                _expect_one_of(reader, versions, [e for e in got if e.id == oid], pick, f"{path} {pick} {oid}")
    # the policy cases at single versions, by label: a readable summary when this fails
    seen = {e.label for e in reader.objects("collections/shared/objects/")}
    for e in world.in_collection("shared"):
        if len(by_id[e.id]) == 1:
            assert (e.label in seen) == (e.rank <= reader.who.rank), (e.label, e.tlp, reader.who.ceiling)


@pytest.mark.parametrize("reader", CEILINGS, indirect=True)
def test_each_object_by_id_versions_and_match_id(reader: Reader, world: World) -> None:
    for oid, versions in _shared(world).items():
        visible = [e for e in versions if reader.allowed(e)]
        must = {(e.id, e.version) for e in visible if not e.ambiguous}
        r = reader.get(f"collections/shared/objects/{oid}/")
        if r.status_code == 404:
            got: list[Entry] = []
        else:
            assert r.status_code == 200, r.text
            got = reader.check([(o["id"], o["modified"] if "modified" in o else o["created"])
                                for o in r.json()["objects"]], f"object {oid}")
        _expect_one_of(reader, versions, got, "last", f"object {oid}")
        for path in (f"collections/shared/objects/{oid}/", "collections/shared/objects/",
                     "collections/shared/manifest/"):
            params = {"match[version]": "all"} if path.endswith(f"{oid}/") else {"match[id]": oid,
                                                                                 "match[version]": "all"}
            all_got = reader.objects(path, **params)
            assert must <= _ids(all_got), (path, oid)
            assert {e.id for e in all_got} <= {oid}
        first = reader.objects(f"collections/shared/objects/{oid}/", **{"match[version]": "first"})
        _expect_one_of(reader, versions, first, "first", f"first of {oid}")
        listed = reader.versions(oid)
        if not must:
            assert not listed or all(e.ambiguous for e in listed), oid
        else:
            assert listed is not None and must <= _ids(listed), oid
        if listed:
            assert [e.version for e in listed] == sorted(e.version for e in listed)
        for e in versions:  # asking for one exact version
            exact = reader.objects(f"collections/shared/objects/{oid}/", **{"match[version]": e.version})
            if reader.allowed(e) and not e.ambiguous:
                assert [x.label for x in exact] == [e.label]
            else:
                assert [x.label for x in exact] in ([], [e.label] if reader.allowed(e) else [])


@pytest.mark.parametrize("reader", CEILINGS, indirect=True)
def test_every_filter_keeps_the_ceiling(reader: Reader, world: World) -> None:
    allowed = [e for e in world.in_collection("shared") if reader.allowed(e)]
    must = {(e.id, e.version) for e in allowed if not e.ambiguous}
    path = "collections/shared/objects/"
    every = {"match[version]": "all"}
    for kind in ("threat-actor", "intrusion-set", "marking-definition", "threat-actor,marking-definition"):
        got = reader.objects(path, **every, **{"match[type]": kind})
        kinds = set(kind.split(","))
        assert {(e.id, e.version) for e in allowed if not e.ambiguous and e.obj["type"] in kinds} <= _ids(got)
        assert {e.obj["type"] for e in got} <= kinds
    for spec in ("2.1", "2.0,2.1"):
        assert must <= _ids(reader.objects(path, **every, **{"match[spec_version]": spec}))
        assert must <= _ids(reader.objects("collections/shared/manifest/", **every, **{"match[spec_version]": spec}))
    assert reader.objects(path, **every, **{"match[spec_version]": "2.0"}) == []
    assert must <= _ids(reader.objects(path, **every, added_after="2000-01-01T00:00:00Z"))
    assert reader.objects(path, **every, added_after="2999-01-01T00:00:00Z") == []
    for version, rule in ((V1, lambda e: e.version == V1), (V2, lambda e: e.version == V2)):
        got = reader.objects(path, **{"match[version]": version})
        assert {(e.id, e.version) for e in allowed if not e.ambiguous and rule(e)} <= _ids(got)
        assert all(rule(e) for e in got)
    # several ids at once, among them ones above the ceiling and ones from other collections
    others = [e.id for e in world.entries if e.collection != "shared"]
    ids = ",".join([e.id for e in world.in_collection("shared")] + others)
    got = reader.objects(path, **every, **{"match[id]": ids})
    assert must <= _ids(got)
    # combinations: each narrows, none widens
    combo = reader.objects(path, **{"match[version]": "all", "match[type]": "threat-actor",
                                    "match[spec_version]": "2.1", "added_after": "2000-01-01T00:00:00Z",
                                    "limit": 2})
    assert {(e.id, e.version) for e in allowed if not e.ambiguous and e.obj["type"] == "threat-actor"} <= _ids(combo)


@pytest.mark.parametrize("reader", CEILINGS, indirect=True)
def test_other_collections_are_invisible(reader: Reader, world: World) -> None:
    cols = reader.get("collections/").json().get("collections", [])
    assert [(c["id"], c["can_read"], c["can_write"]) for c in cols] == [("shared", True, False)]
    for cid in ("other", "internal", "inbox", "quarantine", "raw", "nope"):
        assert reader.get(f"collections/{cid}/").status_code == 404, cid
        assert reader.objects(f"collections/{cid}/objects/", **{"match[version]": "all"}) == []
        assert reader.objects(f"collections/{cid}/manifest/") == []
    for e in world.entries:
        if e.collection != "shared":
            assert reader.get(f"collections/shared/objects/{e.id}/", **{"match[version]": e.version}).status_code \
                in (200, 404)
            assert reader.get(f"collections/{e.collection}/objects/{e.id}/").status_code == 404
            assert reader.get(f"collections/{e.collection}/objects/{e.id}/versions/").status_code == 404


def test_a_write_only_grant_reads_nothing(world: World) -> None:
    r = Reader(world, world.partners["write-only"])
    try:
        cols = r.get("collections/").json().get("collections", [])
        assert [(c["id"], c["can_read"], c["can_write"]) for c in cols] == [("inbox", False, True)]
        assert r.get("collections/inbox/objects/").status_code == 403
        assert r.get("collections/inbox/manifest/").status_code == 403
        assert r.get(f"collections/inbox/objects/{world.entries[0].id}/").status_code == 403
        assert r.get(f"collections/inbox/objects/{world.entries[0].id}/versions/").status_code == 403
        for e in world.entries:
            assert r.get(f"collections/{e.collection}/objects/{e.id}/").status_code in (403, 404)
        assert r.objects("collections/shared/objects/", **{"match[version]": "all"}) == []
    finally:
        r.close()


def test_a_partner_of_another_collection_sees_only_that_one(world: World) -> None:
    r = Reader(world, world.partners["other-red"])
    try:
        got = r.objects("collections/other/objects/", **{"match[version]": "all"})
        assert {e.label for e in got} == {"cross-up v2", "cross-down v1"}
        assert r.objects("collections/shared/objects/", **{"match[version]": "all"}) == []
        assert r.get(f"collections/shared/objects/{world.label('tlp2 clear').id}/").status_code == 404
        versions = r.http.get(f"collections/other/objects/{world.label('cross-down v1').id}/versions/").json()
        assert versions["versions"] == [world.label("cross-down v1").version]  # not the shared version
    finally:
        r.close()


def test_unknown_and_revoked_credentials_see_nothing(world: World) -> None:
    revoked = world.partners["revoked"]
    basic = base64.b64encode(f"{revoked.name}:{revoked.token}".encode()).decode()
    for auth in ("Bearer nope", "Basic !!!", "", "Token abc", f"Bearer {revoked.token}", f"Basic {basic}"):
        r = httpx.get(world.url + ROOT + "collections/shared/objects/",
                      headers={"Accept": TAXII_MEDIA, "Authorization": auth}, timeout=10)
        assert r.status_code == 401 and "objects" not in r.json(), auth
