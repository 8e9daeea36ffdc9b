"""The domain: what an analyst talks about. Plain dataclasses, no I/O."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from fimiscope.core.errors import InvalidInput


class Affiliation(StrEnum):
    """State-affiliation tiers of the EEAS FIMI Exposure Matrix, plus the two outside it."""

    OFFICIAL_STATE = "official_state"
    STATE_CONTROLLED = "state_controlled"
    STATE_LINKED = "state_linked"
    STATE_ALIGNED = "state_aligned"
    INDEPENDENT = "independent"
    UNKNOWN = "unknown"

    @property
    def flagged(self) -> bool:
        """True for the four tiers whose content counts as state messaging."""
        return self in FLAGGED_AFFILIATIONS

    @classmethod
    def parse(cls, value: str | None) -> Affiliation:
        if value is None or not str(value).strip():
            return cls.UNKNOWN
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            allowed = ", ".join(a.value for a in cls)
            raise InvalidInput(f"unknown affiliation {value!r}; use one of: {allowed}") from None


FLAGGED_AFFILIATIONS = frozenset(
    {
        Affiliation.OFFICIAL_STATE,
        Affiliation.STATE_CONTROLLED,
        Affiliation.STATE_LINKED,
        Affiliation.STATE_ALIGNED,
    }
)

# Most severe first: when two lists disagree about a source, the more severe tier wins.
AFFILIATION_SEVERITY = (
    Affiliation.OFFICIAL_STATE,
    Affiliation.STATE_CONTROLLED,
    Affiliation.STATE_LINKED,
    Affiliation.STATE_ALIGNED,
    Affiliation.INDEPENDENT,
    Affiliation.UNKNOWN,
)


class Reliability(StrEnum):
    """Admiralty (NATO) source reliability grade."""

    A = "A"  # completely reliable
    B = "B"  # usually reliable
    C = "C"  # fairly reliable
    D = "D"  # not usually reliable
    E = "E"  # unreliable
    F = "F"  # reliability cannot be judged

    @classmethod
    def parse(cls, value: str | None) -> Reliability:
        if value is None or not str(value).strip():
            return cls.F
        try:
            return cls(str(value).strip().upper()[:1])
        except ValueError:
            raise InvalidInput(f"reliability {value!r} is not an Admiralty grade A-F") from None


RELIABILITY_LABELS = {
    Reliability.A: "completely reliable",
    Reliability.B: "usually reliable",
    Reliability.C: "fairly reliable",
    Reliability.D: "not usually reliable",
    Reliability.E: "unreliable",
    Reliability.F: "reliability cannot be judged",
}


class SignalStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    ESCALATED = "escalated"

    @classmethod
    def parse(cls, value: str) -> SignalStatus:
        """The status an analyst typed; InvalidInput naming the choices when it is not one."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidInput(f"unknown status {value!r}; use one of: {allowed}") from None


@dataclass(slots=True)
class Provenance:
    """Who says so, where, and when: every flag on a source carries one."""

    by: str
    where: str = ""
    when: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"by": self.by, "where": self.where, "when": self.when}


@dataclass(slots=True)
class Source:
    """An outlet, account or channel that publishes."""

    name: str
    platform: str = "web"
    domain: str | None = None
    handle: str | None = None
    display_name: str | None = None
    country: str | None = None
    language: str | None = None
    affiliation: Affiliation = Affiliation.UNKNOWN
    provenance: list[Provenance] = field(default_factory=list)
    reliability: Reliability = Reliability.F
    lists: list[str] = field(default_factory=list)
    kind: str | None = None  # collector kind (rss, sitemap, ...) when fimiscope collects it
    location: str | None = None
    interval_s: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(slots=True)
class Document:
    """One published item: an article, a post, a channel message."""

    text: str
    url: str | None = None
    external_id: str | None = None
    source: str | None = None  # source name (domain or platform:account)
    platform: str = "web"
    title: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    collected_at: datetime | None = None
    author: str | None = None
    canonical_url: str | None = None
    links: list[str] = field(default_factory=list)
    shared_from: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: bytes | None = None  # the bytes as collected, archived content-addressed
    id: str | None = None

    @property
    def key(self) -> str:
        """Identity across re-imports: the source's own id if it has one, else the URL."""
        return document_key(self.source, self.external_id, self.url)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)


def document_key(source: str | None, external_id: str | None, url: str | None) -> str:
    if external_id:
        return f"{source or ''}#{external_id}"
    if url:
        return url
    raise InvalidInput("a document needs an id or a url")


def content_hash(title: str | None, text: str) -> str:
    """Hash of the normalised content: whitespace and Unicode form do not make a new version."""
    norm = unicodedata.normalize("NFC", f"{title or ''}\n{' '.join(text.split())}")
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(slots=True)
class Evidence:
    """Why a signal exists: the documents, spans and scores that produced it."""

    document_id: str | None = None
    role: str = "match"
    span_start: int | None = None
    span_end: int | None = None
    score: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Signal:
    """A manipulation indicator found by a detector, with its evidence."""

    type: str
    title: str
    score: float
    detector: str
    detector_version: str
    parameters: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    summary: str = ""
    key: str | None = None  # stable identity so re-running a detector adds nothing twice
    status: SignalStatus = SignalStatus.NEW
    details: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(slots=True)
class Claim:
    """A claim already debunked by a fact-checker or a disinformation database."""

    text: str
    language: str | None = None
    title: str | None = None
    verdict: str | None = None
    debunk: str | None = None
    debunk_url: str | None = None
    published_at: datetime | None = None
    provenance: Provenance | None = None
    keywords: list[str] = field(default_factory=list)
    id: str | None = None


@dataclass(slots=True)
class Narrative:
    name: str
    description: str = ""
    id: str | None = None


@dataclass(slots=True)
class Actor:
    """A threat actor or intrusion set, with the names others know it by."""

    name: str
    kind: str = "threat-actor"
    aliases: list[str] = field(default_factory=list)
    description: str = ""
    id: str | None = None


@dataclass(slots=True)
class Channel:
    """Where an operation speaks: an outlet, an account, a domain or a URL."""

    kind: str  # outlet | account | domain | url
    value: str
    amplifies: list[str] = field(default_factory=list)  # other channels ("kind:value") it amplifies


@dataclass(slots=True)
class Attribution:
    """Who is behind it, and how sure we are (estimative language; Admiralty for the sources)."""

    actor: str | None = None
    confidence: str | None = None  # "almost no chance" ... "almost certain"
    source_reliability: str | None = None  # Admiralty A-F
    information_credibility: str | None = None  # Admiralty 1-6
    statement: str = ""


@dataclass(slots=True)
class Incident:
    title: str
    summary: str = ""
    status: str = "open"
    tlp: str = "amber"
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    signal_ids: list[str] = field(default_factory=list)
    id: str | None = None
    narratives: list[str] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)  # DISARM ids (T0049, T0049.001)
    attribution: Attribution = field(default_factory=Attribution)
    impact: str = ""
    stix_id: str | None = None
    origin: str = "local"
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
