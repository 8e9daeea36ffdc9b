"""TAXII 2.1 server logic, free of the web framework: what a partner may see and write.

Every read goes through ``ObjectQuery`` whose collection and TLP bound are set from the
partner's grants, so an object above a partner's TLP or outside its collections is never
selected (listing, by id, versions and manifests alike). Writes are validated whole before
anything is stored, land in the quarantine collection for review, and must be created by the
writing partner's own identity. The answer to a write never depends on what else we hold (no
existence oracle): an id already taken by another identity is refused at review time.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fimiscope.cases.tlp import TLP_RANK
from fimiscope.core.clock import parse_time, utcnow
from fimiscope.core.errors import FimiscopeError, InvalidInput, NotFound
from fimiscope.share.markings import is_official_tlp, served_tlp_rank
from fimiscope.share.stix import validate_objects
from fimiscope.store import Store
from fimiscope.store.share import QUARANTINE, ObjectQuery, Partner, ShareStore, StoredObject, stix_version

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
API_ROOT = "fimi"
MAX_CONTENT_LENGTH = 10 * 1024 * 1024
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class TaxiiError(Exception):
    """A TAXII error message: rendered as ``{"title", "description", "http_status"}``."""

    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.description = description

    def body(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "http_status": str(self.status)}


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def accepts_taxii(accept: str | None) -> bool:
    """Accept negotiation: TAXII 2.1 JSON, or anything that allows it."""
    if not accept:
        return True
    for part in accept.split(","):
        media = part.split(";q=")[0].strip().lower().replace(" ", "")
        media_type = media.split(";")[0]
        if media_type in ("*/*", "application/*"):
            return True
        if media_type == "application/taxii+json" and (media == media_type or "version=2.1" in media):
            return True
    return False


def content_is_taxii(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.lower().replace(" ", "")
    return media.split(";")[0] == "application/taxii+json" and ("version=" not in media or "version=2.1" in media)


@dataclass(slots=True)
class Page:
    body: dict[str, Any]
    first: datetime | None
    last: datetime | None


class TaxiiService:
    def __init__(self, store: Store, title: str = "fimiscope TAXII 2.1") -> None:
        self.store = store
        self.shares = ShareStore(store)
        self.title = title

    # -- authentication ----------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Partner:
        """Bearer TOKEN, or Basic with the partner name and the token as password."""
        token, name = None, ""
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
            elif scheme.lower() == "basic":
                try:
                    name, _, token = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
                except (binascii.Error, UnicodeDecodeError):
                    token = None
        partner = self.shares.partner_by_token(token) if token else None
        if partner is not None and name and name not in (partner.name, partner.id):
            partner = None  # Basic names the partner the token was issued to, or nobody
        if partner is None:
            raise TaxiiError(401, "Unauthorized", "give a valid partner token (Authorization: Bearer ...)")
        return partner

    # -- discovery -----------------------------------------------------------------------------

    def discovery(self, base_url: str) -> dict[str, Any]:
        root = f"{base_url.rstrip('/')}/taxii2/{API_ROOT}/"
        return {
            "title": self.title,
            "description": "FIMI incidents shared with partners (STIX 2.1, TLP 2.0).",
            "default": root,
            "api_roots": [root],
        }

    def api_root(self, root: str) -> dict[str, Any]:
        self._root(root)
        return {
            "title": "FIMI incidents",
            "description": "Incidents with DISARM techniques, actors, channels and narratives.",
            "versions": [TAXII_MEDIA],
            "max_content_length": MAX_CONTENT_LENGTH,
        }

    @staticmethod
    def _root(root: str) -> None:
        if root != API_ROOT:
            raise TaxiiError(404, "API root not found", f"the API root is /taxii2/{API_ROOT}/")

    def _collection_info(self, col: dict[str, Any], partner: Partner) -> dict[str, Any]:
        return {
            "id": col["id"],
            "title": col["title"],
            "description": col["description"],
            "can_read": col["id"] in partner.read_collections,
            "can_write": col["id"] in partner.write_collections,
            "media_types": [STIX_MEDIA],
        }

    def collections(self, root: str, partner: Partner) -> dict[str, Any]:
        self._root(root)
        granted = set(partner.read_collections) | set(partner.write_collections)
        cols = [self._collection_info(c, partner) for c in self.shares.collections() if c["id"] in granted]
        return {"collections": cols} if cols else {}

    def collection(self, root: str, collection_id: str, partner: Partner) -> dict[str, Any]:
        self._root(root)
        if collection_id not in set(partner.read_collections) | set(partner.write_collections):
            raise TaxiiError(404, "Collection not found")  # never confirm a collection exists
        try:
            return self._collection_info(self.shares.collection(collection_id), partner)
        except NotFound:
            raise TaxiiError(404, "Collection not found") from None

    def _readable(self, root: str, collection_id: str, partner: Partner) -> None:
        info = self.collection(root, collection_id, partner)
        if not info["can_read"]:
            raise TaxiiError(403, "Forbidden", "you may not read this collection")

    # -- reading -------------------------------------------------------------------------------

    def _query(self, collection_id: str, partner: Partner, params: dict[str, list[str]], **kw: Any) -> ObjectQuery:
        def one(name: str) -> str | None:
            values = params.get(name)
            return values[-1] if values else None

        def many(name: str) -> list[str]:
            return [v.strip() for raw in params.get(name, []) for v in raw.split(",") if v.strip()]

        try:
            added_after = parse_time(one("added_after")) if one("added_after") else None
            limit = int(one("limit") or DEFAULT_LIMIT)
            next_token = one("next")
            if next_token and not (next_token.isascii() and next_token.isdigit() and len(next_token) <= 18):
                raise InvalidInput(f"next={next_token[:40]!r} is not a token this server gave")
            after_pk = int(next_token) if next_token else None
        except (InvalidInput, ValueError) as exc:
            raise TaxiiError(400, "Bad filter", str(exc)) from None
        if limit < 1:
            raise TaxiiError(400, "Bad filter", "limit must be at least 1")
        spec = many("match[spec_version]")
        if spec and "2.1" not in spec:
            return ObjectQuery(collection=collection_id, max_tlp_rank=-1, limit=1)  # nothing: we hold 2.1 only
        q = ObjectQuery(
            collection=collection_id,
            max_tlp_rank=TLP_RANK[partner.max_tlp],
            added_after=added_after,
            ids=many("match[id]"),
            types=many("match[type]"),
            versions=many("match[version]") or ["last"],
            after_pk=after_pk,
            limit=min(limit, MAX_LIMIT),
        )
        for k, v in kw.items():
            setattr(q, k, v)
        try:
            q.versions = list(q.versions)
            from fimiscope.store.share import normalise_timestamp

            for v in q.versions:
                if v not in ("last", "first", "all"):
                    normalise_timestamp(v)
        except InvalidInput as exc:
            raise TaxiiError(400, "Bad filter", f"match[version]: {exc}") from None
        return q

    def _page(self, q: ObjectQuery, render: Any, key: str, served_to: Partner | None = None) -> Page:
        """One page of ``q``. With ``served_to``, the versions whose content goes out are written
        to the access log (what a partner has pulled cannot be unshared: the analyst must know)."""
        rows, more = self.shares.query(q)
        if served_to is not None:
            self.shares.record_access(served_to.id, rows)
        body: dict[str, Any] = {"more": more}
        if more and rows:
            body["next"] = str(rows[-1].pk)
        if rows:
            body[key] = [render(r) for r in rows]
        first = min((r.date_added for r in rows), default=None)
        last = max((r.date_added for r in rows), default=None)
        return Page(body=body, first=first, last=last)

    def objects(self, root: str, collection_id: str, partner: Partner, params: dict[str, list[str]]) -> Page:
        self._readable(root, collection_id, partner)
        return self._page(self._query(collection_id, partner, params), lambda r: r.data, "objects", partner)

    def manifest(self, root: str, collection_id: str, partner: Partner, params: dict[str, list[str]]) -> Page:
        self._readable(root, collection_id, partner)
        return self._page(self._query(collection_id, partner, params), _manifest_record, "objects")

    def object(
        self, root: str, collection_id: str, object_id: str, partner: Partner, params: dict[str, list[str]]
    ) -> Page:
        self._readable(root, collection_id, partner)
        q = self._query(collection_id, partner, params, ids=[object_id])
        page = self._page(q, lambda r: r.data, "objects", partner)
        if "objects" not in page.body and not params.get("next"):
            raise TaxiiError(404, "Object not found")
        return page

    def versions(
        self, root: str, collection_id: str, object_id: str, partner: Partner, params: dict[str, list[str]]
    ) -> Page:
        self._readable(root, collection_id, partner)
        q = self._query(collection_id, partner, params, ids=[object_id], versions=["all"])
        page = self._page(q, lambda r: r.data.get("modified") or r.data.get("created") or r.version, "versions")
        if "versions" not in page.body and not params.get("next"):
            raise TaxiiError(404, "Object not found")
        return page

    # -- writing -------------------------------------------------------------------------------

    def add_objects(self, root: str, collection_id: str, partner: Partner, body: bytes) -> dict[str, Any]:
        info = self.collection(root, collection_id, partner)
        if not info["can_write"]:
            raise TaxiiError(403, "Forbidden", "this collection is read-only for you")
        if len(body) > MAX_CONTENT_LENGTH:
            raise TaxiiError(413, "Too large", f"the limit is {MAX_CONTENT_LENGTH} bytes")
        try:
            envelope = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TaxiiError(400, "Malformed envelope", f"not JSON: {exc}") from None
        except RecursionError:
            raise TaxiiError(400, "Malformed envelope", "arrays/objects nested too deeply") from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
            raise TaxiiError(400, "Malformed envelope", 'expected {"objects": [...]}')
        try:
            objects = validate_objects(envelope["objects"])
        except FimiscopeError as exc:
            raise TaxiiError(400, "Invalid STIX", str(exc)) from None
        now = utcnow()
        successes: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        accepted: list[dict[str, Any]] = []
        with self.store.transaction() as c:
            for obj in objects:
                version = obj.get("modified") or obj.get("created")
                if is_official_tlp(obj):
                    successes.append({"id": obj["id"], "version": version, "message": "TLP marking known"})
                    continue
                claimed = obj["id"] if obj["type"] == "identity" and obj["id"] == partner.identity_id else None
                creator = claimed or obj.get("created_by_ref")
                if creator != partner.identity_id:
                    # decided from the object alone: it says nothing about what we hold
                    failures.append(
                        {
                            "id": obj["id"],
                            "version": version,
                            "message": f"created_by_ref must be your identity {partner.identity_id}",
                        }
                    )
                    continue
                # No look-up of the id here: whether it is taken (by us, by another partner, at a
                # TLP this partner cannot see) is decided at review (`partners accept`), so the
                # answer is the same for every id and cannot be used to probe what exists.
                accepted.append(obj)
                successes.append({"id": obj["id"], "version": version, "message": "held for review"})
            if accepted:
                self.shares.put_objects(
                    accepted,
                    QUARANTINE,
                    f"partner:{partner.name}",
                    [served_tlp_rank(o) for o in accepted],
                    c,
                    target_collection=collection_id,
                    now=now,
                )
            status = {
                "id": str(uuid.uuid4()),
                "status": "complete",
                "request_timestamp": timestamp(now),
                "total_count": len(objects),
                "success_count": len(successes),
                "successes": successes,
                "failure_count": len(failures),
                "failures": failures,
                "pending_count": 0,
                "pendings": [],
            }
            self.shares.save_status(status, partner.id, c)
        return status

    def status(self, root: str, status_id: str, partner: Partner) -> dict[str, Any]:
        self._root(root)
        try:
            return self.shares.status(status_id, partner.id)
        except NotFound:
            raise TaxiiError(404, "Status not found") from None


def _manifest_record(r: StoredObject) -> dict[str, Any]:
    return {
        "id": r.stix_id,
        "date_added": timestamp(r.date_added),
        "version": r.data.get("modified") or r.data.get("created") or r.version,
        "media_type": STIX_MEDIA,
    }


# -- publishing and review (used by the CLI) ---------------------------------------------------------


def publish(store: Store, collection_id: str, objects: list[dict[str, Any]], origin: str = "local") -> tuple[int, int]:
    """Offer objects in a collection; versions already there are not added twice. Returns (new, known).

    What is published becomes each object's **newest** version, since partners are served the
    newest version or nothing (``ShareStore.query``). An object whose stored newest version is a
    different state (another TLP, other content) at a later or equal timestamp gets a new version
    one millisecond after it; an object without timestamps (a domain, a URL) is versioned by the
    time it is published. So raising an incident's TLP withdraws its earlier versions from the
    partners below the new level, and lowering it serves the new versions.
    """
    shares = ShareStore(store)
    shares.collection(collection_id)
    now = utcnow()
    ranks = [served_tlp_rank(o) for o in objects]
    with store.transaction() as c:
        stored = shares.newest(collection_id, [o["id"] for o in objects], c)
        out: list[dict[str, Any]] = []
        out_ranks: list[int] = []
        versions: list[str | None] = []
        known = 0
        for obj, rank in zip(objects, ranks, strict=True):
            prior = stored.get(obj["id"])
            timed = bool(obj.get("modified") or obj.get("created"))
            if prior is not None and prior.tlp_rank == rank and _same_state(prior.data, obj):
                known += 1
                continue
            version: str | None = None
            if not timed:
                version = timestamp(now)
                if prior is not None and version <= prior.version:
                    version = timestamp(parse_time(prior.version) + timedelta(microseconds=1))
            elif prior is not None and stix_version(obj) <= prior.version:
                later = parse_time(prior.version) + timedelta(milliseconds=1)
                obj = {**obj, "modified": later.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"}
            out.append(obj)
            out_ranks.append(rank)
            versions.append(version)
        new, again = shares.put_objects(out, collection_id, origin, out_ranks, c, now=now, versions=versions)
    return new, known + again


def _same_state(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same object apart from its ``modified`` (a re-assertion carries a later one)."""
    return {k: v for k, v in a.items() if k != "modified"} == {k: v for k, v in b.items() if k != "modified"}


def quarantined(store: Store, partner: str | None = None) -> list[StoredObject]:
    rows = ShareStore(store).objects_in(QUARANTINE)
    return [r for r in rows if partner is None or r.origin == f"partner:{partner}"]


@dataclass(slots=True)
class Review:
    """What `partners accept` did: the rows moved, and those refused because their id is taken."""

    accepted: list[StoredObject]
    conflicts: list[tuple[StoredObject, str]]


def accept(store: Store, pks: list[int] | None = None, partner: str | None = None) -> Review:
    """Move reviewed partner writes from quarantine into the collection they were written to.

    Collisions are decided here, not when the partner writes (no existence oracle): a write
    whose id is one of ours, or is held as created by another identity, stays in quarantine
    as a conflict (`partners reject` drops it); the partner is never told either way.
    """
    from fimiscope.share.stix import our_ids

    shares = ShareStore(store)
    rows = [r for r in quarantined(store, partner) if pks is None or r.pk in pks]
    review = Review(accepted=[], conflicts=[])
    if not rows:
        return review
    ours = our_ids(store)
    with store.transaction() as c:
        owners = shares.owners([r.stix_id for r in rows], c, outside=QUARANTINE)
        for r in rows:
            creator = r.created_by_ref or (r.stix_id if r.type == "identity" else "")
            if r.stix_id in ours:
                review.conflicts.append((r, "the id is one of ours"))
                continue
            others = owners.get(r.stix_id, set()) - {creator}
            if others:
                review.conflicts.append((r, "the id is held as created by another identity"))
                continue
            shares.put_objects([r.data], r.target_collection or QUARANTINE, r.origin, [r.tlp_rank], c)
            shares.delete_object(r.pk, c)
            owners.setdefault(r.stix_id, set()).add(creator)
            review.accepted.append(r)
    return review


def reject(store: Store, pks: list[int] | None = None, partner: str | None = None) -> int:
    """Drop partner writes from quarantine (after review). Returns how many."""
    shares = ShareStore(store)
    rows = [r for r in quarantined(store, partner) if pks is None or r.pk in pks]
    with store.transaction() as c:
        for r in rows:
            shares.delete_object(r.pk, c)
    return len(rows)
