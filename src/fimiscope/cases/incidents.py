"""The rules of an incident that every face (CLI, REST, web form) applies the same way: which
statuses exist, how actors and channels are written, how a change is checked, and the JSON an
incident is shown as."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fimiscope.cases import disarm
from fimiscope.cases.confidence import admiralty, parse_credibility, parse_estimative, parse_reliability
from fimiscope.cases.tlp import parse_tlp
from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Actor, Attribution, Channel, Incident
from fimiscope.core.serialize import plain

STATUSES = ("open", "investigating", "confirmed", "closed", "dismissed")
CHANNEL_KINDS = ("outlet", "account", "domain", "url")
ACTOR_KINDS = ("threat-actor", "intrusion-set", "campaign")
ATTRIBUTION_FIELDS = ("actor", "confidence", "source_reliability", "information_credibility", "statement")


def parse_actor(text: str, kind: str) -> Actor:
    """'Name' or 'Name=alias1,alias2'."""
    name, _, aliases = text.partition("=")
    if not name.strip():
        raise InvalidInput(f"an actor needs a name: {text!r}")
    return Actor(name=name.strip(), kind=kind, aliases=[a.strip() for a in aliases.split(",") if a.strip()])


def parse_channel(text: str) -> Channel:
    """'domain:example.com', 'url:https://...', 'account:telegram:name', 'outlet:Name'."""
    kind, sep, value = text.partition(":")
    if not sep or kind not in CHANNEL_KINDS or not value.strip():
        raise InvalidInput(f"channel {text!r} should be KIND:VALUE with KIND one of {', '.join(CHANNEL_KINDS)}")
    return Channel(kind=kind, value=value.strip())


def proposed_techniques(tax: disarm.Taxonomy, details: Sequence[Mapping[str, Any]]) -> list[str]:
    """The DISARM techniques detectors propose in their signals' details (``disarm_techniques``,
    e.g. the persuasion detector's mapping), once each, those the taxonomy in use knows."""
    out: list[str] = []
    for d in details:
        for raw in d.get("disarm_techniques") or []:
            entry = tax.entries.get(str(raw).strip().upper())
            if entry is not None and entry.kind in ("technique", "sub-technique") and entry.external_id not in out:
                out.append(entry.external_id)
    return out


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise InvalidInput(f"status {value!r}: use one of {', '.join(STATUSES)}")
    return value


def check_title(value: str) -> str:
    if not value.strip():
        raise InvalidInput("an incident needs a title")
    return value.strip()


def incident_json(inc: Incident, version: str) -> dict[str, Any]:
    data: dict[str, Any] = plain(inc)
    att = inc.attribution
    data["attribution"]["admiralty"] = admiralty(att.source_reliability, att.information_credibility)
    data["disarm_version"] = version
    return data


def add_amplification(seen: dict[tuple[str, str], Channel], text: str) -> None:
    """'SOURCE>TARGET': record that one channel amplifies another (adding both if new)."""
    src_text, sep, dst_text = text.partition(">")
    if not sep:
        raise InvalidInput(f"amplification {text!r} should be SOURCE>TARGET, e.g. account:telegram:x>outlet:rt.com")
    src, dst = parse_channel(src_text.strip()), parse_channel(dst_text.strip())
    if src.kind not in ("outlet", "account") or dst.kind not in ("outlet", "account"):
        raise InvalidInput("only outlets and accounts amplify one another")
    src = seen.setdefault((src.kind, src.value), src)
    seen.setdefault((dst.kind, dst.value), dst)
    target = f"{dst.kind}:{dst.value}"
    if target not in src.amplifies:
        src.amplifies.append(target)


def collect_changes(
    tax: disarm.Taxonomy,
    current: Incident | None,
    *,
    title: str | None,
    summary: str | None,
    status: str | None,
    tlp: str | None,
    first_seen: str | None,
    last_seen: str | None,
    narratives: list[str],
    threat_actors: list[str],
    intrusion_sets: list[str],
    campaigns: list[str],
    channels: list[str],
    techniques: list[str],
    remove_techniques: list[str],
    amplifications: list[str],
    attribution_actor: str | None,
    confidence: str | None,
    source_reliability: str | None,
    info_credibility: str | None,
    attribution_statement: str | None,
    impact: str | None,
) -> dict[str, Any]:
    """The command line's changes: scalar options replace, list options add to what is there."""
    ch: dict[str, Any] = {}
    if title is not None:
        ch["title"] = check_title(title)
    if summary is not None:
        ch["summary"] = summary
    if status is not None:
        ch["status"] = check_status(status)
    if tlp is not None:
        ch["tlp"] = parse_tlp(tlp)
    if first_seen is not None:
        ch["first_seen"] = parse_time(first_seen)
    if last_seen is not None:
        ch["last_seen"] = parse_time(last_seen)
    if impact is not None:
        ch["impact"] = impact
    base = current or Incident(title="")
    if narratives:
        ch["narratives"] = list(dict.fromkeys([*base.narratives, *(n.strip() for n in narratives if n.strip())]))
    if threat_actors or intrusion_sets or campaigns:
        actors = {(a.kind, a.name): a for a in base.actors}
        for kind, texts in (("threat-actor", threat_actors), ("intrusion-set", intrusion_sets),
                            ("campaign", campaigns)):
            for text in texts:
                a = parse_actor(text, kind)
                actors[(a.kind, a.name)] = a
        ch["actors"] = list(actors.values())
    if channels or amplifications:
        seen = {(c.kind, c.value): Channel(c.kind, c.value, list(c.amplifies)) for c in base.channels}
        for text in channels:
            c = parse_channel(text)
            seen.setdefault((c.kind, c.value), c)
        for text in amplifications:
            add_amplification(seen, text)
        ch["channels"] = list(seen.values())
    if techniques or remove_techniques:
        drop = {t.strip().upper() for t in remove_techniques}
        keep = [t for t in base.techniques if t not in drop]
        ch["techniques"] = list(dict.fromkeys([*keep, *tax.check_techniques(techniques)]))
    if any(
        v is not None
        for v in (attribution_actor, confidence, source_reliability, info_credibility, attribution_statement)
    ):
        ch["attribution"] = merge_attribution(
            base.attribution,
            {
                k: v
                for k, v in (
                    ("actor", attribution_actor),
                    ("confidence", confidence),
                    ("source_reliability", source_reliability),
                    ("information_credibility", info_credibility),
                    ("statement", attribution_statement),
                )
                if v is not None
            },
        )
    return ch


def merge_attribution(old: Attribution, given: Mapping[str, Any]) -> Attribution:
    """``old`` with the fields in ``given`` checked against their scales and put in place."""
    unknown = set(given) - set(ATTRIBUTION_FIELDS)
    if unknown:
        raise InvalidInput(f"attribution has no {', '.join(sorted(unknown))}; fields: {', '.join(ATTRIBUTION_FIELDS)}")

    def text(key: str) -> str | None:
        value = given[key]
        return None if value is None else str(value)

    actor = text("actor") if "actor" in given else old.actor
    return Attribution(
        actor=(actor or "").strip() or None,
        confidence=parse_estimative(text("confidence")) if "confidence" in given else old.confidence,
        source_reliability=parse_reliability(text("source_reliability"))
        if "source_reliability" in given
        else old.source_reliability,
        information_credibility=parse_credibility(text("information_credibility"))
        if "information_credibility" in given
        else old.information_credibility,
        statement=(text("statement") or "") if "statement" in given else old.statement,
    )


def _actor(value: Mapping[str, Any], old: Mapping[tuple[str, str], Actor]) -> Actor:
    name = str(value.get("name") or "").strip()
    kind = str(value.get("kind") or "threat-actor")
    if not name:
        raise InvalidInput("an actor needs a name")
    if kind not in ACTOR_KINDS:
        raise InvalidInput(f"actor kind {kind!r}: use one of {', '.join(ACTOR_KINDS)}")
    aliases = [str(a).strip() for a in value.get("aliases") or [] if str(a).strip()]
    known = old.get((kind, name))
    # A form that lists actors by name must not wipe what an import said about them.
    description = value.get("description")
    return Actor(
        name=name,
        kind=kind,
        aliases=list(dict.fromkeys(aliases)),
        description=str(description) if description is not None else (known.description if known else ""),
        id=known.id if known else None,
    )


def _channels(values: list[Mapping[str, Any]]) -> list[Channel]:
    seen: dict[tuple[str, str], Channel] = {}
    for v in values:
        c = parse_channel(f"{v.get('kind') or ''}:{v.get('value') or ''}")
        seen.setdefault((c.kind, c.value), c)
    for v in values:
        for target in v.get("amplifies") or []:
            add_amplification(seen, f"{v.get('kind')}:{str(v.get('value') or '').strip()}>{target}")
    return list(seen.values())


def replace_changes(tax: disarm.Taxonomy, current: Incident | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The REST API's and the web editor's changes: every field given replaces what is there
    (lists included); ``attribution`` merges field by field. Each value is checked by the same
    rules as on the command line."""
    ch: dict[str, Any] = {}
    base = current or Incident(title="")
    for key, value in fields.items():
        if key == "title":
            ch["title"] = check_title(str(value or ""))
        elif key in ("summary", "impact"):
            ch[key] = str(value or "")
        elif key == "status":
            ch["status"] = check_status(str(value))
        elif key == "tlp":
            if not str(value or "").strip():
                raise InvalidInput("give a TLP label: clear, green, amber, amber+strict or red")
            ch["tlp"] = parse_tlp(str(value))
        elif key in ("first_seen", "last_seen"):
            ch[key] = parse_time(str(value)) if value not in (None, "") else None
        elif key == "narratives":
            ch["narratives"] = list(dict.fromkeys(str(n).strip() for n in value or [] if str(n).strip()))
        elif key == "actors":
            old = {(a.kind, a.name): a for a in base.actors}
            actors = {(a.kind, a.name): a for a in (_actor(v, old) for v in value or [])}
            ch["actors"] = list(actors.values())
        elif key == "channels":
            ch["channels"] = _channels(list(value or []))
        elif key == "techniques":
            try:
                ch["techniques"] = list(dict.fromkeys(tax.check_techniques([str(t) for t in value or []])))
            except NotFound as exc:  # an unknown id in a request body is bad input, not a missing page
                raise InvalidInput(str(exc)) from None
        elif key == "attribution":
            ch["attribution"] = merge_attribution(base.attribution, dict(value or {}))
        else:
            raise InvalidInput(f"an incident has no field {key!r}")
    if "first_seen" in ch or "last_seen" in ch:
        first = ch.get("first_seen", base.first_seen)
        last = ch.get("last_seen", base.last_seen)
        if first and last and last < first:
            raise InvalidInput("last seen is before first seen")
    return ch
