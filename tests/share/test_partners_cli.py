"""`fimiscope partners` and `fimiscope taxii` through the real CLI."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.share.taxii_helpers import LiveServer

from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store


def test_partner_lifecycle_and_publishing(cli: Any, database_url: str) -> None:
    cli("taxii", "collection", "add", "fimi-shared", "--title", "For partners")
    bad = cli("partners", "add", "x", "--read", "nope", ok=False)
    assert bad.exit_code == 2 and "no collection nope" in bad.stderr
    added = json.loads(
        cli("partners", "add", "cert-ee", "--read", "fimi-shared", "--max-tlp", "TLP:AMBER", "--format", "json").stdout
    )
    token = added["token"]
    assert token.startswith("fms_") and added["max_tlp"] == "amber" and added["active"]
    listed = json.loads(cli("partners", "list", "--format", "json").stdout)
    assert [p["name"] for p in listed] == ["cert-ee"] and "token" not in listed[0]
    assert token not in cli("partners", "show", "cert-ee", "--format", "json").stdout
    upd = json.loads(
        cli(
            "partners",
            "update",
            "cert-ee",
            "--max-tlp",
            "green",
            "--remote-url",
            "https://taxii.example/taxii2/",
            "--remote-token",
            "secret",
            "--format",
            "json",
        ).stdout
    )
    assert upd["max_tlp"] == "green" and upd["has_remote_token"] and "secret" not in json.dumps(upd)
    dup = cli("partners", "add", "cert-ee", ok=False)
    assert dup.exit_code == 2
    green = json.loads(cli("incidents", "create", "--title", "green one", "--tlp", "green", "--format", "json").stdout)
    red = json.loads(cli("incidents", "create", "--title", "red one", "--tlp", "red", "--format", "json").stdout)
    out = cli("taxii", "publish", "fimi-shared")
    assert "added" in out.stdout
    again = cli("taxii", "publish", "fimi-shared")
    assert " 0 objects added" in again.stdout
    store = Store.open(database_url)
    try:
        with LiveServer(store) as server:
            url = server.url + "/taxii2/fimi/collections/fimi-shared/objects/"
            headers = {"Accept": TAXII_MEDIA, "Authorization": f"Bearer {token}"}
            got = httpx.get(url, headers=headers, params={"match[type]": "incident"}).json()
            assert [o["id"] for o in got["objects"]] == [green["stix_id"]]
            assert red["stix_id"] != green["stix_id"]
            cli("partners", "revoke", "cert-ee")
            assert httpx.get(url, headers=headers).status_code == 401
    finally:
        store.close()
    shown = json.loads(cli("partners", "show", "cert-ee", "--format", "json").stdout)
    assert shown["active"] is False and shown["revoked_at"]
