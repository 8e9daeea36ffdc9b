"""Optional network look-ups about a site's infrastructure: DNS records (A/AAAA, NS, MX, TXT)
with dnspython, the TLS certificate it serves, and its favicon. Off by default: they run only
when an analyst asks (``fimiscope infrastructure lookup``, which a schedule can run with
``--due``); the detectors never reach the network.

They go through the fetcher's safety and politeness rules (``collect/fetch.py``): the TLS
connection is made only to an address that passes the SSRF guard (private, loopback and
metadata addresses refused unless allowlisted), with the site's name as SNI; the favicon is
fetched by the ``Fetcher`` itself; every look-up of one domain waits for the per-host gate
(minimum delay, concurrency). DNS questions go to the resolver the operator configured
(``FIMISCOPE_DNS_RESOLVER``, else the system's): that is the operator's choice, not an
address a page can steer us to, and no answer is ever connected to without the guard.

Every look-up returns a ``LookupRecord`` with its time, so the store keeps a history: an
analyst sees which name servers or certificate a site had then, not only today.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fimiscope.collect.fetch import Fetcher, FetchError, FetchPolicy, HostGate, check_address, vet_url
from fimiscope.collect.indicators import certificate_parts, describe_der, txt_parts
from fimiscope.config import Settings
from fimiscope.core.clock import utcnow
from fimiscope.core.errors import ConfigError, FimiscopeError, Refused
from fimiscope.core.indicators import favicon_hash

LOOKUPS = ("dns", "tls", "favicon")
_RECORD_TYPES = ("A", "AAAA", "NS", "MX", "TXT")
MAX_FAVICON_BYTES = 256 * 1024


@dataclass(slots=True)
class LookupRecord:
    """One look-up of one domain: when, whether it worked, what it found (as indicator
    ``(kind, value)`` pairs) and the raw answer for the analyst."""

    domain: str
    lookup: str  # dns | tls | favicon
    at: datetime = field(default_factory=utcnow)
    ok: bool = True
    error: str | None = None
    found: list[tuple[str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


class NetworkLookups:
    """``lookup(domain, kinds)`` -> LookupRecords; never raises for one domain's failure."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: str | None = None,
        resolver_port: int = 53,
        timeout: float = 5.0,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self._resolver_address = resolver
        self._resolver_port = resolver_port
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()
        self._fetcher: Fetcher | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> NetworkLookups:
        resolver = settings.dns_resolver or None
        port = 53
        if resolver and resolver.count(":") == 1:  # host:port (IPv6 resolvers: give the bare address)
            resolver, _, raw_port = resolver.partition(":")
            try:
                port = int(raw_port)
            except ValueError:
                raise ConfigError(f"FIMISCOPE_DNS_RESOLVER port {raw_port!r} is not a number") from None
        if resolver:
            try:
                ipaddress.ip_address(resolver)
            except ValueError:
                raise ConfigError(f"FIMISCOPE_DNS_RESOLVER={resolver!r} must be an IP address") from None
        kw: dict[str, Any] = {"resolver": resolver, "resolver_port": port}
        kw.update(overrides)
        return cls(FetchPolicy.from_settings(settings), **kw)

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()

    def __enter__(self) -> NetworkLookups:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _gate(self, domain: str) -> HostGate:
        with self._lock:
            gate = self._gates.get(domain)
            if gate is None:
                gate = self._gates[domain] = HostGate(self.policy.per_host_concurrency, self.policy.per_host_delay)
            return gate

    def lookup(self, domain: str, kinds: Iterable[str] = LOOKUPS, *, tls_port: int = 443) -> list[LookupRecord]:
        """The chosen look-ups in order; TLS connects to the first address the DNS look-up found."""
        out: list[LookupRecord] = []
        addresses: list[str] = []
        for kind in kinds:
            if kind not in LOOKUPS:
                raise ConfigError(f"unknown look-up {kind!r}; use {', '.join(LOOKUPS)}")
            with self._gate(domain):
                if kind == "dns":
                    rec = self.dns(domain)
                    addresses = [v for k, v in rec.found if k == "ip"]
                elif kind == "tls":
                    rec = self.tls(domain, address=addresses[0] if addresses else None, port=tls_port)
                else:
                    rec = self.favicon(domain)
            out.append(rec)
        return out

    # -- DNS ------------------------------------------------------------------------------------

    def _resolver(self) -> Any:
        import dns.resolver

        if self._resolver_address:
            res = dns.resolver.Resolver(configure=False)
            res.nameservers = [self._resolver_address]
            res.port = self._resolver_port
        else:
            res = dns.resolver.Resolver()
        res.timeout = self.timeout
        res.lifetime = self.timeout * 2
        return res

    def dns(self, domain: str) -> LookupRecord:
        import dns.exception
        import dns.resolver

        rec = LookupRecord(domain, "dns")
        res = self._resolver()
        errors = []
        for rtype in _RECORD_TYPES:
            try:
                answer = res.resolve(domain, rtype, raise_on_no_answer=False)
            except dns.resolver.NXDOMAIN:
                rec.ok, rec.error = False, f"{domain} does not exist (NXDOMAIN)"
                return rec
            except (dns.exception.DNSException, OSError) as exc:
                errors.append(f"{rtype}: {type(exc).__name__}: {exc}")
                continue
            values = [r.to_text() for r in answer] if answer.rrset is not None else []
            rec.raw[rtype] = values
            for v in values:
                if rtype in ("A", "AAAA"):
                    rec.found.append(("ip", v))
                    if rtype == "A":
                        rec.found.append(("subnet", str(ipaddress.ip_network(f"{v}/24", strict=False))))
                elif rtype == "NS":
                    rec.found.append(("ns", v.rstrip(".").lower()))
                elif rtype == "MX":
                    rec.found.append(("mx", v.split()[-1].rstrip(".").lower()))
                elif rtype == "TXT":
                    text = "".join(part.strip('"') for part in v.split('" "'))
                    rec.found.extend(txt_parts(text))
        if errors and not rec.raw:
            rec.ok, rec.error = False, "; ".join(errors)[:500]
        elif errors:
            rec.raw["errors"] = errors
        return rec

    # -- TLS ------------------------------------------------------------------------------------

    def tls(self, domain: str, *, address: str | None = None, port: int = 443) -> LookupRecord:
        """The certificate ``domain`` serves. Connects only to an address the SSRF guard
        accepts (``address`` from the DNS look-up, else resolved and vetted here). The
        certificate is read, not trusted: an expired or self-signed one is still evidence."""
        rec = LookupRecord(domain, "tls")
        try:
            if address is None:
                _url, addr = vet_url(f"https://{domain}:{port}/", self.policy)
            else:
                addr = ipaddress.ip_address(address)
                check_address(domain, addr, self.policy)
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with socket.create_connection((str(addr), port), timeout=self.timeout) as sock, \
                    ctx.wrap_socket(sock, server_hostname=domain) as tls:
                der = tls.getpeercert(binary_form=True)
                rec.raw["tls_version"] = tls.version()
        except (Refused, FetchError) as exc:
            rec.ok, rec.error = False, str(exc)
            return rec
        except (OSError, ssl.SSLError, ValueError) as exc:
            rec.ok, rec.error = False, f"{domain}:{port}: {type(exc).__name__}: {exc}"
            return rec
        if not der:
            rec.ok, rec.error = False, f"{domain}:{port} sent no certificate"
            return rec
        cert = describe_der(der)
        rec.raw.update(certificate=cert, address=str(addr))
        rec.found.extend(certificate_parts(cert, domain))
        return rec

    # -- favicon ----------------------------------------------------------------------------------

    def favicon(self, domain: str, url: str | None = None) -> LookupRecord:
        """Fetch the favicon through the Fetcher (guarded, polite) and hash it as Shodan does."""
        rec = LookupRecord(domain, "favicon")
        if self._fetcher is None:
            self._fetcher = Fetcher(self.policy)
        target = url or f"https://{domain}/favicon.ico"
        try:
            got = self._fetcher.get(target, accept=None, conditional=False, max_bytes=MAX_FAVICON_BYTES)
        except FimiscopeError as exc:
            rec.ok, rec.error = False, str(exc)
            return rec
        if not got.body:
            rec.ok, rec.error = False, f"{target}: empty favicon"
            return rec
        value = str(favicon_hash(got.body))
        rec.raw.update(url=got.url, bytes=len(got.body), content_type=got.content_type, mmh3=value)
        rec.found.append(("favicon", value))
        return rec
