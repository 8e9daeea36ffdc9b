"""Pulling from a partner's TAXII 2.1 server.

Built on httpx (already our HTTP client) rather than taxii2-client: we need the
``X-TAXII-Date-Added-Last`` header to remember where each collection left off, hard caps on
response size, and the same private-network guard as the fetcher; taxii2-client returns only
the JSON body. taxii2-client is used in the tests as an independent peer against our server.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from fimiscope.core.errors import InvalidInput, Refused
from fimiscope.share.stix import import_objects, validate_objects
from fimiscope.share.taxii_server import TAXII_MEDIA
from fimiscope.store import Store
from fimiscope.store.share import ShareStore

MAX_RESPONSE_BYTES = 20 * 1024 * 1024
MAX_OBJECTS_PER_PULL = 100_000
PAGE_SIZE = 500


@dataclass(slots=True)
class PullResult:
    collection: str
    fetched: int = 0
    new: int = 0
    known: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0
    added_after: str | None = None
    errors: list[str] = field(default_factory=list)


def _guard(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{url!r} is not an http(s) URL")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise InvalidInput(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not ip.is_global:
            raise Refused(
                f"{parts.hostname} resolves to a private address ({ip}); "
                "set FIMISCOPE_ALLOW_PRIVATE_NETWORKS=1 to allow"
            )


class TaxiiClient:
    def __init__(self, url: str, token: str, *, allow_private: bool = False, timeout: float = 30.0) -> None:
        _guard(url, allow_private)
        self.url = url if url.endswith("/") else url + "/"
        self.allow_private = allow_private
        self.http = httpx.Client(
            headers={"Accept": TAXII_MEDIA, "Authorization": f"Bearer {token}", "User-Agent": "fimiscope-taxii/0.1"},
            timeout=timeout,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        _guard(url, self.allow_private)
        with self.http.stream("GET", url, params=params) as resp:
            body = bytearray()
            for chunk in resp.iter_bytes():
                body.extend(chunk)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise InvalidInput(f"{url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        if resp.status_code == 401:
            raise Refused(f"{url}: the partner refused our credential (401)")
        if resp.status_code >= 400:
            raise InvalidInput(f"{url}: HTTP {resp.status_code}: {bytes(body)[:200].decode('utf-8', 'replace')}")
        ctype = resp.headers.get("content-type", "").replace(" ", "").lower()
        if not ctype.startswith("application/taxii+json"):
            raise InvalidInput(f"{url}: answered {ctype or 'no content type'}, not TAXII 2.1")
        return httpx.Response(resp.status_code, headers=resp.headers, content=bytes(body), request=resp.request)

    def api_root(self) -> str:
        """The URL given may be the discovery endpoint or an API root."""
        data = self.get(self.url).json()
        if "api_roots" in data or "default" in data:
            root = data.get("default") or (data.get("api_roots") or [None])[0]
            if not root:
                raise InvalidInput(f"{self.url}: the server lists no API root")
            return str(urljoin(self.url, root))
        return self.url

    def readable_collections(self, root: str) -> list[str]:
        data = self.get(urljoin(root, "collections/")).json()
        return [c["id"] for c in data.get("collections", []) if c.get("can_read")]

    def objects_since(
        self, root: str, collection: str, added_after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Every object added after ``added_after``, following ``next``; returns (objects, new watermark)."""
        url = urljoin(root, f"collections/{collection}/objects/")
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if added_after:
            params["added_after"] = added_after
        objects: list[dict[str, Any]] = []
        last = added_after
        while True:
            resp = self.get(url, params)
            data = resp.json()
            objects.extend(data.get("objects", []))
            if len(objects) > MAX_OBJECTS_PER_PULL:
                raise InvalidInput(f"more than {MAX_OBJECTS_PER_PULL} objects in one pull; pull again after this")
            header = resp.headers.get("X-TAXII-Date-Added-Last")
            if header and (last is None or header > last):
                last = header
            if not data.get("more") or not data.get("next"):
                return objects, last
            params = {**params, "next": data["next"]}


def pull(store: Store, partner_name: str, who: str, *, allow_private: bool = False) -> list[PullResult]:
    """Fetch what a partner added since last time and import it, with the partner as provenance."""
    shares = ShareStore(store)
    partner = shares.partner(partner_name)
    if not partner.remote_url or not partner.remote_token:
        raise InvalidInput(
            f"partner {partner.name!r} has no TAXII server on record: add it with --remote-url and --remote-token"
        )
    client = TaxiiClient(partner.remote_url, partner.remote_token, allow_private=allow_private)
    results = []
    try:
        root = client.api_root()
        collections = partner.remote_collections or client.readable_collections(root)
        for cid in collections:
            res = PullResult(collection=cid)
            since = shares.pull_watermark(partner.id, cid)
            objects, last = client.objects_since(root, cid, since)
            res.fetched = len(objects)
            if objects:
                valid = validate_objects(objects)
                imported = import_objects(store, valid, f"partner:{partner.name}", who)
                res.new, res.known = imported.new, imported.known
                res.incidents_created, res.incidents_updated = imported.incidents_created, imported.incidents_updated
            if last and last != since:
                with store.transaction() as c:
                    shares.set_pull_watermark(partner.id, cid, last, c)
            res.added_after = last
            results.append(res)
    finally:
        client.close()
    return results
