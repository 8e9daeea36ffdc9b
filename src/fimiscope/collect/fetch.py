"""The one HTTP fetcher every web connector shares: polite to the sites it reads, safe from
the ones that turn out hostile.

Polite: a per-host concurrency limit and minimum delay between requests, robots.txt obeyed
(cached per host), retries with exponential back-off and jitter that honour Retry-After,
conditional GET (ETag / Last-Modified) remembered per URL, a User-Agent that says who we are.

Safe: every host is resolved and each of its addresses checked against the SSRF policy
before we connect, and the connection then goes to that vetted address (the Host header
and TLS SNI keep the name), so a DNS answer that changes between check and use (rebinding)
does not reach an internal address. Redirects are followed here, hop by hop, so each hop
is vetted too. Bodies are streamed and cut at a size cap, every request has an overall
deadline (a server that drips one byte a second is cut off), content types are gated and
charsets detected.

Validators for conditional GET live in a plain dict (``Fetcher.validators``); the runner
persists it in the source's connector state (table ``collect_state``), so they survive
restarts and are kept per source.
"""

from __future__ import annotations

import codecs
import ipaddress
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from fimiscope.config import Settings
from fimiscope.core.clock import utcnow
from fimiscope.core.errors import FimiscopeError, Refused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud metadata endpoints: refused even where a broader rule would not catch them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/plain",  # many servers misconfigure feeds; the XML screen still applies
)
SITEMAP_TYPES = ("application/xml", "text/xml", "application/x-gzip", "application/gzip", "text/plain")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_\-.]+)["']""")


class FetchError(FimiscopeError):
    """The network or the server failed us (timeout, HTTP error, too large, wrong type)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


@dataclass(slots=True)
class FetchPolicy:
    """Limits and safety rules; ``from_settings`` takes them from the settings table."""

    user_agent: str = "fimiscope/0.1"
    allow_private_networks: bool = False
    allow_hosts: frozenset[str] = frozenset()  # host names let through the address check
    allow_networks: tuple[IPNetwork, ...] = ()  # networks let through the address check
    obey_robots: bool = True
    max_bytes: int = 10 * 1024 * 1024
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # seconds for one request, headers and body, whatever the server does
    max_redirects: int = 5
    retries: int = 3
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After fails the request instead of stalling
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0  # minimum seconds between two requests to the same host
    max_validators: int = 20_000
    verify: Any = True  # TLS verification: True (certifi), an ssl.SSLContext, or a CA bundle path

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> FetchPolicy:
        """The policy of ``settings`` (the ``FIMISCOPE_FETCH_*`` rows of the settings table)."""
        hosts: set[str] = set()
        nets: list[IPNetwork] = []
        for item in settings.network_allowlist.replace(",", " ").split():
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        policy = cls(
            user_agent=settings.user_agent,
            allow_private_networks=settings.allow_private_networks,
            allow_hosts=frozenset(hosts),
            allow_networks=tuple(nets),
            obey_robots=settings.obey_robots,
            per_host_delay=settings.fetch_delay,
            per_host_concurrency=settings.fetch_concurrency,
            deadline=settings.fetch_deadline,
            read_timeout=settings.fetch_read_timeout,
            max_bytes=settings.fetch_max_bytes,
            retries=settings.fetch_retries,
            backoff_base=settings.fetch_backoff,
        )
        for name, value in overrides.items():
            setattr(policy, name, value)
        return policy


def address_refusal(addr: IPAddress) -> str | None:
    """Why an address must not be fetched from, or None when it is public."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return address_refusal(addr.ipv4_mapped)
    if addr in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for test, what in (
        (addr.is_loopback, "a loopback address"),
        (addr.is_unspecified, "an unspecified address"),
        (addr.is_link_local, "a link-local address"),
        (addr.is_multicast, "a multicast address"),
        (addr.is_private, "a private-network address"),
        (addr.is_reserved, "a reserved address"),
        (not addr.is_global, "not a public address"),
    ):
        if test:
            return what
    return None


def check_address(host: str, addr: IPAddress, policy: FetchPolicy) -> None:
    """Raise Refused unless ``addr`` (one address of ``host``) may be connected to."""
    why = address_refusal(addr)
    if why is None:
        return
    if addr in METADATA_ADDRESSES:
        # Never opened by the broad switch: only a network allowlist entry that names it exactly.
        if any(net.num_addresses == 1 and addr in net for net in policy.allow_networks):
            return
        raise Refused(f"{host} resolves to {addr}, {why}: refused (SSRF guard)")
    if policy.allow_private_networks or host.lower().rstrip(".") in policy.allow_hosts:
        return
    if any(addr in net for net in policy.allow_networks):
        return
    raise Refused(
        f"{host} resolves to {addr}, {why}: refused (SSRF guard; set FIMISCOPE_ALLOW_PRIVATE_NETWORKS=1 "
        "or FIMISCOPE_NETWORK_ALLOWLIST to allow it)"
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(host, f"cannot resolve host: {exc}") from None
    seen: list[IPAddress] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if addr not in seen:
            seen.append(addr)
    if not seen:
        raise FetchError(host, "host has no address")
    return seen


def vet_url(url: str, policy: FetchPolicy) -> tuple[httpx.URL, IPAddress]:
    """Check scheme and every resolved address; return the URL and the address to connect to."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(url, f"invalid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise Refused(f"{url}: only http and https URLs are fetched, not {parsed.scheme or 'no scheme'!r}")
    if not parsed.host:
        raise FetchError(url, "URL has no host")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    addrs = resolve(parsed.host, port)
    for addr in addrs:  # every address: a name that also resolves inward is refused
        check_address(parsed.host, addr, policy)
    return parsed, addrs[0]


@dataclass(slots=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int
    headers: dict[str, str]
    body: bytes = b""
    content_type: str = ""
    encoding: str | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max((when - utcnow()).total_seconds(), 0.0)


def _norm_charset(name: str | bytes | None) -> str | None:
    if not name:
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "ignore")
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _decodes(body: bytes, enc: str) -> bool:
    try:
        body.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect_charset(body: bytes, declared: str | None = None) -> str:
    """The charset that reads ``body``: declared (header) if it decodes, then <meta>/XML
    declaration, then detection. Valid UTF-8 with non-ASCII bytes wins over a declared
    single-byte charset (a legacy text decodes as UTF-8 by accident almost never)."""
    is_utf8 = _decodes(body, "utf-8")
    head = body[:4096]
    candidates = [_norm_charset(declared)]
    for rx in (_META_CHARSET, _XML_ENCODING):
        m = rx.search(head)
        if m:
            candidates.append(_norm_charset(m.group(1)))
    for enc in candidates:
        if not enc:
            continue
        if enc == "utf-8" and is_utf8:
            return "utf-8"
        if is_utf8 and not body.isascii() and codecs.lookup(enc).name != "utf-8":
            continue  # declared legacy charset, but the bytes are UTF-8
        if enc != "utf-8" and _decodes(body, enc):
            return enc
    if is_utf8:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is None or not best.encoding:
        raise FetchError("", "cannot tell the text's character encoding")
    return str(codecs.lookup(best.encoding).name)


def looks_binary(body: bytes) -> bool:
    """NUL bytes or a high share of control bytes in the first KB: not text."""
    head = body[:1024]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls / len(head) > 0.1


class _HostGate:
    """Per-host concurrency and spacing. Shared by all threads using one Fetcher."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self._sem = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._delay = delay
        self._next = 0.0

    def __enter__(self) -> None:
        self._sem.acquire()
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._delay
        if wait > 0:
            time.sleep(wait)

    def __exit__(self, *_exc: object) -> None:
        self._sem.release()


HostGate = _HostGate  # the network look-ups (collect/lookups.py) wait at the same per-host gates


class Fetcher:
    """``get(url)`` -> FetchResult, or raises Refused (policy) / FetchError (network, HTTP)."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        validators: dict[str, dict[str, str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.validators = validators if validators is not None else {}
        self._sleep = sleep
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, RobotFileParser | None] = {}
        self._lock = threading.Lock()
        timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
        # Redirects and retries are ours; trust_env off so a proxy variable cannot bypass the guard.
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=policy.verify)
        self.requests = 0  # HTTP requests sent (for tests and benchmarks)

    @classmethod
    def from_settings(
        cls, settings: Settings, validators: dict[str, dict[str, str]] | None = None, **kw: Any
    ) -> Fetcher:
        return cls(FetchPolicy.from_settings(settings, **kw), validators=validators)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- public --------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        accept: Iterable[str] | None = HTML_TYPES,
        conditional: bool = True,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch ``url`` politely and safely. ``accept``: allowed content types (None: any).
        With ``conditional`` a remembered ETag/Last-Modified is sent and a 304 comes back as
        ``not_modified``."""
        redirects: list[str] = []
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            if self.policy.obey_robots and not self._robots_allow(current):
                raise Refused(f"{current}: robots.txt of {urlsplit(current).netloc} forbids fetching it")
            resp = self._with_retries(current, conditional=conditional, max_bytes=max_bytes or self.policy.max_bytes)
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(current, f"HTTP {resp.status} redirect without a Location", status=resp.status)
                redirects.append(current)
                current = urljoin(current, location)
                continue
            resp.url = current
            resp.redirects = redirects
            return self._finish(url, resp, accept)
        raise FetchError(url, f"more than {self.policy.max_redirects} redirects")

    # -- internals -----------------------------------------------------------------------------

    def _finish(self, asked: str, resp: FetchResult, accept: Iterable[str] | None) -> FetchResult:
        if resp.status == 304:
            resp.not_modified = True
            return resp
        if resp.status >= 400:
            raise FetchError(resp.url, f"HTTP {resp.status}", status=resp.status)
        if not 200 <= resp.status < 300:
            raise FetchError(resp.url, f"unexpected HTTP {resp.status}", status=resp.status)
        ctype_full = resp.headers.get("content-type", "")
        ctype = ctype_full.split(";", 1)[0].strip().lower()
        resp.content_type = ctype
        if accept is not None and ctype and ctype not in tuple(accept):
            raise FetchError(resp.url, f"content type {ctype!r} is not one we read here", status=resp.status)
        if ctype.startswith("text/") or ctype in HTML_TYPES or "xml" in ctype or "json" in ctype or not ctype:
            if looks_binary(resp.body):
                raise FetchError(resp.url, f"binary content served as {ctype or 'no type'}; not read")
            m = re.search(r"charset\s*=\s*[\"']?([^;\"'\s]+)", ctype_full, re.IGNORECASE)
            try:
                resp.encoding = detect_charset(resp.body, m.group(1) if m else None)
            except FetchError as exc:
                raise FetchError(resp.url, exc.reason) from None
        etag, modified = resp.headers.get("etag"), resp.headers.get("last-modified")
        if etag or modified:
            self._remember(asked, {k: v for k, v in (("etag", etag), ("last_modified", modified)) if v})
        return resp

    def _remember(self, url: str, validator: dict[str, str]) -> None:
        with self._lock:
            self.validators.pop(url, None)
            self.validators[url] = validator  # dicts keep order: re-insert makes it newest
            while len(self.validators) > self.policy.max_validators:
                self.validators.pop(next(iter(self.validators)))

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self.policy.per_host_concurrency, self.policy.per_host_delay)
            return gate

    def _with_retries(self, url: str, *, conditional: bool, max_bytes: int) -> FetchResult:
        attempt = 0
        while True:
            try:
                resp = self._once(url, conditional=conditional, max_bytes=max_bytes)
            except FetchError as exc:
                if not getattr(exc, "retryable", False) or attempt >= self.policy.retries:
                    raise
                wait = self._backoff(attempt)
            else:
                if resp.status not in _RETRY_STATUS or attempt >= self.policy.retries:
                    return resp
                after = _retry_after(resp.headers.get("retry-after"))
                if after is not None and after > self.policy.max_retry_after:
                    raise FetchError(
                        url, f"HTTP {resp.status}, Retry-After {after:.0f}s is longer than we wait", status=resp.status
                    )
                wait = after if after is not None else self._backoff(attempt)
            attempt += 1
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.backoff_base * (2**attempt), self.policy.backoff_max)
        return float(base / 2 + random.uniform(0, base / 2))

    def _once(self, url: str, *, conditional: bool, max_bytes: int) -> FetchResult:
        parsed, addr = vet_url(url, self.policy)
        host = parsed.host
        # Connect to the vetted address; the Host header and SNI keep the name (no rebinding).
        ip_host = f"[{addr}]" if addr.version == 6 else str(addr)
        target = parsed.copy_with(host=ip_host) if str(addr) != host else parsed
        headers = {
            "User-Agent": self.policy.user_agent,
            "Accept-Encoding": "gzip, deflate, br",
            "Host": parsed.netloc.decode("ascii"),
        }
        if conditional and (known := self.validators.get(url)):
            if "etag" in known:
                headers["If-None-Match"] = known["etag"]
            if "last_modified" in known:
                headers["If-Modified-Since"] = known["last_modified"]
        extensions: dict[str, Any] = {}
        if parsed.scheme == "https":
            extensions["sni_hostname"] = host
        deadline = time.monotonic() + self.policy.deadline
        timeout = httpx.Timeout(
            self.policy.read_timeout, connect=min(self.policy.connect_timeout, self.policy.deadline)
        )
        with self._gate(f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"):
            self.requests += 1
            try:
                request = self._client.build_request(
                    "GET", target, headers=headers, timeout=timeout, extensions=extensions
                )
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise _retryable(FetchError(url, f"timed out ({type(exc).__name__})")) from None
            except httpx.TransportError as exc:
                raise _retryable(FetchError(url, f"network error: {exc}")) from None
            try:
                out = FetchResult(url=url, status=response.status_code, headers=dict(response.headers))
                if response.status_code in (200, 203) or response.status_code >= 400:
                    out.body = self._read(url, response, max_bytes, deadline)
                return out
            finally:
                response.close()

    def _read(self, url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length")
        encoded = response.headers.get("content-encoding")
        if declared and declared.isdigit() and int(declared) > max_bytes and not encoded:
            raise FetchError(url, f"body of {int(declared):,} bytes is larger than the {max_bytes:,}-byte cap")
        chunks: list[bytes] = []
        size = 0
        try:
            # iter_bytes decodes gzip/deflate/br: the cap is on the decoded size (no zip bombs).
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(url, f"body larger than the {max_bytes:,}-byte cap; cut off")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise FetchError(url, f"took longer than the {self.policy.deadline:g}s deadline; cut off")
        except httpx.TimeoutException:
            raise _retryable(FetchError(url, "timed out reading the body")) from None
        except httpx.DecodingError as exc:
            raise FetchError(url, f"undecodable compressed body: {exc}") from None
        except httpx.TransportError as exc:
            raise _retryable(FetchError(url, f"network error while reading: {exc}")) from None
        return b"".join(chunks)

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            known = origin in self._robots
            parser = self._robots.get(origin)
        if not known:
            parser = self._load_robots(origin)
            with self._lock:
                self._robots[origin] = parser
        if parser is None:
            return True
        return parser.can_fetch(self.policy.user_agent, url)

    def _load_robots(self, origin: str) -> RobotFileParser | None:
        """RFC 9309: 4xx means no rules; 5xx or unreachable means assume everything is forbidden."""
        robots_url = origin + "/robots.txt"
        current = robots_url
        resp: FetchResult | None = None
        for _ in range(self.policy.max_redirects + 1):
            resp = self._with_retries(current, conditional=False, max_bytes=512 * 1024)
            if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
                current = urljoin(current, resp.headers["location"])
                continue
            break
        assert resp is not None
        parser = RobotFileParser(robots_url)
        if 400 <= resp.status < 500:
            return None
        if resp.status >= 500 or resp.status in (301, 302, 303, 307, 308):
            parser.disallow_all = True  # type: ignore[attr-defined]
            return parser
        parser.parse(resp.body.decode("utf-8", errors="replace").splitlines())
        return parser


def _retryable(exc: FetchError) -> FetchError:
    exc.retryable = True  # type: ignore[attr-defined]
    return exc


def canonical(url: str) -> str:
    """Drop the fragment: it never changes what the server sends."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
