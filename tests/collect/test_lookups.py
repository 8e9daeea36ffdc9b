"""DNS, TLS and favicon look-ups against real servers on loopback, through the SSRF guard."""

from __future__ import annotations

import hashlib
import ipaddress

from tests.collect.netservers import dns_server, favicon_server, self_signed, tls_server

from fimiscope.collect.fetch import FetchPolicy
from fimiscope.collect.lookups import NetworkLookups
from fimiscope.core.indicators import favicon_hash

ZONE = {
    ("news-site.test", "A"): ["127.0.0.1"],
    ("news-site.test", "AAAA"): [],
    ("news-site.test", "NS"): ["ns1.fictional-dns.test.", "ns2.fictional-dns.test."],
    ("news-site.test", "MX"): ["10 mx.mail-host.test."],
    ("news-site.test", "TXT"): ['"google-site-verification=Tok3n-Abc_123"', '"v=spf1 include:_spf.sender.test ~all"'],
}
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def lookups(port: int, **policy: object) -> NetworkLookups:
    base: dict[str, object] = {"per_host_delay": 0.0, "obey_robots": False}
    base.update(policy)
    return NetworkLookups(FetchPolicy(**base), resolver="127.0.0.1", resolver_port=port, timeout=2)  # type: ignore[arg-type]


def test_dns_records_become_indicators():
    with dns_server(ZONE) as port, lookups(port) as net:
        rec = net.dns("news-site.test")
    assert rec.ok, rec.error
    assert set(rec.found) == {
        ("ip", "127.0.0.1"), ("subnet", "127.0.0.0/24"), ("ns", "ns1.fictional-dns.test"),
        ("ns", "ns2.fictional-dns.test"), ("mx", "mx.mail-host.test"), ("verification", "google:Tok3n-Abc_123"),
        ("spf", "_spf.sender.test"),
    }
    assert rec.raw["NS"] and rec.at is not None


def test_dns_missing_domain_is_recorded_not_raised():
    with dns_server(ZONE) as port, lookups(port) as net:
        rec = net.dns("missing.test")
    assert not rec.ok and "NXDOMAIN" in rec.error


def test_tls_certificate_through_the_guard(tmp_path):
    key, cert, der = self_signed(tmp_path, ["news-site.test", "www.news-site.test", "sister-site.test"])
    with dns_server(ZONE) as dport, tls_server(key, cert) as tport:
        # loopback is refused by default: the guard stands in front of the TLS connection too
        with lookups(dport) as net:
            refused = net.tls("news-site.test", address="127.0.0.1", port=tport)
        assert not refused.ok and "SSRF guard" in refused.error
        with lookups(dport, allow_networks=LOOPBACK) as net:
            addr = next(v for k, v in net.dns("news-site.test").found if k == "ip")
            rec = net.tls("news-site.test", address=addr, port=tport)
    assert rec.ok, rec.error
    cert_info = rec.raw["certificate"]
    assert cert_info["sha256"] == hashlib.sha256(der).hexdigest()
    assert cert_info["serial"] == "5eed" and "Fictional Network Ltd" in cert_info["issuer"]
    assert ("tls_cert", hashlib.sha256(der).hexdigest()) in rec.found
    assert ("tls_san", "sister-site.test") in rec.found  # the other domain on the certificate
    assert not any(v in ("news-site.test", "www.news-site.test") for k, v in rec.found if k == "tls_san")


def test_tls_refused_when_nothing_listens(tmp_path):
    with lookups(9, allow_networks=LOOPBACK) as net:
        sock = __import__("socket").socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        rec = net.tls("news-site.test", address="127.0.0.1", port=port)
    assert not rec.ok and "ConnectionRefused" in rec.error


def test_favicon_is_fetched_and_hashed_like_shodan():
    icon = bytes(range(256)) * 4
    with favicon_server(icon) as base, lookups(9, allow_private_networks=True) as net:
        rec = net.favicon("127.0.0.1", url=f"{base}/favicon.ico")
        missing = net.favicon("127.0.0.1", url=f"{base}/nothing.ico")
    assert rec.ok and rec.found == [("favicon", str(favicon_hash(icon)))]
    assert not missing.ok and "404" in missing.error


def test_favicon_refused_by_default():
    with favicon_server(b"x") as base, lookups(9) as net:
        rec = net.favicon("127.0.0.1", url=f"{base}/favicon.ico")
    assert not rec.ok and "SSRF guard" in rec.error


def test_lookup_runs_dns_then_tls_on_the_answer(tmp_path):
    key, cert, der = self_signed(tmp_path, ["news-site.test"])
    with dns_server(ZONE) as dport, tls_server(key, cert) as tport, lookups(dport, allow_networks=LOOPBACK) as net:
        records = net.lookup("news-site.test", ["dns", "tls"], tls_port=tport)
    assert [r.lookup for r in records] == ["dns", "tls"] and all(r.ok for r in records)
    assert records[1].raw["address"] == "127.0.0.1"
    assert ("tls_cert", hashlib.sha256(der).hexdigest()) in records[1].found


def test_cli_lookup_records_history_and_links_sites(cli, monkeypatch):
    """`fimiscope infrastructure lookup` with the resolver set in the environment: each look-up
    is stored with its time; two sites on the same address are linked after detection."""
    import json

    zone = {("alpha.test", "A"): ["198.51.100.7"], ("beta.test", "A"): ["198.51.100.7"],
            ("alpha.test", "TXT"): ['"google-site-verification=SameToken123"'],
            ("beta.test", "TXT"): ['"google-site-verification=SameToken123"']}
    with dns_server(zone) as port:
        monkeypatch.setenv("FIMISCOPE_DNS_RESOLVER", f"127.0.0.1:{port}")
        monkeypatch.setenv("FIMISCOPE_FETCH_DELAY", "0")
        out = json.loads(cli("infrastructure", "lookup", "alpha.test", "beta.test", "--lookup", "dns",
                             "--format", "json").stdout)
        assert [(r["site"], r["lookup"], r["ok"]) for r in out] == [("alpha.test", "dns", True),
                                                                    ("beta.test", "dns", True)]
        cli("infrastructure", "lookup", "alpha.test", "--lookup", "dns")  # again: history grows
    cli("detect", "infrastructure")
    site = json.loads(cli("infrastructure", "show", "alpha.test", "--format", "json").stdout)
    assert len(site["lookups"]) == 2 and site["lookups"][0]["at"] >= site["lookups"][1]["at"]
    fps = {(f["kind"], f["value"]): f for f in site["fingerprints"]}
    assert fps[("ip", "198.51.100.7")]["origin"] == "dns" and fps[("ip", "198.51.100.7")]["times"] == 2
    assert [(s["site"], s["tier"]) for s in site["shared_with"]] == [("beta.test", "conclusive")]
    bad = cli("infrastructure", "lookup", "--lookup", "dns", ok=False)
    assert bad.exit_code == 2
