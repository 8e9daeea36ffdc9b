"""Shared infrastructure: which "independent" sites are run by the same hands.

Each site (a host without ``www.``) has observations: fingerprints from its archived pages
(``extract/fingerprints.py``), records from the optional network look-ups
(``collect/lookups.py``) and rows of imported indicator files (``collect/indicators.py``).

1. **Indicators and tiers.** Every (kind, value) seen on two or more sites is a shared
   indicator. Its kind gives a tier, with the reason stated: *conclusive* (an analytics or ad
   account, a verification token, a wallet, one TLS certificate: one operator controls it),
   *associative* (social handles, contacts, a favicon, a theme, an IP, a near-identical CSS
   class set: operators share them, but so do some unrelated sites) and *tertiary* (CMS,
   third-party CDNs, a /24 subnet, the outbound link profile: context, never proof alone).
2. **How common it is.** An indicator on many sites links nothing: past ``common_sites`` sites
   (or ``common_share`` of the sites with that kind) it is marked common and weighs 0, with the
   count as the reason (a Cloudflare IP, a theme default analytics id, an agency's tag).
   Associative and tertiary indicators also weigh less the more sites share them.
3. **Links and groups.** A pair of sites scores ``1 - prod(1 - w)`` over the indicators it
   shares (a noisy-OR: one conclusive indicator or two associative ones pass the default
   threshold). Pairs at or over ``link_threshold`` are edges of an igraph graph; its
   connected components, split by Leiden where a component is only loosely held together,
   are the site groups. A group keeps its id across runs while most of its members stay.

The functions here are pure (no store), so ``eval/infrastructure.py`` scores exactly what the
pipeline stage runs.
"""

from __future__ import annotations

import ipaddress
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

VERSION = "1"

CONCLUSIVE, ASSOCIATIVE, TERTIARY = "conclusive", "associative", "tertiary"
TIER_ORDER = {CONCLUSIVE: 0, ASSOCIATIVE: 1, TERTIARY: 2}


@dataclass(frozen=True, slots=True)
class KindPolicy:
    tier: str
    reason: str


# Why each kind sits in its tier: shown to the analyst beside every shared indicator.
POLICY: dict[str, KindPolicy] = {
    "ga": KindPolicy(CONCLUSIVE, "one Google Analytics account reports on both sites"),
    "ga4": KindPolicy(CONCLUSIVE, "one Google Analytics 4 stream is embedded on both sites"),
    "gtm": KindPolicy(CONCLUSIVE, "one Tag Manager container is edited by whoever runs it"),
    "google_ads": KindPolicy(CONCLUSIVE, "one Google Ads account"),
    "adsense": KindPolicy(CONCLUSIVE, "ad revenue of both sites is paid to one AdSense publisher"),
    "yandex_metrica": KindPolicy(CONCLUSIVE, "one Yandex Metrica counter"),
    "mailru_top": KindPolicy(CONCLUSIVE, "one Mail.ru Top counter"),
    "facebook_pixel": KindPolicy(CONCLUSIVE, "one Facebook pixel"),
    "facebook_app": KindPolicy(CONCLUSIVE, "one Facebook app id"),
    "adobe": KindPolicy(CONCLUSIVE, "one Adobe Analytics / Launch property"),
    "matomo": KindPolicy(CONCLUSIVE, "one Matomo site on one tracker"),
    "verification": KindPolicy(CONCLUSIVE, "a site-verification token proves control of the site to one account"),
    "wallet": KindPolicy(CONCLUSIVE, "donations to both sites go to one wallet"),
    "tls_cert": KindPolicy(CONCLUSIVE, "both sites serve the very same TLS certificate (one key holder)"),
    "tls_san": KindPolicy(CONCLUSIVE, "one TLS certificate names both domains"),
    "social": KindPolicy(ASSOCIATIVE, "both sites point to the same social account"),
    "email": KindPolicy(ASSOCIATIVE, "both sites give the same contact e-mail"),
    "phone": KindPolicy(ASSOCIATIVE, "both sites give the same contact phone"),
    "favicon": KindPolicy(ASSOCIATIVE, "the same favicon (mmh3 hash); also the mark of a shared template"),
    "theme": KindPolicy(ASSOCIATIVE, "the same theme; custom themes are telling, popular ones are not"),
    "css_classes": KindPolicy(ASSOCIATIVE, "near-identical sets of distinctive CSS classes (one template)"),
    "asset_link": KindPolicy(ASSOCIATIVE, "one site loads its assets from the other's domain"),
    "domain_name": KindPolicy(ASSOCIATIVE, "the same name under another suffix"),
    "ip": KindPolicy(ASSOCIATIVE, "hosted on the same IP address (shared hosting links less)"),
    "ns": KindPolicy(ASSOCIATIVE, "the same (non-provider) name servers"),
    "whois_registrant": KindPolicy(ASSOCIATIVE, "the same registrant in WHOIS"),
    "spf": KindPolicy(TERTIARY, "the same mail sender in SPF"),
    "mx": KindPolicy(TERTIARY, "the same mail exchanger"),
    "cms": KindPolicy(TERTIARY, "the same CMS: millions of sites share one"),
    "asset_host": KindPolicy(TERTIARY, "the same third-party CDN or asset host"),
    "subnet": KindPolicy(TERTIARY, "hosted in the same /24 subnet"),
    "outbound": KindPolicy(TERTIARY, "a similar outbound link profile"),
    "whois_registrar": KindPolicy(TERTIARY, "the same registrar"),
    "tls_issuer": KindPolicy(TERTIARY, "the same certificate issuer"),
    "uuid": KindPolicy(TERTIARY, "the same embedded id (meaning unknown)"),
}
DEFAULT_POLICY = KindPolicy(TERTIARY, "an indicator of an imported kind")

# Address ranges of large shared front ends (published by the providers): an IP in them says
# who protects the site, not who runs it.
SHARED_FRONTENDS = tuple(
    ipaddress.ip_network(n)
    for n in (
        # Cloudflare (https://www.cloudflare.com/ips-v4)
        "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
        "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
        "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
    )
)


# Name servers that registrars, hosts and DNS/CDN providers give all their customers: sharing
# them says where two sites are registered or hosted, not who runs them (tertiary, not
# associative). Seen among the Laundromat's real sites: reg.ru, nic.ru, airee.ru, majordomo.ru.
PROVIDER_NS = re.compile(
    r"(^|\.)(cloudflare\.com|domaincontrol\.com|registrar-servers\.com|awsdns-[\w-]+\.\w+|googledomains\.com|"
    r"google\.com|azure-dns\.\w+|nsone\.net|ultradns\.\w+|dnsmadeeasy\.com|ovh\.net|hetzner\.com|"
    r"digitalocean\.com|linode\.com|hostinger\.com|bluehost\.com|hostgator\.com|dreamhost\.com|"
    r"wordpress\.com|wixdns\.net|squarespacedns\.com|name-services\.com|reg\.ru|nic\.ru|timeweb\.(ru|org)|"
    r"beget\.(com|ru|pro)|airee\.ru|majordomo\.ru|sprinthost\.ru|masterhost\.ru|jino\.ru|yandex\.net|"
    r"selectel\.(org|ru)|ddos-guard\.net|nethouse\.ru|hc\.ru|ihc\.ru|r01\.ru)$"
)


@dataclass(slots=True)
class Observation:
    """One sighting of an indicator on a site: where (page URL and place, or the look-up or
    file it came from) and when."""

    site: str
    kind: str
    value: str
    where: str = ""
    url: str | None = None
    document_id: str | None = None
    seen_at: datetime | None = None
    origin: str = "page"  # page | dns | tls | favicon | import:<file>
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Params:
    tier_weights: dict[str, float] = field(
        default_factory=lambda: {CONCLUSIVE: 0.9, ASSOCIATIVE: 0.4, TERTIARY: 0.1}
    )
    common_sites: int = 10  # an indicator on more sites than this (and the share below) is common
    common_share: float = 0.05
    rare_sites: int = 3  # associative/tertiary weigh less past this many sites
    link_threshold: float = 0.5  # pairs at or over it are graph edges (eval/infrastructure.py fits it)
    min_pair_weight: float = 0.02  # lighter indicators only add to pairs that stronger ones made
    max_pair_sites: int = 200  # an indicator on more sites never makes pairs by itself
    css_min_jaccard: float = 0.5
    css_min_shared: int = 8
    outbound_min_cosine: float = 0.8
    outbound_min_shared: int = 5
    leiden_min_size: int = 6  # components at least this big are split where loosely held
    leiden_max_density: float = 0.5
    seed: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(slots=True)
class Indicator:
    """A (kind, value) and the sites showing it, with its tier, weight and the reason."""

    kind: str
    value: str
    sites: list[str]
    tier: str
    weight: float
    reason: str
    common: bool = False


@dataclass(slots=True)
class SiteLink:
    a: str
    b: str
    score: float
    tier: str  # the strongest tier among the shared indicators that count
    shared: list[dict[str, Any]]  # kind, value, tier, weight, reason (+ details)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)


@dataclass(slots=True)
class SiteGroup:
    id: str
    sites: list[str]
    links: list[SiteLink]
    score: float  # mean link score inside the group
    tier: str  # the strongest tier holding it together
    names: list[str] = field(default_factory=list)  # known operations it overlaps


def policy(kind: str) -> KindPolicy:
    return POLICY.get(kind, DEFAULT_POLICY)


def shared_frontend(value: str) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(addr in net for net in SHARED_FRONTENDS)


def indicators(observations: Iterable[Observation], params: Params | None = None) -> list[Indicator]:
    """Every (kind, value) on two or more sites, with its tier, weight and reason."""
    p = params or Params()
    sites_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    sites_with_kind: dict[str, set[str]] = defaultdict(set)
    for ob in observations:
        sites_of[(ob.kind, ob.value)].add(ob.site)
        sites_with_kind[ob.kind].add(ob.site)
    out = []
    for (kind, value), sites in sites_of.items():
        if len(sites) < 2:
            continue
        out.append(weigh(kind, value, sorted(sites), len(sites_with_kind[kind]), p))
    out.sort(key=lambda i: (TIER_ORDER[i.tier], -i.weight, i.kind, i.value))
    return out


def weigh(kind: str, value: str, sites: Sequence[str], sites_with_kind: int, p: Params) -> Indicator:
    pol = policy(kind)
    n = len(sites)
    cap = max(p.common_sites, int(p.common_share * sites_with_kind))
    if kind == "ip" and shared_frontend(value):
        return Indicator(kind, value, list(sites), pol.tier, 0.0, "a shared front end (CDN) address: links nothing",
                         common=True)
    if n > cap:
        return Indicator(kind, value, list(sites), pol.tier, 0.0,
                         f"on {n} sites (more than {cap}): too common to link anything", common=True)
    tier, reason = pol.tier, pol.reason
    if kind == "ns" and PROVIDER_NS.search(value):
        tier, reason = TERTIARY, "name servers of a registrar, host or DNS provider: shared by its customers"
    weight = p.tier_weights[tier]
    if tier != CONCLUSIVE and n > p.rare_sites:
        weight *= p.rare_sites / n  # the more sites share it, the less it says about any two
    return Indicator(kind, value, list(sites), tier, round(weight, 4), reason)


def link_sites(
    observations: Sequence[Observation],
    params: Params | None = None,
    *,
    classes: Mapping[str, Iterable[str]] | None = None,
    outbound: Mapping[str, Mapping[str, int]] | None = None,
) -> tuple[list[SiteLink], list[Indicator]]:
    """Scored site pairs from shared indicators, plus similar CSS class sets (``classes``:
    site -> distinctive classes) and outbound link profiles (``outbound``: site -> domain ->
    links). Returns the links (strongest first) and the shared indicators."""
    p = params or Params()
    obs = list(observations) + _derived(observations)
    found = indicators(obs, p)
    shared: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    # Indicators that weigh enough make pairs; weaker ones (a tertiary value on dozens of sites)
    # are only added to pairs that exist already, so a subnet or CDN shared by 40 sites does not
    # build 780 pairs of near-zero weight (at 10,000 sites such values made millions of pairs).
    weak_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ind in found:
        entry = {"kind": ind.kind, "value": ind.value, "tier": ind.tier, "weight": ind.weight, "reason": ind.reason,
                 "sites": len(ind.sites), "common": ind.common}
        sites = ind.sites
        if ind.weight < p.min_pair_weight or len(sites) > p.max_pair_sites:
            if len(sites) <= p.max_pair_sites * (1 if ind.common else 10):  # common: shown, weighing 0
                for s in sites:
                    weak_of[s].append(entry)
            continue
        for i, a in enumerate(sites):
            for b in sites[i + 1 :]:
                shared[(a, b)].append(entry)
    if classes:
        for (a, b), entry in _similar_sets(classes, p, "css_classes").items():
            shared[(a, b)].append(entry)
    if outbound:
        for (a, b), entry in _similar_profiles(outbound, p).items():
            shared[(a, b)].append(entry)
    for (a, b), entries in shared.items():
        if a in weak_of and b in weak_of:
            mine = {(e["kind"], e["value"]) for e in weak_of[a]}
            entries.extend(e for e in weak_of[b] if (e["kind"], e["value"]) in mine)
    links = []
    for (a, b), entries in shared.items():
        counted = [e for e in entries if e["weight"] > 0]
        if not counted:
            continue
        score = 1.0 - math.prod(1.0 - e["weight"] for e in counted)
        tier = min((e["tier"] for e in counted), key=TIER_ORDER.__getitem__)
        entries.sort(key=lambda e: (e["common"], TIER_ORDER[e["tier"]], -e["weight"], e["kind"], str(e["value"])))
        links.append(SiteLink(a, b, round(score, 4), tier, entries))
    links.sort(key=lambda lk: (-lk.score, lk.a, lk.b))
    return links, found


def _derived(observations: Sequence[Observation]) -> list[Observation]:
    """Indicators that come from comparing sites, not from one page: the same name under
    another suffix, and one site loading assets from (or a certificate naming) another."""
    from fimiscope.core.indicators import registrable

    sites = {ob.site for ob in observations}
    by_registrable: dict[str, set[str]] = defaultdict(set)
    for s in sites:
        by_registrable[registrable(s)].add(s)
    out: list[Observation] = []
    for s in sites:
        reg = registrable(s)
        label = reg.split(".", 1)[0]
        if len(label) >= 4:
            out.append(Observation(s, "domain_name", label, where="the domain itself", origin="derived"))
    seen: set[tuple[str, str, str]] = set()
    for ob in observations:
        if ob.kind not in ("asset_host", "tls_san"):
            continue
        target = registrable(ob.value)
        for other in by_registrable.get(target, ()):
            if other == ob.site or registrable(ob.site) == target:
                continue
            kind = "asset_link" if ob.kind == "asset_host" else "tls_san"
            key = (kind, ob.site, other)
            if key in seen:
                continue
            seen.add(key)
            # Both sides carry the same value, so the pair shares it like any indicator.
            value = f"{min(ob.site, other)} <-> {max(ob.site, other)}" if kind == "asset_link" else \
                f"certificate of {ob.site} names {other}"
            out.append(Observation(ob.site, kind, value, where=ob.where, url=ob.url, origin="derived"))
            out.append(Observation(other, kind, value, where=ob.where, url=ob.url, origin="derived"))
    return out


def _document_frequency(sets: Mapping[str, Iterable[str]]) -> tuple[dict[str, set[str]], Counter[str]]:
    clean = {s: set(v) for s, v in sets.items()}
    df: Counter[str] = Counter()
    for v in clean.values():
        df.update(v)
    return clean, df


def _similar_sets(sets: Mapping[str, Iterable[str]], p: Params, kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Site pairs whose sets (minus items common across sites) have Jaccard >= css_min_jaccard.
    Candidates come from MinHash LSH (index/minhash.py), then the exact Jaccard decides, so the
    cost grows with the sites, not with the pairs that share some class."""
    import hashlib

    import numpy as np

    from fimiscope.index.minhash import LSHIndex, MinHasher

    clean, df = _document_frequency(sets)
    cap = max(p.common_sites, int(p.common_share * len(clean)))
    rare = {s: {c for c in v if df[c] <= cap} for s, v in clean.items()}
    names = sorted(s for s, v in rare.items() if len(v) >= p.css_min_shared)
    if len(names) < 2:
        return {}

    def h64(item: str) -> int:
        return int.from_bytes(hashlib.blake2b(item.encode("utf-8"), digest_size=8).digest(), "little")

    hashes = [np.fromiter(sorted({h64(c) for c in rare[s]}), dtype=np.uint64) for s in names]
    sigs = MinHasher(num_perm=64, seed=p.seed, scheme="classic").signatures(hashes)
    lsh = LSHIndex(threshold=max(p.css_min_jaccard - 0.1, 0.2), num_perm=64)
    lsh.add(np.arange(len(names)), sigs)
    rows, found = lsh.query_pairs(sigs)
    out = {}
    pol = policy(kind)
    for i, j in zip(rows.tolist(), found.tolist(), strict=True):
        if i >= j:
            continue
        a, b = names[i], names[j]
        n = len(rare[a] & rare[b])
        if n < p.css_min_shared:
            continue
        jac = n / len(rare[a] | rare[b])
        if jac >= p.css_min_jaccard:
            sample = sorted(rare[a] & rare[b])[:12]
            out[(a, b)] = {"kind": kind, "value": f"{n} shared classes (Jaccard {jac:.2f})", "tier": pol.tier,
                           "weight": round(p.tier_weights[pol.tier] * min(1.0, jac / 0.8), 4), "reason": pol.reason,
                           "sites": 2, "common": False, "details": {"jaccard": round(jac, 3), "sample": sample}}
    return out


def _similar_profiles(
    profiles: Mapping[str, Mapping[str, int]], p: Params
) -> dict[tuple[str, str], dict[str, Any]]:
    """Site pairs whose outbound link profiles (common domains left out) have cosine >= the threshold."""
    _clean, df = _document_frequency({s: v.keys() for s, v in profiles.items()})
    # Domains most sites link to say little about who runs a site, and their postings would
    # make most of the pairs: only domains on at most 50 sites (or the common cap) count.
    cap = min(max(p.common_sites, int(p.common_share * len(profiles))), 50)
    vecs = {s: {d: float(n) for d, n in v.items() if df[d] <= cap} for s, v in profiles.items()}
    norms = {s: math.sqrt(sum(x * x for x in v.values())) for s, v in vecs.items()}
    postings: dict[str, list[str]] = defaultdict(list)
    for s, v in vecs.items():
        for d in v:
            postings[d].append(s)
    dots: dict[tuple[str, str], float] = defaultdict(float)
    counts: Counter[tuple[str, str]] = Counter()
    for d, members in postings.items():
        members.sort()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                dots[(a, b)] += vecs[a][d] * vecs[b][d]
                counts[(a, b)] += 1
    out = {}
    pol = policy("outbound")
    for pair, dot in dots.items():
        a, b = pair
        if counts[pair] < p.outbound_min_shared or not norms[a] or not norms[b]:
            continue
        cos = dot / (norms[a] * norms[b])
        if cos >= p.outbound_min_cosine:
            out[pair] = {"kind": "outbound", "value": f"{counts[pair]} linked domains in common (cosine {cos:.2f})",
                         "tier": pol.tier, "weight": p.tier_weights[pol.tier], "reason": pol.reason, "sites": 2,
                         "common": False, "details": {"cosine": round(cos, 3)}}
    return out


# -- groups ---------------------------------------------------------------------------------------


def group_sites(
    links: Sequence[SiteLink],
    params: Params | None = None,
    *,
    previous: Mapping[str, Iterable[str]] | None = None,
    new_id: Any = None,
) -> list[SiteGroup]:
    """Site groups over the links at or over ``link_threshold``: connected components, each
    split by Leiden (modularity) when it is big and loosely held. ``previous`` (group id ->
    sites) keeps ids stable: a group takes the id of the earlier group it overlaps most
    (Jaccard >= 0.3), largest overlaps first; others get ``new_id()``."""
    import igraph as ig

    p = params or Params()
    strong = [lk for lk in links if lk.score >= p.link_threshold]
    if not strong:
        return []
    names = sorted({s for lk in strong for s in lk.pair})
    index = {s: i for i, s in enumerate(names)}
    graph = ig.Graph(n=len(names), edges=[(index[lk.a], index[lk.b]) for lk in strong])
    graph.es["weight"] = [lk.score for lk in strong]
    memberships: list[list[int]] = []
    for comp in graph.connected_components():
        if len(comp) >= p.leiden_min_size:
            sub = graph.induced_subgraph(comp)
            if sub.density() < p.leiden_max_density:
                state = random.getstate()
                random.seed(p.seed)  # igraph draws from Python's random: keep groups reproducible
                try:
                    parts = sub.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
                finally:
                    random.setstate(state)
                if len(parts) > 1 and parts.modularity > 0.3:
                    memberships.extend([[comp[v] for v in part] for part in parts if len(part) >= 2])
                    continue
        memberships.append(list(comp))
    by_pair = {lk.pair: lk for lk in strong}
    groups = []
    for members in memberships:
        sites = sorted(names[i] for i in members)
        inside = [by_pair[(a, b)] for i, a in enumerate(sites) for b in sites[i + 1 :] if (a, b) in by_pair]
        if not inside:
            continue
        tier = min((lk.tier for lk in inside), key=TIER_ORDER.__getitem__)
        score = round(sum(lk.score for lk in inside) / len(inside), 4)
        groups.append(SiteGroup("", sites, inside, score, tier))
    _assign_ids(groups, previous or {}, new_id)
    groups.sort(key=lambda g: (-len(g.sites), g.id))
    return groups


def _assign_ids(groups: list[SiteGroup], previous: Mapping[str, Iterable[str]], new_id: Any) -> None:
    old = {gid: set(sites) for gid, sites in previous.items()}
    candidates = []
    for gi, g in enumerate(groups):
        members = set(g.sites)
        for gid, sites in old.items():
            inter = len(members & sites)
            if inter:
                jac = inter / len(members | sites)
                if jac >= 0.3:
                    candidates.append((jac, inter, gid, gi))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
    used_old: set[str] = set()
    for _jac, _inter, gid, gi in candidates:
        if gid in used_old or groups[gi].id:
            continue
        groups[gi].id = gid
        used_old.add(gid)
    for g in groups:
        if not g.id:
            if new_id is not None:
                g.id = str(new_id())
            else:  # pure callers (the eval): an id from the members
                import hashlib

                g.id = "grp_" + hashlib.blake2b("|".join(g.sites).encode(), digest_size=6).hexdigest()


def name_groups(groups: Sequence[SiteGroup], known: Mapping[str, Iterable[str]]) -> None:
    """Name each group after the known operations (operation -> its documented domains) whose
    domains are among its members, most members first: "DIMA: Doppelganger (3 of 5 sites)"."""
    from fimiscope.core.indicators import registrable

    ops = {op: {registrable(d) for d in doms} for op, doms in known.items()}
    for g in groups:
        members = {registrable(s) for s in g.sites}
        hits = [(len(members & doms), op) for op, doms in ops.items() if members & doms]
        hits.sort(key=lambda h: (-h[0], h[1]))
        g.names = [f"{op} ({n} of {len(g.sites)} sites)" for n, op in hits]


def pair_tiers(links: Sequence[SiteLink]) -> dict[tuple[str, str], str]:
    return {lk.pair: lk.tier for lk in links}


# -- the pipeline stage ----------------------------------------------------------------------------

OPERATION_LIST_PREFIXES = ("dima:", "laundromat:viginum", "laundromat:rt-mirror")
NOT_OPERATIONS = frozenset({"dima:laundromat"})  # DIMA's list of reposters, not one operation


def is_operation_list(name: str) -> bool:
    """Registry lists that document one operation (DIMA's per-operation files, VIGINUM's
    Portal Kombat list), as opposed to lists of outlets of concern."""
    return name.startswith(OPERATION_LIST_PREFIXES) and name not in NOT_OPERATIONS


def operation_label(list_name: str) -> str:
    room, _, rest = list_name.partition(":")
    return f"{'DIMA' if room == 'dima' else room.capitalize()}: {rest}"
