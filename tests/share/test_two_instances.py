"""Two fimiscope instances sharing over TAXII 2.1, as two partner organisations do.

Instance A runs `fimiscope serve` in a subprocess on loopback over its own store; instance B is
a second store driven only by the CLI in subprocesses. A shares with B up to TLP:GREEN. Also
pulled from A with the official `taxii2-client`, as a partner running other software would.
What a RED incident is made of never reaches B: not its objects, not its id inside a
relationship, sighting, report or marking, not its text.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fimiscope.core.model import Signal
from fimiscope.share import taxii_server
from fimiscope.share.markings import TLP2_IDS
from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store.share import ShareStore

FIMISCOPE = [sys.executable, "-m", "fimiscope"]
PASSWORD = "a long enough password"
SECRET_WORDS = ("Red op SECRET", "Secret Actor", "secret-op.example", "Secret impact", "Secret narrative")


class Instance:
    """One organisation's fimiscope: its own store and identity; every command a subprocess."""

    def __init__(self, organisation: str, database_url: str, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FIMISCOPE_")}
        self.env.update(
            FIMISCOPE_ORGANISATION=organisation,
            FIMISCOPE_DATA_DIR=str(home),
            FIMISCOPE_ALLOW_PRIVATE_NETWORKS="1",  # both partners are on loopback here
            FIMISCOPE_PASSWORD=PASSWORD,
            USER="analyst",
        )
        self.home = home

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*FIMISCOPE, "--database-url", self.database_url, *args],
            capture_output=True, text=True, timeout=120, env=self.env, check=False,
        )
        if ok and done.returncode != 0:
            raise AssertionError(f"fimiscope {' '.join(args)} exited {done.returncode}\n{done.stderr}")
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json").stdout)

    @contextmanager
    def serving(self) -> Iterator[str]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = (self.home / "serve.log").open("w")
        proc = subprocess.Popen(
            [*FIMISCOPE, "--database-url", self.database_url, "serve", "--port", str(port), "--no-worker"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/login", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("fimiscope serve did not start:\n" + (self.home / "serve.log").read_text())
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def ids_in(objects: list[dict[str, Any]]) -> set[str]:
    return {o["id"] for o in objects}


def every_id_mentioned(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))


def sqlite_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def taxii_objects(url: str, user: str, token: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every object and manifest entry the partner may read, through taxii2-client."""
    from taxii2client.v21 import Server, as_pages

    server = Server(url + "/taxii2/", user=user, password=token)
    assert server.default is not None
    objects: list[dict[str, Any]] = []
    manifest: list[dict[str, Any]] = []
    for col in server.default.collections:
        for page in as_pages(col.get_objects, per_request=7):
            objects += page.get("objects", [])
        for page in as_pages(col.get_manifest, per_request=7):
            manifest += page.get("objects", [])
    return objects, manifest


def taxii_get(url: str, path: str, token: str) -> httpx.Response:
    return httpx.get(url + path, headers={"Accept": TAXII_MEDIA}, auth=("org-b", token), timeout=20)


def test_two_instances_share_up_to_the_partners_tlp(database_url: str, tmp_path: Path) -> None:
    a = Instance("org-a", database_url, tmp_path / "a")
    b = Instance("org-b", f"sqlite:///{tmp_path / 'b.sqlite3'}", tmp_path / "b")

    # -- instance A: two incidents, each with a linked signal (a sighting), one GREEN, one RED;
    # they share a technique, an actor and an outlet (the same derived STIX ids)
    store = Store.open(database_url)
    sigs = [Signal(type="laundering", title=f"{tlp} signal", score=0.8, detector="detect.laundering",
                   detector_version="1", key=f"two-instances:{tlp}") for tlp in ("green", "red")]
    store.write(signal_store.upsert_signals, sigs)
    store.close()
    common = ["--threat-actor", "Shared Actor", "--channel", "outlet:shared-outlet.example", "--technique", "T0049.001"]
    green = a.json("incidents", "create", "--title", "Green op", "--tlp", "green", *common,
                   "--technique", "T0086.003", "--channel", "domain:green-op.example",
                   "--narrative", "Shared narrative", "--signal", sigs[0].id or "")
    red = a.json("incidents", "create", "--title", "Red op SECRET", "--tlp", "red", *common,
                 "--technique", "T0085", "--threat-actor", "Secret Actor", "--attributed-to", "Secret Actor",
                 "--confidence", "almost certain", "--channel", "domain:secret-op.example",
                 "--narrative", "Secret narrative", "--impact", "Secret impact", "--signal", sigs[1].id or "")
    green_export = json.loads(a("export", "stix", "--incident", green["id"]).stdout)["objects"]
    red_export = json.loads(a("export", "stix", "--incident", red["id"]).stdout)["objects"]
    a_identity = next(o["id"] for o in green_export if o["type"] == "identity")
    red_only = ids_in(red_export) - ids_in(green_export)
    red_types = {o["type"] for o in red_export if o["id"] in red_only}
    assert {"incident", "relationship", "sighting", "report", "note", "marking-definition"} <= red_types
    assert TLP2_IDS["red"] in red_only
    a("taxii", "collection", "add", "shared", "--title", "For partners")
    a("taxii", "publish", "shared")
    token = a.json("partners", "add", "org-b", "--read", "shared", "--max-tlp", "green")["token"]
    a("users", "add", "ana", "--role", "analyst")

    def assert_nothing_red(text: str, where: str) -> None:
        leaked = every_id_mentioned(text) & red_only
        assert not leaked, f"{where} holds ids of the RED incident: {sorted(leaked)[:5]}"
        for word in SECRET_WORDS:
            assert word not in text, f"{where} holds {word!r}"

    with a.serving() as url:
        # -- instance B pulls from A, like any partner
        b("partners", "add", "org-a", "--no-token", "--identity", a_identity,
          "--remote-url", url + "/taxii2/", "--remote-token", token)
        first = b.json("partners", "pull", "org-a")
        assert [(r["collection"], r["incidents_created"]) for r in first] == [("shared", 1)]
        assert first[0]["fetched"] > 0 and first[0]["new"] > 0
        again = b.json("partners", "pull", "org-a")
        assert [(r["fetched"], r["new"], r["incidents_created"], r["incidents_updated"]) for r in again] == [
            (0, 0, 0, 0)
        ]
        held = b.json("incidents", "list")
        assert [(i["title"], i["techniques"], i["tlp"], i["origin"]) for i in held] == [
            ("Green op", ["T0049.001", "T0086.003"], "green", "partner:org-a")
        ]
        b_export = b("export", "stix").stdout
        assert green["stix_id"] in b_export
        assert_nothing_red(b_export, "B's export")
        assert_nothing_red(sqlite_bytes(b.database_url).decode("utf-8", "replace"), "B's database")

        # -- the same through the official taxii2-client (HTTP Basic: partner name and token)
        objects, manifest = taxii_objects(url, "org-b", token)
        assert green["stix_id"] in ids_in(objects) and ids_in(manifest) == ids_in(objects)
        assert_nothing_red(json.dumps(objects) + json.dumps(manifest), "what taxii2-client got")
        attack_patterns = {o["external_references"][0]["external_id"] for o in objects if o["type"] == "attack-pattern"}
        assert attack_patterns == {"T0049.001", "T0086.003"}
        for oid in (red["stix_id"], TLP2_IDS["red"]):
            assert taxii_get(url, f"/taxii2/fimi/collections/shared/objects/{oid}/", token).status_code == 404

        # -- the access log: A knows what B holds
        log = a.json("partners", "show", "org-b")["access"]
        fetched = {(r["id"], r["version"], r["tlp"]) for r in log}
        green_version = next(v for i, v, _t in fetched if i == green["stix_id"])
        assert (green["stix_id"], green_version, "green") in fetched
        assert not {r["id"] for r in log} & red_only
        with httpx.Client(base_url=url, timeout=120) as browser:
            form = browser.get("/login").text
            csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            browser.post("/login", data={"name": "ana", "password": PASSWORD, "csrf_token": csrf, "next": "/"})
            page = browser.get(f"/incidents/{green['id']}").text
            section = page.split('id="fetched-by-partners"', 1)[1].split("</section>", 1)[0]
            assert 'data-partner="org-b"' in section and green_version in section
            assert "org-b" not in browser.get(f"/incidents/{red['id']}").text.split('id="fetched-by-partners"')[1]

        # -- raising the GREEN incident to RED withdraws every earlier version from B at once
        a("incidents", "update", green["id"], "--tlp", "red")
        a("taxii", "publish", "shared")
        late_token = a.json("partners", "add", "org-late", "--read", "shared", "--max-tlp", "green")["token"]
        for who, tok in (("org-b", token), ("org-late", late_token)):
            objects, manifest = taxii_objects(url, who, tok)
            assert green["stix_id"] not in ids_in(objects) | ids_in(manifest), who
            # every object of it went with it: techniques, actor, outlet, domain (versioned by
            # publication), relationships, sighting, report; our identity and markings remain
            assert {o["type"] for o in objects} == {"identity", "marking-definition"}, who
        base = f"/taxii2/fimi/collections/shared/objects/{green['stix_id']}/"
        assert taxii_get(url, base, token).status_code == 404
        assert taxii_get(url, base + "versions/", token).status_code == 404
        assert taxii_get(url, f"/taxii2/fimi/collections/shared/objects/?match[id]={green['stix_id']}"
                         "&match[version]=all", token).json() == {"more": False}
        assert [r["incidents_updated"] for r in b.json("partners", "pull", "org-a")] == [0]
        # what B already pulled stays pulled: the access log still says B holds the GREEN version
        assert green_version in {r["version"] for r in a.json("partners", "show", "org-b")["access"]
                                 if r["id"] == green["stix_id"]}

        # -- lowering it again serves the new version, and only versions after the RED one
        a("incidents", "update", green["id"], "--tlp", "green", "--summary", "Now shared again")
        a("taxii", "publish", "shared")
        shown = taxii_get(url, base, token).json()["objects"]
        assert [o["description"] for o in shown] == ["Now shared again"]
        versions = taxii_get(url, base + "versions/", token).json()["versions"]
        assert versions == [shown[0]["modified"]]
        pulled = b.json("partners", "pull", "org-a")
        assert pulled[0]["incidents_updated"] == 1
        assert b.json("incidents", "list")[0]["summary"] == "Now shared again"
        assert_nothing_red(b("export", "stix").stdout, "B's export after the changes")
        assert_nothing_red(sqlite_bytes(b.database_url).decode("utf-8", "replace"), "B's database after")


@pytest.mark.parametrize("route", ["import", "pull"])
def test_objects_reusing_our_ids_never_replace_ours(route: str, tmp_path: Path) -> None:
    """An object arriving by `import stix` or `partners pull` with one of our ids, or claiming a
    later `modified`, changes nothing we export or publish; the same identity may supersede its own."""
    a = Instance("org-a", f"sqlite:///{tmp_path / 'a.sqlite3'}", tmp_path / "a")
    inc = a.json("incidents", "create", "--title", "Ours", "--tlp", "green", "--technique", "T0049.001",
                 "--threat-actor", "Our Actor")
    ours = {o["id"]: o for o in json.loads(a("export", "stix").stdout)["objects"]}
    actor = next(o for o in ours.values() if o["type"] == "threat-actor")
    partner_identity = "identity--0b0b0b0b-0000-4000-8000-00000000000b"

    def forged(obj: dict[str, Any], name: str, modified: str) -> dict[str, Any]:
        return {**obj, "name": name, "modified": modified, "created_by_ref": partner_identity}

    theirs = {"type": "threat-actor", "spec_version": "2.1", "id": "threat-actor--0c0c0c0c-0000-4000-8000-00000000000c",
              "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z", "name": "Their actor",
              "created_by_ref": partner_identity, "object_marking_refs": [TLP2_IDS["green"]]}
    rounds = [
        [forged(actor, "hijacked", "2030-01-01T00:00:00.000Z"), theirs],
        [{**theirs, "name": "Their actor v2", "modified": "2026-01-01T00:00:00.000Z"}],  # same identity: supersedes
        [{**theirs, "name": "Their actor, forged by a third", "modified": "2031-01-01T00:00:00.000Z",
          "created_by_ref": "identity--0d0d0d0d-0000-4000-8000-00000000000d"}],  # another identity: does not
    ]
    if route == "import":
        for i, objects in enumerate(rounds):
            path = tmp_path / f"bundle{i}.json"
            path.write_text(json.dumps({"type": "bundle", "id": f"bundle--0e0e0e0e-0000-4000-8000-00000000000{i}",
                                        "objects": objects}))
            a("import", "stix", str(path))
    else:
        partner = Instance("org-p", f"sqlite:///{tmp_path / 'p.sqlite3'}", tmp_path / "p")
        partner("taxii", "collection", "add", "out")
        token = partner.json("partners", "add", "org-a", "--read", "out", "--max-tlp", "green")["token"]
        with partner.serving() as url:
            a("partners", "add", "org-p", "--no-token", "--remote-url", url + "/taxii2/", "--remote-token", token)
            for objects in rounds:
                store = Store.open(partner.database_url)  # the partner publishes what it holds
                taxii_server.publish(store, "out", objects, origin="test")
                store.close()
                a("partners", "pull", "org-p")
    exported = {o["id"]: o for o in json.loads(a("export", "stix").stdout)["objects"]}
    assert exported[actor["id"]] == actor
    assert exported[theirs["id"]]["name"] == "Their actor v2"
    a("taxii", "collection", "add", "shared")
    a("taxii", "publish", "shared")
    store = Store.open(a.database_url)
    published = ShareStore(store).objects_in("shared")
    store.close()
    assert {r.data["name"] for r in published if r.stix_id == actor["id"]} == {"Our Actor"}
    assert {r.data["name"] for r in published if r.stix_id == theirs["id"]} == {"Their actor v2"}
    assert inc["stix_id"] in {r.stix_id for r in published}
