"""A world that covers the sharing policy, for the tests that guard what a partner may see.

Partners at every TLP ceiling read the collection ``shared``; objects there carry every kind of
marking the policy has a rule for: each TLP 2.0 label, the TLP 1.0 ids, no marking, several
markings on one object (the most restrictive wins), granular markings (they count for the whole
object), custom statement marking-definitions (not TLP: an object with only those is unmarked),
and objects whose versions differ in TLP, within ``shared`` and across collections. Every object
is described by an ``Entry`` that says which TLP the policy gives it, so a test can check any
answer against the rule: nothing above the partner's ceiling, and everything at or below it that
is unambiguous.

A module, not conftest: the fixture in ``tests/share/test_partner_visibility.py`` builds the
world once per backend and serves it through the real app (``LiveServer``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.share.taxii_helpers import LiveServer

from fimiscope.cases.tlp import TLP_LEVELS, TLP_RANK
from fimiscope.share import taxii_server
from fimiscope.share.markings import TLP1_IDS, TLP2_IDS, tlp_marking_definition
from fimiscope.share.stix import organisation_identity
from fimiscope.store import Store
from fimiscope.store.share import Partner, ShareStore

ORG = organisation_identity()["id"]
TLP1 = {level: mid for mid, level in TLP1_IDS.items()}  # clear (WHITE), green, amber, red
ROOT = "/taxii2/fimi/"
V1 = "2025-01-01T00:00:00.000Z"
V2 = "2025-06-01T00:00:00.000Z"
V3 = "2025-09-01T00:00:00.000Z"

# A copyright statement: a marking-definition that is not TLP and restricts nothing.
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--3a1b5d0e-8f42-4c7e-9d1a-6b2f0c9e7a55",
    "created": "2024-01-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright the fimiscope test organisation"},
    "name": "Copyright statement",
}
STATEMENT2 = {
    **STATEMENT,
    "id": "marking-definition--b7c2e4f1-1d3a-4e5b-8c6d-2a9f0e1b3c44",
    "definition": {"statement": "Handle with care (not a TLP label)"},
    "name": "Handling statement",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored version: where it is, and the TLP the policy gives it."""

    label: str
    obj: dict[str, Any]
    collection: str
    tlp: str
    ambiguous: bool = False  # a lower version of an object raised later: hidden or not, both are safe

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def version(self) -> str:
        return str(self.obj.get("modified") or self.obj.get("created"))

    @property
    def rank(self) -> int:
        return TLP_RANK[self.tlp]


@dataclass(slots=True)
class PartnerAt:
    name: str
    token: str
    ceiling: str
    partner: Partner
    read: list[str]
    write: list[str]

    @property
    def rank(self) -> int:
        return TLP_RANK[self.ceiling]


@dataclass(slots=True)
class World:
    store: Store
    url: str = ""
    entries: list[Entry] = field(default_factory=list)
    partners: dict[str, PartnerAt] = field(default_factory=dict)

    def by_version(self, oid: str, version: str) -> Entry:
        from fimiscope.store.share import normalise_timestamp

        want = normalise_timestamp(version)
        found = [e for e in self.entries if e.id == oid and normalise_timestamp(e.version) == want]
        assert found, f"the server returned {oid} at {version}, which the world never stored"
        return max(found, key=lambda e: e.rank)  # the same version in two collections: the stricter

    def in_collection(self, collection: str) -> list[Entry]:
        return [e for e in self.entries if e.collection == collection]

    def label(self, label: str) -> Entry:
        return next(e for e in self.entries if e.label == label)


def make_object(
    label: str,
    markings: list[str] | None = None,
    *,
    granular: list[str] | None = None,
    oid: str | None = None,
    modified: str = V1,
    kind: str = "threat-actor",
    created_by: str = ORG,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": oid or f"{kind}--{uuid.uuid4()}",
        "created": V1,
        "modified": modified,
        "name": label,
        "description": f"{label}: a test object",
        "created_by_ref": created_by,
    }
    if markings:
        obj["object_marking_refs"] = list(markings)
    if granular:
        obj["granular_markings"] = [{"marking_ref": ref, "selectors": ["description"]} for ref in granular]
    return obj


def policy_objects() -> list[tuple[str, dict[str, Any], str]]:
    """(label, object, the TLP the policy gives it) for every single-version case."""
    t2, t1 = TLP2_IDS, TLP1
    cases: list[tuple[str, list[str] | None, list[str] | None, str]] = [
        *((f"tlp2 {lv}", [t2[lv]], None, lv) for lv in TLP_LEVELS),
        ("tlp1 white", [t1["clear"]], None, "clear"),
        ("tlp1 green", [t1["green"]], None, "green"),
        ("tlp1 amber", [t1["amber"]], None, "amber"),
        ("tlp1 red", [t1["red"]], None, "red"),
        ("unmarked", None, None, "green"),
        ("empty marking list", [], None, "green"),
        ("clear then red", [t2["clear"], t2["red"]], None, "red"),
        ("red then clear", [t2["red"], t2["clear"]], None, "red"),
        ("green then amber+strict", [t2["green"], t2["amber+strict"]], None, "amber+strict"),
        ("amber+strict then amber", [t2["amber+strict"], t2["amber"]], None, "amber+strict"),
        ("tlp1 amber with tlp2 green", [t1["amber"], t2["green"]], None, "amber"),
        ("tlp2 clear with tlp1 red", [t2["clear"], t1["red"]], None, "red"),
        ("granular red on clear", [t2["clear"]], [t2["red"]], "red"),
        ("granular amber only", None, [t2["amber"]], "amber"),
        ("granular green on amber", [t2["amber"]], [t2["green"]], "amber"),
        ("granular tlp1 red on green", [t2["green"]], [t1["red"]], "red"),
        ("granular amber+strict and green", None, [t2["green"], t2["amber+strict"]], "amber+strict"),
        ("statement only", [STATEMENT["id"]], None, "green"),
        ("two statements", [STATEMENT["id"], STATEMENT2["id"]], None, "green"),
        ("statement with clear", [STATEMENT["id"], t2["clear"]], None, "clear"),
        ("statement with red", [t2["red"], STATEMENT["id"]], None, "red"),
        ("granular statement on clear", [t2["clear"]], [STATEMENT["id"]], "clear"),
        ("unknown marking id", ["marking-definition--00000000-0000-4000-8000-000000000000"], None, "green"),
    ]
    out = [(label, make_object(label, refs, granular=gran), tlp) for label, refs, gran, tlp in cases]
    out.append(("indicator green", make_object("indicator green", [t2["green"]], kind="intrusion-set"), "green"))
    out.append(("statement definition", dict(STATEMENT), "green"))  # itself unmarked
    out.append(("statement definition marked red", dict(STATEMENT2, object_marking_refs=[t2["red"]]), "red"))
    # An official TLP definition is served at its own level: a partner below RED never learns
    # that the collection holds something RED.
    out += [(f"definition {lv}", tlp_marking_definition(lv), lv) for lv in ("clear", "amber", "red")]
    return out


def versioned_objects() -> list[Entry]:
    """Objects with several versions at different TLPs, in ``shared`` and across collections."""
    t2 = TLP2_IDS
    raised = f"threat-actor--{uuid.uuid4()}"
    lowered = f"threat-actor--{uuid.uuid4()}"
    steps = f"threat-actor--{uuid.uuid4()}"
    cross_up = f"threat-actor--{uuid.uuid4()}"
    cross_down = f"threat-actor--{uuid.uuid4()}"
    return [
        # green, then raised to red: the red version reaches red partners only
        Entry("raised v1", make_object("raised v1", [t2["green"]], oid=raised), "shared", "green", ambiguous=True),
        Entry("raised v2", make_object("raised v2", [t2["red"]], oid=raised, modified=V2), "shared", "red"),
        # red, then lowered to green: the green version is the latest for everyone at green
        Entry("lowered v1", make_object("lowered v1", [t2["red"]], oid=lowered), "shared", "red"),
        Entry("lowered v2", make_object("lowered v2", [t2["green"]], oid=lowered, modified=V2), "shared", "green"),
        # clear, amber+strict, then amber: each partner sees what its ceiling allows
        Entry("steps v1", make_object("steps v1", [t2["clear"]], oid=steps), "shared", "clear", ambiguous=True),
        Entry("steps v2", make_object("steps v2", [t2["amber+strict"]], oid=steps, modified=V2), "shared",
              "amber+strict"),
        Entry("steps v3", make_object("steps v3", [t2["amber"]], oid=steps, modified=V3), "shared", "amber",
              ambiguous=True),
        # a later, red version of a shared object sits in another collection
        Entry("cross-up v1", make_object("cross-up v1", [t2["clear"]], oid=cross_up), "shared", "clear",
              ambiguous=True),
        Entry("cross-up v2", make_object("cross-up v2", [t2["red"]], oid=cross_up, modified=V2), "other", "red"),
        # an earlier red version elsewhere, a later clear one shared
        Entry("cross-down v1", make_object("cross-down v1", [t2["red"]], oid=cross_down), "other", "red"),
        Entry("cross-down v2", make_object("cross-down v2", [t2["clear"]], oid=cross_down, modified=V2), "shared",
              "clear"),
    ]


def partner_at(store: Store, name: str, ceiling: str, read: list[str], write: list[str], n: int) -> PartnerAt:
    token = f"tok-{name}-{uuid.uuid4().hex}"
    p = ShareStore(store).add_partner(
        Partner(
            id="",
            name=name,
            identity_id=f"identity--{n:08d}-0000-4000-8000-00000000a11e",
            read_collections=read,
            write_collections=write,
            max_tlp=ceiling,
        ),
        token,
    )
    return PartnerAt(name=name, token=token, ceiling=ceiling, partner=p, read=read, write=write)


def build(store: Store) -> World:
    """Collections, objects and partners; nothing served yet."""
    shares = ShareStore(store)
    for cid, title in (
        ("shared", "Shared with partners"),
        ("other", "Another collection"),
        ("inbox", "Partner submissions"),
        ("internal", "Ours only"),
    ):
        shares.add_collection(cid, title)
    world = World(store=store)
    world.entries += [Entry(label, obj, "shared", tlp) for label, obj, tlp in policy_objects()]
    world.entries += versioned_objects()
    internal = make_object("internal clear", [TLP2_IDS["clear"]])
    world.entries.append(Entry("internal clear", internal, "internal", "clear"))
    for cid in ("shared", "other", "internal"):
        # one publish per version, oldest first, as an analyst would over time
        for e in sorted(world.in_collection(cid), key=lambda e: e.version):
            taxii_server.publish(store, cid, [e.obj])
    for n, level in enumerate(TLP_LEVELS, start=1):
        name = f"at-{level.replace('+', '-')}"
        world.partners[name] = partner_at(store, name, level, ["shared"], [], n)
    # a write-only grant at the highest ceiling: it may write the inbox but read nothing
    world.partners["write-only"] = partner_at(store, "write-only", "red", [], ["inbox"], 11)
    # reads another collection only
    world.partners["other-red"] = partner_at(store, "other-red", "red", ["other"], [], 12)
    # was given everything, then revoked
    world.partners["revoked"] = partner_at(store, "revoked", "red", ["shared", "other"], ["inbox"], 13)
    ShareStore(store).revoke("revoked")
    return world


class Served:
    """``with Served(world): ...`` serves the world through the real app on loopback."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.server = LiveServer(world.store)

    def __enter__(self) -> World:
        self.server.__enter__()
        self.world.url = self.server.url
        return self.world

    def __exit__(self, *exc: Any) -> None:
        self.server.__exit__(*exc)


__all__ = [
    "ORG", "ROOT", "STATEMENT", "TLP1", "Entry", "PartnerAt", "Served", "World", "build", "make_object", "partner_at",
]
