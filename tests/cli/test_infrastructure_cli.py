"""`fimiscope infrastructure ...` and `fimiscope indicators import` as a user runs them: the
real CLI in a subprocess, on SQLite and PostgreSQL, JSON shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from tests.detect import infra_support as web

from fimiscope.store import Store


def run(url: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "fimiscope", "--database-url", url, *args],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == code, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture
def loaded(database_url):
    store = Store.open(database_url)
    web.load(store)
    store.close()
    return database_url


@pytest.fixture
def loaded_sqlite(tmp_path):
    """For checks that do not depend on the backend: each CLI start costs seconds."""
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    store = Store.open(url)
    web.load(store)
    store.close()
    return url


def test_detect_groups_show_and_gexf(loaded):
    out = json.loads(run(loaded, "detect", "infrastructure", "--format", "json").stdout)
    assert [r["stage"] for r in out] == ["extract.fingerprints", "detect.infrastructure"]
    assert out[1]["signals"] == 3 and out[1]["details"]["groups"] == 1
    groups = json.loads(run(loaded, "infrastructure", "groups", "--format", "json").stdout)
    assert len(groups) == 1
    g = groups[0]
    assert set(g) >= {"id", "size", "tier", "score", "names", "sites", "created_at", "updated_at"}
    assert g["size"] == 4 and g["tier"] == "conclusive"
    detail = json.loads(run(loaded, "infrastructure", "show", g["id"], "--format", "json").stdout)
    assert {"members", "links", "indicators"} <= set(detail)
    assert any(i["kind"] == "ga" and i["value"] == "UA-7654321" for i in detail["indicators"])
    gexf = run(loaded, "infrastructure", "show", g["id"], "--format", "gexf").stdout
    root = ET.fromstring(gexf)
    ns = {"g": "http://gexf.net/1.3"}
    labels = {n.get("label") for n in root.iterfind(".//g:node", ns)}
    assert "daily-truth.example" in labels and "ga: UA-7654321" in labels
    assert len(root.findall(".//g:edge", ns)) >= 4
    table = run(loaded, "infrastructure", "show", g["id"]).stdout
    assert "UA-7654321" in table and "DIMA: fictional-op" in table

    site = json.loads(run(loaded, "infrastructure", "show", "daily-truth.example", "--format", "json").stdout)
    assert {"site", "source", "fingerprints", "shared_with", "groups", "lookups"} <= set(site)
    assert any(f["kind"] == "theme" for f in site["fingerprints"])
    assert "state-tv.example" in run(loaded, "infrastructure", "show", "daily-truth.example").stdout


def test_errors_have_codes_and_one_line(loaded_sqlite):
    loaded = loaded_sqlite
    proc = run(loaded, "infrastructure", "show", "grp_nope", code=3)
    assert proc.stderr.startswith("error: no site group 'grp_nope'") and proc.stderr.count("\n") == 1
    run(loaded, "infrastructure", "show", "nothing-here.example", code=3)
    run(loaded, "infrastructure", "show", "daily-truth.example", "--format", "gexf", code=2)
    run(loaded, "infrastructure", "groups", "--format", "xml", code=2)
    run(loaded, "infrastructure", "lookup", code=2)


def test_fingerprint_archived_page_file_and_offline(loaded_sqlite, tmp_path):
    loaded = loaded_sqlite
    out = json.loads(run(loaded, "infrastructure", "fingerprint", "https://daily-truth.example/news/0", "--offline",
                         "--format", "json").stdout)
    assert out["origin"].startswith("archived copy of document")
    assert {"kind": "ga", "value": "UA-7654321", "where": "inline script"}.items() <= {
        k: v for f in out["fingerprints"] if f["kind"] == "ga" for k, v in f.items()}.items()
    page = tmp_path / "page.html"
    page.write_bytes(b'<meta name="google-site-verification" content="abc123"><script>ym(1234567,"init")</script>')
    got = json.loads(run(loaded, "infrastructure", "fingerprint", str(page), "--format", "json").stdout)
    assert {(f["kind"], f["value"]) for f in got["fingerprints"]} == {("verification", "google:abc123"),
                                                                      ("yandex_metrica", "1234567")}
    run(loaded, "infrastructure", "fingerprint", "https://not-stored.example/", "--offline", code=3)
    # Fetching goes through the SSRF guard: loopback is refused (exit 4), not fetched.
    proc = run(loaded, "infrastructure", "fingerprint", "http://127.0.0.1:9/x", code=4)
    assert "SSRF guard" in proc.stderr


def test_indicators_import_and_grouping(database_url, tmp_path):
    simple = tmp_path / "mine.csv"
    simple.write_text("domain,type,value,source,seen_at\n"
                      "https://www.alpha.example/,ga_id,UA-5550001,analyst notes,2025-01-02\n"
                      "beta.example,ga,UA-5550001-4,analyst notes,\n"
                      "gamma.example,verification,google:tok123,partner CERT,\n"
                      "beta.example,verification,google:tok123,partner CERT,\n"
                      "bad row,ga,UA-1,x,\n"
                      "delta.example,colour,blue,x,\n", encoding="utf-8")
    out = json.loads(run(database_url, "indicators", "import", str(simple), "--format", "json").stdout)
    assert out["format"] == "csv" and out["indicators"] == 4 and out["sites"] == 3
    assert len(out["rejected"]) == 2 and "line 6" in out["rejected"][0] and "unknown type" in out["rejected"][1]
    laund = tmp_path / "laundromat-indicators.csv"
    laund.write_text('indicator_type,indicator_content,domain_name\nip,203.0.113.7,\nsubnet,203.0.113,\n'
                     'yandex_tag_id,ym(4455667,gamma.example\n'
                     'crypto-wallet,1d1ffcb3b1fc38c54e266ed85e22145a,gamma.example\n'
                     'ip,203.0.113.7,\nyandex_tag_id,ym(4455667,epsilon.example\n', encoding="utf-8")
    out = json.loads(run(database_url, "indicators", "import", str(laund), "--format", "json").stdout)
    assert out["format"] == "laundromat" and out["rejected"] == []
    run(database_url, "detect", "infrastructure")
    groups = json.loads(run(database_url, "infrastructure", "groups", "--format", "json").stdout)
    assert [sorted(g["sites"]) for g in groups] == [["alpha.example", "beta.example", "epsilon.example",
                                                     "gamma.example"]]
    site = json.loads(run(database_url, "infrastructure", "show", "gamma.example", "--format", "json").stdout)
    fps = {(f["kind"], f["value"]): f for f in site["fingerprints"]}
    assert fps[("ip", "203.0.113.7")]["origin"] == "import:laundromat-indicators.csv"
    assert ("uuid", "1d1ffcb3b1fc38c54e266ed85e22145a") in fps  # fails every wallet checksum
    assert fps[("verification", "google:tok123")]["where"] == "mine.csv line 4"
    run(database_url, "indicators", "import", str(tmp_path / "missing.csv"), code=2)
