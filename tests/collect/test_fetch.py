"""The fetcher against a real loopback server: limits, retries, validators, SSRF guard."""

from __future__ import annotations

import gzip
import ipaddress
import time
from http.server import BaseHTTPRequestHandler

import pytest
from tests.collect.webserver import Reply, Site, site  # noqa: F401 - fixture

from fimiscope.collect.fetch import (
    Fetcher,
    FetchError,
    FetchPolicy,
    address_refusal,
    check_address,
    detect_charset,
    vet_url,
)
from fimiscope.core.errors import Refused


def fetcher(**kw: object) -> Fetcher:
    base = {"allow_private_networks": True, "per_host_delay": 0.0, "backoff_base": 0.05, "user_agent": "t/1"}
    base.update(kw)
    return Fetcher(FetchPolicy(**base))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "addr",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "169.254.1.1", "::1", "fe80::1",
     "fd00:ec2::254", "0.0.0.0", "224.0.0.1", "240.0.0.1", "::ffff:127.0.0.1", "100.64.0.1"],
)
def test_guard_refuses_inward_addresses(addr: str) -> None:
    ip = ipaddress.ip_address(addr)
    assert address_refusal(ip) is not None
    with pytest.raises(Refused, match="SSRF guard"):
        check_address("example.org", ip, FetchPolicy())


def test_guard_allows_public_and_allowlist() -> None:
    check_address("example.org", ipaddress.ip_address("93.184.216.34"), FetchPolicy())
    check_address("example.org", ipaddress.ip_address("2606:2800:220:1::1"), FetchPolicy())
    allow = FetchPolicy(allow_networks=(ipaddress.ip_network("10.0.0.0/8"),))
    check_address("intranet", ipaddress.ip_address("10.1.2.3"), allow)
    # an allowlisted network never opens the metadata address
    with pytest.raises(Refused, match="metadata"):
        check_address("x", ipaddress.ip_address("169.254.169.254"), FetchPolicy(allow_hosts=frozenset({"x"})))


def test_guard_resolves_names_and_refuses_schemes() -> None:
    with pytest.raises(Refused, match="loopback"):
        vet_url("http://localhost:9/", FetchPolicy())
    with pytest.raises(Refused, match="only http and https"):
        vet_url("file:///etc/passwd", FetchPolicy())
    with pytest.raises(Refused):
        vet_url("http://[::1]/", FetchPolicy())


def test_loopback_refused_without_the_setting(site: Site) -> None:
    site["/"] = "hello"
    with fetcher(allow_private_networks=False) as f, pytest.raises(Refused, match="SSRF"):
        f.get(site.url("/"))
    assert site.hits == []  # refused before any connection


def test_redirect_to_loopback_and_metadata_refused_after_allowed_first_hop(site: Site) -> None:
    # The first hop is allow-listed by its host name; the redirect target is not.
    site["/r1"] = Reply("", 302, headers={"Location": "http://localhost:9/admin"})
    site["/r2"] = Reply("", 302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    policy = {"allow_private_networks": False, "allow_hosts": frozenset({"127.0.0.1"}), "obey_robots": False}
    with fetcher(**policy) as f:
        with pytest.raises(Refused, match=r"localhost resolves to .*loopback"):
            f.get(site.url("/r1"))
        with pytest.raises(Refused, match=r"169\.254\.169\.254.*metadata"):
            f.get(site.url("/r2"))


def test_redirects_followed_and_limited(site: Site) -> None:
    site["/a"] = Reply("", 301, headers={"Location": "/b"})
    site["/b"] = "<p>final</p>"
    for i in range(10):
        site[f"/loop{i}"] = Reply("", 302, headers={"Location": f"/loop{i + 1}"})
    with fetcher(obey_robots=False) as f:
        got = f.get(site.url("/a"))
        assert got.url == site.url("/b") and got.redirects == [site.url("/a")]
        with pytest.raises(FetchError, match="more than 5 redirects"):
            f.get(site.url("/loop0"))


def test_connects_to_vetted_address_with_host_header_and_user_agent(site: Site) -> None:
    site["/"] = "<p>x</p>"
    port = site.server.server_address[1]  # type: ignore[union-attr]
    with fetcher(obey_robots=False, user_agent="analyst-bot/2") as f:
        f.get(f"http://localhost:{port}/")
    headers = site.hits[-1][1]
    assert headers["host"] == f"localhost:{port}"
    assert headers["user-agent"] == "analyst-bot/2"


def test_huge_body_cut_at_cap_quickly(site: Site) -> None:
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(2 * 1024**3))  # claims 2 GB
        h.end_headers()
        chunk = b"<p>" + b"a" * 65533
        for _ in range(2 * 1024**3 // len(chunk)):
            h.wfile.write(chunk)

    def endless_chunked(h: BaseHTTPRequestHandler) -> None:  # no length announced
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = b"<p>" + b"a" * 65533
        for _ in range(2 * 1024**3 // len(chunk)):
            h.wfile.write(chunk)

    site["/huge"] = endless
    site["/stream"] = endless_chunked
    with fetcher(obey_robots=False, max_bytes=1024 * 1024) as f:
        t0 = time.monotonic()
        with pytest.raises(FetchError, match="larger than the 1,048,576-byte cap"):
            f.get(site.url("/huge"))
        with pytest.raises(FetchError, match="cap; cut off"):
            f.get(site.url("/stream"))
        assert time.monotonic() - t0 < 10


def test_gzip_bomb_cut_on_decoded_size(site: Site) -> None:
    bomb = gzip.compress(b"<p>" + b"a" * (20 * 1024 * 1024))
    site["/bomb"] = Reply(bomb, headers={"Content-Encoding": "gzip"})
    with fetcher(obey_robots=False, max_bytes=1024 * 1024) as f, pytest.raises(FetchError, match="cap"):
        f.get(site.url("/bomb"))


def test_slow_drip_cut_by_deadline(site: Site) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(1000):
            h.wfile.write(b"a")
            h.wfile.flush()
            time.sleep(0.5)

    site["/drip"] = drip
    with fetcher(obey_robots=False, deadline=2.0, read_timeout=5.0, retries=0) as f:
        t0 = time.monotonic()
        with pytest.raises(FetchError, match="deadline"):
            f.get(site.url("/drip"))
        assert time.monotonic() - t0 < 5


def test_retry_after_then_success(site: Site) -> None:
    calls = {"n": 0}

    def flaky(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            body = b"slow down"
            h.send_response(429 if calls["n"] == 1 else 503)
            h.send_header("Retry-After", "1")
        else:
            body = b"<p>ok</p>"
            h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site["/flaky"] = flaky
    slept: list[float] = []
    f = Fetcher(FetchPolicy(allow_private_networks=True, per_host_delay=0, obey_robots=False), sleep=slept.append)
    got = f.get(site.url("/flaky"))
    assert got.body == b"<p>ok</p>" and calls["n"] == 3
    assert slept == [1.0, 1.0]  # Retry-After honoured both times
    site["/never"] = Reply("busy", 429, "text/plain", headers={"Retry-After": "3600"})
    with pytest.raises(FetchError, match="Retry-After 3600s is longer than we wait"):
        f.get(site.url("/never"))


def test_conditional_get_uses_remembered_validators(site: Site) -> None:
    def etagged(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = b"<p>content</p>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("ETag", '"v1"')
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site["/e"] = etagged
    validators: dict[str, dict[str, str]] = {}
    f = Fetcher(FetchPolicy(allow_private_networks=True, per_host_delay=0, obey_robots=False), validators=validators)
    assert not f.get(site.url("/e")).not_modified
    assert validators[site.url("/e")] == {"etag": '"v1"'}
    assert f.get(site.url("/e")).not_modified


def test_robots_forbidding_everything_is_a_refusal(site: Site) -> None:
    site["/robots.txt"] = Reply("User-agent: *\nDisallow: /\n", content_type="text/plain")
    site["/page"] = "<p>x</p>"
    with fetcher() as f, pytest.raises(Refused, match=r"robots\.txt"):
        f.get(site.url("/page"))
    assert site.count("/page") == 0
    assert site.count("/robots.txt") == 1
    with fetcher() as f:  # cached per host within one fetcher
        for _ in range(3):
            with pytest.raises(Refused):
                f.get(site.url("/page"))
        assert site.count("/robots.txt") == 2


def test_content_type_gate_and_binary_as_html(site: Site) -> None:
    site["/pdf"] = Reply(b"%PDF-1.4 ...", content_type="application/pdf")
    site["/bin"] = Reply(bytes(range(256)) * 20, content_type="text/html")
    with fetcher(obey_robots=False) as f:
        with pytest.raises(FetchError, match="content type 'application/pdf'"):
            f.get(site.url("/pdf"))
        with pytest.raises(FetchError, match="binary content served as text/html"):
            f.get(site.url("/bin"))


CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy. Vláda oznámila nová opatření."
RUSSIAN = "Министерство иностранных дел заявило, что новые санкции не повлияют на экономику страны."


@pytest.mark.parametrize(
    ("text", "actual", "declared"),
    [
        (CZECH, "windows-1250", "utf-8"),
        (RUSSIAN, "koi8-r", "utf-8"),
        (CZECH, "utf-8", "windows-1250"),
        (RUSSIAN, "utf-8", "koi8-r"),
        (RUSSIAN, "windows-1251", None),
    ],
)
def test_wrong_declared_charset_text_comes_out_right(site: Site, text: str, actual: str, declared: str | None) -> None:
    body = ("<html><body><p>" + text + " " + text + "</p></body></html>").encode(actual)
    ctype = f"text/html; charset={declared}" if declared else "text/html"
    site["/t"] = Reply(body, content_type=ctype)
    with fetcher(obey_robots=False) as f:
        got = f.get(site.url("/t"))
    assert text in got.text()


def test_charset_from_meta_when_header_silent() -> None:
    body = f'<html><head><meta charset="windows-1250"></head><body>{CZECH}</body></html>'.encode("cp1250")
    assert detect_charset(body, None) == "cp1250"


def test_https_goes_to_vetted_address_with_sni_and_certificate_check(tmp_path: object) -> None:
    """TLS to the pinned IP: SNI and the certificate check still use the host name."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import ThreadingHTTPServer
    from pathlib import Path

    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")
    folder = Path(str(tmp_path))
    key, cert = folder / "k.pem", folder / "c.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )
    names: list[str | None] = []
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,func-returns-value]

    class H(BaseHTTPRequestHandler):
        def log_message(self, *_a: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"<p>secure</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        client_ctx = ssl.create_default_context(cafile=str(cert))
        with fetcher(obey_robots=False, verify=client_ctx) as f:
            got = f.get(f"https://localhost:{port}/")
        assert got.body == b"<p>secure</p>"
        assert names and names[-1] == "localhost"
        # the certificate is for "localhost": the pinned IP alone would not verify
        with fetcher(obey_robots=False, verify=client_ctx) as f, pytest.raises(FetchError):
            f.get(f"https://127.0.0.1:{port}/")
    finally:
        server.shutdown()
        server.server_close()
