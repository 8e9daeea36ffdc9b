"""STIX 2.1 export and import of incidents, built with the ``stix2`` library.

The mapping follows what OpenCTI imports as is: its custom ``channel`` and ``narrative``
objects and relationship names (channel ``publishes`` url, channel ``belongs-to``
threat-actor, channel ``amplifies`` channel), DISARM techniques as ``attack-pattern`` with a
``DISARM`` external reference, TLP 2.0 markings by their official ids.

Ids are derived (uuid5) from what they name, so exporting twice gives the same ids and a
partner's re-import changes nothing. Objects we do not model are kept as-is on import and
exported again.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import stix2
from stix2 import CustomObject
from stix2.exceptions import STIXError
from stix2.properties import ListProperty, StringProperty

from fimiscope.cases import disarm
from fimiscope.cases.confidence import estimative_to_stix, stix_to_estimative
from fimiscope.cases.seen import Seen, incident_seen
from fimiscope.cases.tlp import TLP_RANK
from fimiscope.config import Settings
from fimiscope.core.clock import parse_time, utcnow
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Actor, Channel, Incident
from fimiscope.core.serialize import nested_deeper, parse_json
from fimiscope.share.markings import TLP2_IDS, is_official_tlp, object_tlp, tlp_marking_definition
from fimiscope.store import Store
from fimiscope.store import signals as signal_store
from fimiscope.store.cases import IncidentStore
from fimiscope.store.share import RAW, ShareStore

NAMESPACE = uuid.UUID("6f3c1f0e-5d1c-4d8e-9a53-3b7f1f6a9c21")
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
MAX_OBJECTS = 100_000
MAX_NESTING = 32  # lists/dicts within one object; real STIX nests under 10
_STIX_ID = re.compile(
    r"^[a-z0-9][a-z0-9-]*[a-z0-9]--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


@CustomObject(
    "channel",
    [
        ("name", StringProperty(required=True)),
        ("description", StringProperty()),
        ("aliases", ListProperty(StringProperty)),
        ("channel_types", ListProperty(StringProperty)),
    ],
)
class ChannelSDO:
    """OpenCTI's Channel: an outlet, account or page that publishes."""


@CustomObject(
    "narrative",
    [
        ("name", StringProperty(required=True)),
        ("description", StringProperty()),
        ("aliases", ListProperty(StringProperty)),
        ("narrative_types", ListProperty(StringProperty)),
    ],
)
class NarrativeSDO:
    """OpenCTI's Narrative."""


def organisation_name(settings: Settings | None = None) -> str:
    """Our organisation (setting ``organisation``, ``FIMISCOPE_ORGANISATION``)."""
    return (settings if settings is not None else Settings()).organisation


def organisation_identity(name: str | None = None) -> dict[str, Any]:
    name = name or organisation_name()
    identity: dict[str, Any] = json.loads(
        stix2.Identity(
            id=_sid("identity", "org", name),
            name=name,
            identity_class="organization",
            created="2020-01-01T00:00:00.000Z",
            modified="2020-01-01T00:00:00.000Z",
            object_marking_refs=[TLP2_IDS["clear"]],
        ).serialize()
    )
    return identity


def _sid(kind: str, *parts: str) -> str:
    # Derived from what it names (stable across exports), shaped as a UUIDv4 as STIX asks of SDOs.
    digest = uuid.uuid5(NAMESPACE, "|".join((kind, *parts))).bytes
    return f"{kind}--{uuid.UUID(bytes=digest, version=4)}"


def _ts(value: datetime | None) -> str:
    return (value or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class _Builder:
    org: dict[str, Any]
    tlp: str
    created: str
    modified: str
    objects: dict[str, Any] = field(default_factory=dict)

    @property
    def common(self) -> dict[str, Any]:
        return {
            "created_by_ref": self.org["id"],
            "created": self.created,
            "modified": self.modified,
            "object_marking_refs": [TLP2_IDS[self.tlp]],
            "allow_custom": True,
        }

    def add(self, obj: Any) -> str:
        self.objects[obj["id"]] = obj
        return str(obj["id"])

    def rel(self, source: str, kind: str, target: str, **extra: Any) -> str:
        return self.add(
            stix2.Relationship(
                id=_sid("relationship", source, kind, target),
                source_ref=source,
                relationship_type=kind,
                target_ref=target,
                **self.common,
                **extra,
            )
        )


def incident_objects(
    inc: Incident, tax: disarm.Taxonomy, org: dict[str, Any], signals: list[Any],
    narratives: dict[str, dict[str, Any]] | None = None, seen: Seen | None = None,
) -> dict[str, Any]:
    """The STIX objects that tell one incident: id -> stix2 object. ``narratives`` (name or id ->
    name, description, aliases, types) fills in the narratives the store knows; ``seen`` (from
    ``cases.seen.incident_seen``) gives first / last seen filled from the evidence, the dates the
    incident report shows."""
    assert inc.stix_id
    b = _Builder(org=org, tlp=inc.tlp, created=_ts(inc.created_at), modified=_ts(inc.updated_at))
    att = inc.attribution
    extra: dict[str, Any] = {}
    if att.confidence and att.actor is None:
        extra["confidence"] = estimative_to_stix(att.confidence)
    inc_props: dict[str, Any] = {
        "x_fimiscope_status": inc.status,
        "x_fimiscope_disarm_version": tax.version,
    }
    first, last = (seen.first, seen.last) if seen else (inc.first_seen, inc.last_seen)
    if first:
        inc_props["first_seen"] = _ts(first)
    if last:
        inc_props["last_seen"] = _ts(last)
    if seen and seen.derived:
        inc_props["x_fimiscope_seen_from"] = "evidence"
    incident_id = b.add(
        stix2.Incident(
            id=inc.stix_id,
            name=inc.title,
            description=inc.summary or None,
            **b.common,
            **inc_props,
            **extra,
        )
    )
    for tid in inc.techniques:
        entry = tax.entries.get(tid)
        props: dict[str, Any] = {}
        if entry and entry.tactic:
            props["kill_chain_phases"] = [{"kill_chain_name": "disarm", "phase_name": _slug(entry.tactic)}]
        ap = b.add(
            stix2.AttackPattern(
                id=_sid("attack-pattern", "DISARM", tid),
                name=entry.name if entry else tid,
                description=(entry.description or None) if entry else None,
                external_references=[
                    {"source_name": "DISARM", "external_id": tid, "url": disarm.technique_url(tid, entry)}
                ],
                x_mitre_id=tid,
                x_fimiscope_disarm_version=tax.version,
                **props,
                **b.common,
            )
        )
        b.rel(incident_id, "uses", ap)
    actor_ids: dict[str, str] = {}
    for actor in inc.actors:
        actor_ids[actor.name] = b.add(_actor_sdo(actor, b))
    if att.actor and att.actor not in actor_ids:
        actor_ids[att.actor] = b.add(_actor_sdo(Actor(name=att.actor), b))
    campaigns = {a.name for a in inc.actors if a.kind == "campaign"}
    for name, aid in actor_ids.items():
        props = {}
        if name in campaigns:
            b.rel(incident_id, "related-to", aid)
            if att.actor and att.actor in actor_ids and att.actor not in campaigns:
                extra_conf = {"confidence": estimative_to_stix(att.confidence)} if att.confidence else {}
                b.rel(aid, "attributed-to", actor_ids[att.actor], **extra_conf)
            continue
        if att.actor == name:
            if att.confidence:
                props["confidence"] = estimative_to_stix(att.confidence)
            desc = [f"Assessed {att.confidence}." if att.confidence else ""]
            if att.source_reliability or att.information_credibility:
                desc.append(
                    f"Sources graded {att.source_reliability or 'F'}{att.information_credibility or '6'} (Admiralty)."
                )
            if att.statement:
                desc.append(att.statement)
            props["description"] = " ".join(d for d in desc if d) or None
            b.rel(incident_id, "attributed-to", aid, **props)
        else:
            b.rel(incident_id, "related-to", aid)
    for given in inc.narratives:
        # -- narratives (docs/narratives.md): a stored narrative brings its description and kind
        facts = (narratives or {}).get(given) or {}
        name = facts.get("name") or given
        props = {k: v for k, v in (("description", facts.get("description")), ("aliases", facts.get("aliases")),
                                   ("narrative_types", facts.get("types"))) if v}
        nid = b.add(
            NarrativeSDO(  # type: ignore[call-arg]
                id=_sid("narrative", name), name=name, **props, **b.common
            )
        )
        b.rel(incident_id, "related-to", nid)
    outlets: list[tuple[Channel, str]] = []
    belongs = att.actor if att.actor and att.confidence and estimative_to_stix(att.confidence) >= 50 else None
    for ch in inc.channels:
        if ch.kind in ("outlet", "account"):
            platform = ch.value.split(":", 1)[0] if ch.kind == "account" and ":" in ch.value else "website"
            cid = b.add(
                ChannelSDO(  # type: ignore[call-arg]
                    id=_sid("channel", ch.kind, ch.value), name=ch.value, channel_types=[platform], **b.common
                )
            )
            outlets.append((ch, cid))
            b.rel(incident_id, "related-to", cid)
            if belongs:
                b.rel(cid, "belongs-to", actor_ids[belongs])
    by_name = {f"{c.kind}:{c.value}": cid for c, cid in outlets}
    for c, cid in outlets:
        for target in c.amplifies:
            if target in by_name:
                b.rel(cid, "amplifies", by_name[target])
    marking = {"object_marking_refs": [TLP2_IDS[inc.tlp]]}
    for ch in inc.channels:
        if ch.kind == "domain":
            dom = b.add(stix2.DomainName(value=ch.value, **marking))
            infra = b.add(
                stix2.Infrastructure(
                    id=_sid("infrastructure", ch.value),
                    name=ch.value,
                    infrastructure_types=["hosting-target-lists"],
                    **b.common,
                )
            )
            b.rel(infra, "consists-of", dom)
            b.rel(incident_id, "related-to", infra)
            ind = b.add(
                stix2.Indicator(
                    id=_sid("indicator", "domain", ch.value),
                    name=f"Domain used by the operation: {ch.value}",
                    description=f"{ch.value} was used in incident {inc.title!r}.",
                    pattern=f"[domain-name:value = '{_quote(ch.value)}']",
                    pattern_type="stix",
                    valid_from=b.created,
                    indicator_types=["attribution"],
                    **b.common,
                )
            )
            b.rel(ind, "based-on", dom)
            b.rel(ind, "indicates", infra)
        elif ch.kind == "url":
            url = b.add(stix2.URL(value=ch.value, **marking))
            host = (urlsplit(ch.value).hostname or "").removeprefix("www.")
            publishers = [cid for c, cid in outlets if host and host in c.value.lower()]
            for cid in publishers:
                b.rel(cid, "publishes", url)
            if not publishers:
                b.rel(incident_id, "related-to", url)
    if inc.impact:
        b.add(
            stix2.Note(
                id=_sid("note", inc.stix_id, "impact"),
                abstract="Impact",
                content=inc.impact,
                object_refs=[incident_id],
                **b.common,
            )
        )
    for sig in signals:
        b.add(
            stix2.Sighting(
                id=_sid("sighting", inc.stix_id, sig.id),
                sighting_of_ref=incident_id,
                where_sighted_refs=[org["id"]],
                description=f"{sig.type}: {sig.title} (score {sig.score:.2f}, "
                f"detector {sig.detector} {sig.detector_version})",
                x_fimiscope_signal_id=sig.id,
                **b.common,
            )
        )
    infrastructure_objects(b, incident_id, signals)
    refs = [oid for oid in b.objects if oid != incident_id] + [incident_id]
    b.add(
        stix2.Report(
            id=_sid("report", inc.stix_id),
            name=inc.title,
            description=inc.summary or None,
            published=b.modified,
            report_types=["threat-report"],
            object_refs=refs,
            **b.common,
        )
    )
    return b.objects


# -- shared infrastructure (issue 16) -------------------------------------------------------------
# An infrastructure signal becomes an ``infrastructure`` object (the sites run by the same hands)
# that ``consists-of`` their ``domain-name`` objects and the shared ``ipv4-addr`` objects, with one
# ``indicator`` per shared conclusive or associative value (a STIX pattern over the domains that
# carry it, or over the address) that ``indicates`` the infrastructure; the infrastructure is
# ``related-to`` the incident. OpenCTI imports all four types as they are.
INFRASTRUCTURE_SIGNALS = ("infrastructure", "infrastructure_join")


def infrastructure_objects(b: _Builder, incident_id: str, signals: list[Any]) -> None:
    marking = {"object_marking_refs": [TLP2_IDS[b.tlp]]}
    for sig in signals:
        if sig.type not in INFRASTRUCTURE_SIGNALS:
            continue
        d = sig.details or {}
        site = str(d.get("site") or "")
        others = [str(o["site"]) for o in d.get("shared_with", [])] or [s for s in d.get("group_sites", [])
                                                                         if s != site]
        sites = sorted({site, *others} - {""})
        if not sites:
            continue
        name = (f"Site group {d['group']}" if d.get("group") else f"Infrastructure shared by {site} and "
                f"{', '.join(others[:3])}{' and others' if len(others) > 3 else ''}")
        infra = b.add(stix2.Infrastructure(
            id=_sid("infrastructure", "shared", *sites), name=name, infrastructure_types=["unknown"],
            description=sig.summary or sig.title, x_fimiscope_signal_id=sig.id, **b.common))
        b.rel(incident_id, "related-to", infra)
        domains = {}
        for s in sites:
            domains[s] = b.add(stix2.DomainName(value=s, **marking))
            b.rel(infra, "consists-of", domains[s])
        shared: dict[tuple[str, str], dict[str, Any]] = {}
        for ev in sig.evidence:
            e = ev.details or {}
            if e.get("tier") not in ("conclusive", "associative") or not e.get("kind"):
                continue
            entry = shared.setdefault((str(e["kind"]), str(e["value"])), {**e, "carriers": set()})
            entry["carriers"].update(x for x in (e.get("site"), e.get("shared_with")) if x)
        for (kind, value), e in sorted(shared.items()):
            carriers = sorted(c for c in e["carriers"] if c in domains)
            if kind == "ip":
                try:
                    addr = b.add(stix2.IPv4Address(value=value, **marking))
                except STIXError:
                    continue  # an IPv6 address or junk from an import: the domains still carry it
                b.rel(infra, "consists-of", addr)
                for c in carriers:
                    b.rel(domains[c], "resolves-to", addr)
                pattern, based_on = f"[ipv4-addr:value = '{_quote(value)}']", addr
            elif carriers:
                pattern = "[" + " OR ".join(f"domain-name:value = '{_quote(c)}'" for c in carriers) + "]"
                based_on = None
            else:
                continue
            ind = b.add(stix2.Indicator(
                id=_sid("indicator", "infrastructure", kind, value, *carriers),
                name=f"{kind} {value} shared by {', '.join(carriers)}",
                description=f"{e.get('tier')} evidence: {e.get('reason', '')}",
                pattern=pattern, pattern_type="stix", valid_from=b.created, indicator_types=["attribution"],
                x_fimiscope_indicator={"kind": kind, "value": value, "tier": e.get("tier")}, **b.common))
            b.rel(ind, "indicates", infra)
            if based_on:
                b.rel(ind, "based-on", based_on)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _actor_sdo(actor: Actor, b: _Builder) -> Any:
    classes = {"intrusion-set": stix2.IntrusionSet, "campaign": stix2.Campaign}
    cls = classes.get(actor.kind, stix2.ThreatActor)
    kind = actor.kind if actor.kind in classes else "threat-actor"
    return cls(
        id=_sid(kind, actor.name),
        name=actor.name,
        aliases=actor.aliases or None,
        description=actor.description or None,
        **b.common,
    )


def export_bundle(store: Store, incident_id: str | None = None) -> dict[str, Any]:
    """A STIX 2.1 bundle of one incident or of all of them (with objects kept from imports)."""
    objects, _emitted = _export(store, incident_id)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects.values())}


def publishable(store: Store, incident_id: str | None = None) -> list[dict[str, Any]]:
    """What `taxii publish` offers: the export of every incident, or of one incident's objects
    only, each object in the version the whole export chose (see ``_export``), so publishing
    one incident never re-marks an object another incident shares at a lower TLP."""
    objects, emitted = _export(store, None)
    if incident_id is None:
        return list(objects.values())
    inc = IncidentStore(store).get(incident_id)
    wanted = emitted.get(inc.id or "", set()) | {organisation_identity()["id"]}
    chosen = [o for oid, o in objects.items() if oid in wanted]
    levels = {object_tlp(o) for o in chosen} | {"clear"}
    return chosen + [tlp_marking_definition(lv) for lv in sorted(levels, key=lambda lv: TLP_RANK[lv])]


def our_ids(store: Store) -> set[str]:
    """Every id we create: our identity, incidents, and every object an incident exports."""
    objects, _emitted = _export(store, None, imports=False)
    return set(objects) | {i.stix_id for i in IncidentStore(store).list() if i.stix_id}


def _export(
    store: Store, incident_id: str | None, *, imports: bool = True
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """(id -> object, incident id -> the ids it emits).

    Two incidents can emit the same object (a technique, an actor, a channel, a domain: ids are
    derived from what they name), each version marked with its own incident's TLP. The export
    keeps the **least restricted** version (then the newest): its content comes from an incident
    at that TLP, so it says nothing the more restricted incident alone knows, and a partner at
    the lower TLP still gets every object its incidents refer to.

    Objects kept from imports and pulls are added beside ours but never replace one of ours: an
    object supersedes another of the same id only when the same identity created both (a
    partner reusing our id, or claiming a later ``modified``, changes nothing we send).
    """
    from fimiscope.share.markings import object_tlp_rank

    incs = IncidentStore(store)
    tax = disarm.taxonomy(store)
    org = organisation_identity()
    chosen = [incs.get(incident_id)] if incident_id else incs.list()
    objects: dict[str, Any] = {org["id"]: org}
    emitted: dict[str, set[str]] = {}
    from fimiscope.store import narratives as narrative_store

    known = store.read(narrative_store.stix_facts, {n for inc in chosen for n in inc.narratives})
    for inc in chosen:
        sigs = [store.read(signal_store.get_signal, s) for s in inc.signal_ids]
        objs = incident_objects(inc, tax, org, sigs, known, seen=incident_seen(store, inc, sigs))
        built = {**objs, **_incident_groups(store, inc, sigs, org)}
        emitted[inc.id or ""] = set(built)
        for oid, obj in built.items():
            data = json.loads(obj.serialize())
            held = objects.get(oid)
            if held is None or (object_tlp_rank(data), _version(held)) < (object_tlp_rank(held), _version(data)):
                objects[oid] = data
    ours = set(objects)
    if incident_id is None and imports:
        for row in ShareStore(store).objects_in(RAW):
            held = objects.get(row.stix_id)
            if row.stix_id in ours:
                continue  # one of our ids: ours stays ours
            same_creator = held is not None and held.get("created_by_ref") == row.data.get("created_by_ref")
            if held is None or (same_creator and _newer(row.data, held)):
                objects[row.stix_id] = row.data
    levels = {object_tlp(o) for o in objects.values()} | {"clear"}  # our identity is TLP:CLEAR
    for level in sorted(levels, key=lambda lv: TLP_RANK[lv]):
        objects[TLP2_IDS[level]] = tlp_marking_definition(level)
    return objects, emitted


def _version(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    from fimiscope.store.share import stix_version

    return stix_version(a) > stix_version(b)


# -- import ------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportResult:
    objects: int = 0
    new: int = 0
    known: int = 0
    incidents_created: int = 0
    incidents_updated: int = 0


def parse_bundle(data: bytes | str, *, max_bytes: int = MAX_BUNDLE_BYTES) -> list[dict[str, Any]]:
    """Validate a bundle completely; raise InvalidInput naming the first problems. Nothing is stored here."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise InvalidInput(f"bundle is {size} bytes; the limit is {max_bytes}")
    doc = parse_json(data, what="the bundle")
    if not isinstance(doc, dict) or doc.get("type") != "bundle" or not isinstance(doc.get("objects", []), list):
        raise InvalidInput('not a STIX bundle: expected {"type": "bundle", "objects": [...]}')
    return validate_objects(doc.get("objects", []))


def validate_objects(objects: list[Any]) -> list[dict[str, Any]]:
    if len(objects) > MAX_OBJECTS:
        raise InvalidInput(f"{len(objects)} objects; the limit is {MAX_OBJECTS} per bundle")
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            errors.append(f"object {i}: not a JSON object")
            continue
        oid = obj.get("id")
        if not isinstance(oid, str) or not _STIX_ID.match(oid) or not oid.startswith(f"{obj.get('type')}--"):
            errors.append(f"object {i}: id {oid!r} is not a STIX id of its type {obj.get('type')!r}")
            continue
        if obj.get("spec_version", "2.1") != "2.1" and obj.get("type") != "bundle":
            errors.append(f"{oid}: spec_version {obj.get('spec_version')!r}; only STIX 2.1 is accepted")
            continue
        missing = [k for k in _required(obj) if k not in obj]
        if missing:
            errors.append(f"{oid}: missing required {', '.join(missing)}")
            continue
        if nested_deeper(obj, MAX_NESTING):
            errors.append(f"{oid}: nested deeper than {MAX_NESTING} levels")
            continue
        backwards = _modified_before_created(obj)
        if backwards:
            errors.append(f"{oid}: {backwards}")
            continue
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError) as exc:
            errors.append(f"{oid}: {str(exc).splitlines()[0][:200]}")
            continue
        out.append(obj)
        if len(errors) >= 5:
            break
    if errors:
        raise InvalidInput("invalid STIX, nothing imported: " + "; ".join(errors[:5]))
    return out


def _modified_before_created(obj: dict[str, Any]) -> str | None:
    """Why ``obj``'s timestamps cannot be right, or None: a version modified before it was
    created would sort below every real version of the object."""
    created, modified = obj.get("created"), obj.get("modified")
    if not isinstance(created, str) or not isinstance(modified, str):
        return None
    try:
        backwards = parse_time(modified) < parse_time(created)
    except InvalidInput:
        return None  # stix2.parse names the malformed timestamp
    return f"modified {modified} is before created {created}" if backwards else None


def _required(obj: dict[str, Any]) -> tuple[str, ...]:
    """What stix2 would fill in for us but a sender must give: the spec's required timestamps."""
    from stix2.v21 import OBJ_MAP_OBSERVABLE

    kind = obj.get("type")
    if kind in OBJ_MAP_OBSERVABLE:
        return ()
    if kind == "marking-definition":
        return ("created",)
    return ("spec_version", "created", "modified")


def import_objects(
    store: Store, objects: list[dict[str, Any]], origin: str, who: str, *, collection: str = RAW
) -> ImportResult:
    """Store validated objects in one transaction. Incidents become incidents; the rest is kept as-is."""
    from fimiscope.share.markings import object_tlp_rank

    result = ImportResult(objects=len(objects))
    shares = ShareStore(store)
    incs = IncidentStore(store)
    by_id = {o["id"]: o for o in objects}
    ours = organisation_identity()["id"]
    # Our own objects coming back are not kept: we regenerate them from the incidents.
    kept = [
        o
        for o in objects
        if o["type"] != "incident" and o["id"] != ours and o.get("created_by_ref") != ours and not is_official_tlp(o)
    ]
    with store.transaction() as c:
        result.new, result.known = shares.put_objects(kept, collection, origin, [object_tlp_rank(o) for o in kept], c)
        result.known += len(objects) - len(kept) - sum(o["type"] == "incident" for o in objects)
        for obj in objects:
            if obj["type"] != "incident":
                continue
            fields = _incident_fields(obj, objects, by_id)
            existing = incs.find_by_stix_id(obj["id"], c)
            if existing is None:
                incs.create(Incident(**fields, stix_id=obj["id"], origin=origin), who, c)
                result.incidents_created += 1
                continue
            if existing.origin != origin:
                # Ours coming back, or one another source gave us: only its own source may change it.
                result.known += 1
                continue
            changed = {k: v for k, v in fields.items() if _plain(getattr(existing, k)) != _plain(v)}
            if changed:
                incs.update(existing.id or "", who, changed, c)
                result.incidents_updated += 1
    return result


def _plain(v: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.asdict(v)
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _incident_fields(obj: dict[str, Any], objects: list[dict[str, Any]], by_id: dict[str, Any]) -> dict[str, Any]:
    techniques: list[str] = []
    actors: list[Actor] = []
    narratives: list[str] = []
    for rel in objects:
        if rel["type"] != "relationship" or rel.get("source_ref") != obj["id"]:
            continue
        target = by_id.get(rel.get("target_ref", ""))
        if target is None:
            continue
        if target["type"] == "attack-pattern":
            for ref in target.get("external_references", []):
                ext = ref.get("external_id", "")
                if ref.get("source_name") in ("DISARM", "mitre-attack") and re.match(r"^T\d{4}(\.\d{3})?$", ext):
                    techniques.append(ext)
        elif target["type"] in ("threat-actor", "intrusion-set", "campaign"):
            actors.append(Actor(name=target["name"], kind=target["type"], aliases=list(target.get("aliases", []))))
        elif target["type"] == "narrative":
            narratives.append(target["name"])
    fields: dict[str, Any] = {
        "title": obj.get("name") or obj["id"],
        "summary": obj.get("description", ""),
        "tlp": object_tlp(obj),
        "techniques": sorted(set(techniques)),
        "actors": actors,
        "narratives": narratives,
    }
    if obj.get("first_seen"):
        fields["first_seen"] = parse_time(obj["first_seen"])
    if obj.get("last_seen"):
        fields["last_seen"] = parse_time(obj["last_seen"])
    if isinstance(obj.get("confidence"), int):
        from fimiscope.core.model import Attribution

        fields["attribution"] = Attribution(confidence=stix_to_estimative(obj["confidence"]))
    return fields


# -- coordinated groups (issue 12) -------------------------------------------------------------
# A group found by the coordination detector goes out as what OpenCTI imports as is: an
# ``intrusion-set`` for the group (first/last seen, what ties it in the description), each
# member as OpenCTI's ``channel`` (the same id an incident's channel of that account gets, so the
# two merge) that ``belongs-to`` the intrusion set, and a ``note`` with the shared items and each
# member's delay, all inside one ``report``.


def coordinated_group_objects(group: dict[str, Any], org: dict[str, Any], tlp: str = "amber") -> dict[str, Any]:
    """The STIX objects that tell one coordinated group: id -> stix2 object."""
    b = _Builder(org=org, tlp=tlp, created=_ts(group["created_at"]), modified=_ts(group["updated_at"]))
    kinds = ", ".join(f"{n} co-{k}s" for k, n in sorted(group["kinds"].items()) if n)
    name = f"Coordinated group {group['id']} ({group['size']} accounts)"
    description = (
        f"{group['size']} accounts acting in concert: {kinds}; fastest delay {group['fastest_s'] or 0:.0f} s, "
        f"median {group['median_s'] or 0:.0f} s; platforms {', '.join(group['platforms']) or 'web'}. "
        "Found by fimiscope's coordination detector (repeated co-actions beyond chance)."
    )
    extra: dict[str, Any] = {}
    if group.get("first_at"):
        extra["first_seen"] = _ts(group["first_at"])
    if group.get("last_at"):
        extra["last_seen"] = _ts(group["last_at"])
    iset = b.add(
        stix2.IntrusionSet(
            id=_sid("intrusion-set", "coordination", group["id"]),
            name=name,
            description=description,
            goals=["amplification"],
            **extra,
            **b.common,
        )
    )
    for m in group["members"]:
        account = m["account"]
        kind = "account" if ":" in account else "outlet"
        platform = account.split(":", 1)[0] if kind == "account" else "website"
        cid = b.add(
            ChannelSDO(  # type: ignore[call-arg]
                id=_sid("channel", kind, account), name=account, channel_types=[platform], **b.common
            )
        )
        b.rel(cid, "belongs-to", iset, description="member of the coordinated group")
    lines = []
    for it in group["items"][:100]:
        delays = ", ".join(f"{a['account']} +{a['delay_s']:.0f} s" for a in it["actions"])
        when = it["at"].isoformat() if it.get("at") else "?"
        lines.append(f"- co-{it['kind']} {str(it['item'])[:200]} ({when}): {delays}")
    if len(group["items"]) > 100:
        lines.append(f"- ... and {len(group['items']) - 100} more shared items")
    b.add(
        stix2.Note(
            id=_sid("note", "coordination", group["id"]),
            abstract="Shared items and each member's delay",
            content="\n".join(lines) or "no shared items recorded",
            object_refs=[iset],
            **b.common,
        )
    )
    refs = [oid for oid in b.objects if oid != iset] + [iset]
    b.add(
        stix2.Report(
            id=_sid("report", "coordination", group["id"]),
            name=name,
            description=description,
            published=b.modified,
            report_types=["threat-actor"],
            object_refs=refs,
            **b.common,
        )
    )
    return b.objects


def group_bundle(group: dict[str, Any], tlp: str = "amber") -> dict[str, Any]:
    """A STIX 2.1 bundle of one coordinated group, with our identity and its TLP marking."""
    org = organisation_identity()
    objects: dict[str, Any] = {org["id"]: org}
    for oid, obj in coordinated_group_objects(group, org, tlp).items():
        objects[oid] = json.loads(obj.serialize())
    for level in sorted({"clear", tlp}, key=lambda lv: TLP_RANK[lv]):
        objects[TLP2_IDS[level]] = tlp_marking_definition(level)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects.values())}


def _incident_groups(store: Store, inc: Incident, sigs: list[Any], org: dict[str, Any]) -> dict[str, Any]:
    """The coordinated groups behind an incident's coordination signals, related to it."""
    from fimiscope.store import coordination as coordination_db

    ids = [s.details.get("group_id") for s in sigs if s.type == "coordination" and s.details.get("group_id")]
    out: dict[str, Any] = {}
    if not ids or not inc.stix_id:
        return out
    with store.connect() as conn:
        groups = [coordination_db.get_group(conn, gid) for gid in ids]
    b = _Builder(org=org, tlp=inc.tlp, created=_ts(inc.created_at), modified=_ts(inc.updated_at))
    for g in groups:
        objs = coordinated_group_objects(g, org, inc.tlp)
        out.update(objs)
        b.rel(inc.stix_id, "related-to", _sid("intrusion-set", "coordination", g["id"]))
    out.update(b.objects)
    return out
