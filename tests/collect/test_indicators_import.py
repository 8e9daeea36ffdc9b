"""Indicator files as analysts have them: the Laundromat CSV (IP rows before their domain,
WHOIS and certificates parsed), the simple CSV, passive DNS and WHOIS exports."""

from __future__ import annotations

import json

import pytest
from tests.collect.netservers import self_signed

from fimiscope.collect.indicators import guess_format, read_indicators, txt_parts, whois_parts
from fimiscope.core.errors import InvalidInput


def test_laundromat_file(tmp_path):
    _key, cert_path, _der = self_signed(tmp_path, ["alpha.example", "www.alpha.example", "sister.example"])
    pem = cert_path.read_text()
    whois = json.dumps({"domain_name": "ALPHA.EXAMPLE", "registrar": "Some Registrar LLC",
                        "emails": ["abuse@registrar.example", "owner@mail.example"], "org": "Privacy Protect, LLC",
                        "name_servers": ["NS1.HOST.EXAMPLE", "ns2.host.example"]})
    path = tmp_path / "laundromat-indicators.csv"
    rows = [["indicator_type", "indicator_content", "domain_name"], ["ip", "198.51.100.4", ""],
            ["subnet", "198.51.100", ""], ["whois", whois, "alpha.example"], ["certificate", pem, "alpha.example"],
            ["cert-domain", "*.alpha.example", "alpha.example"],
            ["cert-domain", "sni.cloudflaressl.com", "alpha.example"],
            ["verification_id", "google-site-verification|Tok_1", "alpha.example"],
            ["meta_social", "twitter:site|@Alpha_News", "alpha.example"], ["ga_tag_id", "GXGS20BWBJ", "alpha.example"],
            ["ga_tag_id", "91544", "alpha.example"], ["css-class", "{'a-one', 'a-two'}", "alpha.example"],
            ["crypto-wallet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "alpha.example"],
            ["cdn-domain", "", "alpha.example"], ["flux-capacitor", "x", "alpha.example"], ["ip", "203.0.113.1", ""]]
    import csv

    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    assert guess_format(path) == "laundromat"
    got, rej = read_indicators(path)
    found = {(r.kind, r.value) for r in got}
    assert {("ip", "198.51.100.4"), ("subnet", "198.51.100.0/24"), ("whois_registrar", "some registrar llc"),
            ("whois_registrant", "email:owner@mail.example"), ("ns", "ns1.host.example"),
            ("verification", "google:Tok_1"), ("social", "twitter:alpha_news"), ("ga4", "G-GXGS20BWBJ"),
            ("uuid", "91544"), ("wallet", "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
            ("tls_san", "sister.example")} <= found
    assert not any(k == "whois_registrant" and "privacy" in v for k, v in found)  # privacy services dropped
    assert not any(k == "tls_san" and ("alpha.example" in v or "cloudflaressl" in v) for k, v in found)
    assert all(r.domain == "alpha.example" for r in got)
    ip = next(r for r in got if r.kind == "ip")
    assert "next row" in ip.details["domain_from"] and ip.line == 2
    cert = next(r for r in got if r.kind == "tls_cert")
    assert cert.details["certificate"]["serial"] == "5eed"
    assert next(r for r in got if r.kind == "css_classes").details["classes"] == ["a-one", "a-two"]
    assert [str(r) for r in rej] == [f"line {rej[0].line}: unknown Laundromat indicator type 'flux-capacitor'",
                                     f"line {rej[1].line}: ip row without a domain at the end"]


def test_passive_dns_and_whois_exports(tmp_path):
    pdns = tmp_path / "pdns.jsonl"
    pdns.write_text("\n".join(json.dumps(r) for r in [
        {"rrname": "alpha.example.", "rrtype": "A", "rdata": ["198.51.100.4"], "time_first": 1600000000,
         "time_last": 1700000000, "count": 12},
        {"rrname": "alpha.example", "rrtype": "NS", "rdata": "ns1.host.example."},
        {"rrname": "alpha.example", "rrtype": "TXT", "rdata": "\"yandex-verification: 4269ffb7df562160\""},
        {"rrname": "alpha.example", "rrtype": "MX", "rdata": "10 mx.mail.example."},
    ]) + "\nnot json\n{\"rrtype\": \"A\"}\n")
    assert guess_format(pdns) == "pdns"
    got, rej = read_indicators(pdns)
    assert {(r.kind, r.value) for r in got} == {("ip", "198.51.100.4"), ("ns", "ns1.host.example"),
                                                ("verification", "yandex:4269ffb7df562160"),
                                                ("mx", "mx.mail.example")}
    a = next(r for r in got if r.kind == "ip")
    assert a.seen_at is not None and a.seen_at.year == 2023 and a.details["count"] == 12
    assert [r.line for r in rej] == [5, 6]
    whois = tmp_path / "whois.json"
    whois.write_text(json.dumps([{"domain_name": ["BETA.EXAMPLE", "beta.example"], "registrar": "R",
                                  "emails": "boss@beta-owner.example"}, "junk"]))
    got, rej = read_indicators(whois)
    assert {(r.domain, r.kind, r.value) for r in got} == {("beta.example", "whois_registrar", "r"),
                                                          ("beta.example", "whois_registrant",
                                                           "email:boss@beta-owner.example")}
    assert len(rej) == 1


def test_bad_files_say_what_to_do(tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        read_indicators(tmp_path / "nope.csv")
    odd = tmp_path / "odd.txt"
    odd.write_text("hello\nworld\n")
    with pytest.raises(InvalidInput, match="--format"):
        read_indicators(odd)
    csv_missing = tmp_path / "m.csv"
    csv_missing.write_text("domain,kind\na.example,ga\n")
    with pytest.raises(InvalidInput, match="missing column"):
        read_indicators(csv_missing, "csv")
    with pytest.raises(InvalidInput, match="unknown indicator format"):
        read_indicators(csv_missing, "xml")


def test_txt_and_whois_parts():
    assert txt_parts('"google-site-verification=abc123XYZ"') == [("verification", "google:abc123XYZ")]
    assert txt_parts("v=spf1 include:_spf.google.com include:mail.zone.example ~all") == [
        ("spf", "_spf.google.com"), ("spf", "mail.zone.example")]
    assert txt_parts("hello") == []
    assert whois_parts("not a dict") == []
