"""The ``detect.infrastructure`` stage: links, site groups and signals over every stored
indicator observation (kernel in detect/infrastructure.py).

It looks at the whole store, so it re-runs only when observations or site profiles changed
since its last run (the watermark is the time of the latest change). Everything it writes —
links, groups, signals and the watermark — commits in one transaction: a killed run leaves the
previous run's results whole. It never reaches the network: look-ups are the analyst's
(``fimiscope infrastructure lookup``, collect/lookups.py) and arrive here as observations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fimiscope.config import Settings
from fimiscope.core.clock import utcnow
from fimiscope.core.ids import new_id
from fimiscope.core.model import Evidence, Signal
from fimiscope.detect.infrastructure import (
    ASSOCIATIVE,
    CONCLUSIVE,
    TIER_ORDER,
    VERSION,
    Observation,
    Params,
    SiteGroup,
    SiteLink,
    group_sites,
    is_operation_list,
    link_sites,
    name_groups,
    operation_label,
)
from fimiscope.pipeline import Stage, StageReport, register
from fimiscope.store import Store
from fimiscope.store import infrastructure as infra_db
from fimiscope.store import signals as signal_store
from fimiscope.store import watermarks as watermark_store

MAX_EVIDENCE = 40  # shared indicators cited per signal; the site page has them all


@register
class InfrastructureStage(Stage):
    name = "detect.infrastructure"
    order = 60
    description = "link sites sharing infrastructure, group them, flag independent-looking sites tied to flagged ones"

    def __init__(self, params: Params | None = None) -> None:
        self.params = params or Params()

    @classmethod
    def from_settings(cls, settings: Settings) -> InfrastructureStage:
        return cls(Params(link_threshold=settings.infra_link_threshold))

    def run(self, store: Store, *, batch_size: int, progress: Callable[[int, int], None]) -> StageReport:
        with store.connect() as conn:
            report = StageReport(stage=self.name, watermark=watermark_store.watermark(conn, self.name))
        with store.transaction() as conn:
            marker = infra_db.change_marker(conn)
            if marker <= report.watermark:
                progress(0, 0)
                return report  # nothing new since the last run
            obs = [Observation(s, k, v) for s, k, v in infra_db.observation_triples(conn)]
            classes, outbound = infra_db.site_profiles(conn)
            links, _indicators = link_sites(obs, self.params, classes=classes, outbound=outbound)
            previous = infra_db.previous_groups(conn)
            groups = group_sites(links, self.params, previous=previous, new_id=lambda: new_id("grp_"))
            known = {operation_label(k): v for k, v in infra_db.operation_domains(conn, is_operation_list).items()}
            name_groups(groups, known)
            now = utcnow()
            infra_db.save_links(conn, links, now)
            joins = infra_db.save_groups(conn, groups, now)
            sigs = self.signals(conn, links, groups, joins)
            new, _updated = signal_store.upsert_signals(conn, sigs)
            watermark_store.set_watermark(conn, self.name, marker)
        report.processed = len({s for lk in links for s in lk.pair})
        report.signals = len(sigs)
        report.watermark = marker
        report.details.update(links=len(links), groups=len(groups), new_signals=new)
        progress(report.processed, report.processed)
        return report

    # -- signals ---------------------------------------------------------------------------------

    def _strong(self, lk: SiteLink) -> bool:
        return lk.tier == CONCLUSIVE or (lk.score >= self.params.link_threshold
                                         and TIER_ORDER[lk.tier] <= TIER_ORDER[ASSOCIATIVE])

    def signals(self, conn: Any, links: list[SiteLink], groups: list[SiteGroup],
                joins: list[tuple[str, str]]) -> list[Signal]:
        facts = infra_db.source_facts(conn, {s for lk in links for s in lk.pair})
        flagged = {s for s, f in facts.items() if f["flagged"]}
        ties: dict[str, list[tuple[str, SiteLink]]] = defaultdict(list)
        for lk in links:
            if not self._strong(lk):
                continue
            for site, other in (lk.pair, lk.pair[::-1]):
                if site not in flagged and other in flagged:
                    ties[site].append((other, lk))
        wanted = {(s, e["kind"], str(e["value"])) for site, items in ties.items() for other, lk in items
                  for s in (site, other) for e in lk.shared if e["weight"] > 0}
        by_group = {g.id: g for g in groups}
        for gid, site in joins:
            for lk in by_group[gid].links:
                if site in lk.pair:
                    wanted |= {(s, e["kind"], str(e["value"])) for s in lk.pair for e in lk.shared if e["weight"] > 0}
        seen = infra_db.sightings(conn, wanted)
        out = [self._shared_signal(site, items, facts, seen) for site, items in sorted(ties.items())]
        for gid, site in joins:
            g = by_group[gid]
            mine = [lk for lk in g.links if site in lk.pair]
            if mine:
                out.append(self._join_signal(site, g, mine, facts, seen))
        return out

    def _evidence(self, site: str, other: str, lk: SiteLink, seen: dict[Any, Any]) -> list[Evidence]:
        ev = []
        for e in lk.shared:
            if e["weight"] <= 0:
                continue
            here = seen.get((site, e["kind"], str(e["value"])), [])
            there = seen.get((other, e["kind"], str(e["value"])), [])
            ev.append(Evidence(
                document_id=next((w["document_id"] for w in here if w["document_id"]), None),
                role="shared_indicator", score=e["weight"],
                details={"kind": e["kind"], "value": e["value"], "tier": e["tier"], "reason": e["reason"],
                         "sites": e["sites"], "site": site, "shared_with": other, "seen_here": here,
                         "seen_there": there, **({"details": e["details"]} if "details" in e else {})}))
        return ev

    def _shared_signal(self, site: str, items: list[tuple[str, SiteLink]], facts: dict[str, Any],
                       seen: dict[Any, Any]) -> Signal:
        items.sort(key=lambda it: -it[1].score)
        partners = [other for other, _lk in items]
        first = items[0][0]
        aff = facts[first]["affiliation"]
        what = f"{first} ({aff.replace('_', '-')})" if aff not in ("unknown", "independent") else first
        more = f" and {len(partners) - 1} other flagged site(s)" if len(partners) > 1 else ""
        evidence = [ev for other, lk in items for ev in self._evidence(site, other, lk, seen)][:MAX_EVIDENCE]
        tiers = sorted({lk.tier for _o, lk in items}, key=TIER_ORDER.__getitem__)
        return Signal(
            type="infrastructure", key=f"infrastructure:{site}",
            title=f"{site} shares infrastructure with {what}{more}",
            summary=(f"{site} is not flagged, but shares {tiers[0]} indicators with {', '.join(partners[:5])}: "
                     + "; ".join(f"{e.details['kind']} {e.details['value']}" for e in evidence[:4])),
            score=max(lk.score for _o, lk in items), detector=self.name, detector_version=VERSION,
            parameters=self.params.as_dict(), evidence=evidence,
            details={"site": site, "shared_with": [{"site": o, "score": lk.score, "tier": lk.tier,
                                                     "affiliation": facts[o]["affiliation"], "lists": facts[o]["lists"]}
                                                    for o, lk in items],
                     "source": facts.get(site, {}).get("source")})

    def _join_signal(self, site: str, g: SiteGroup, mine: list[SiteLink], facts: dict[str, Any],
                     seen: dict[Any, Any]) -> Signal:
        name = g.names[0] if g.names else f"{len(g.sites)} sites"
        evidence = [ev for lk in mine for ev in self._evidence(site, lk.b if lk.a == site else lk.a, lk, seen)]
        return Signal(
            type="infrastructure_join", key=f"infrastructure_join:{g.id}:{site}",
            title=f"{site} joined site group {g.id} ({name})",
            summary=f"{site} now shares infrastructure with {len(mine)} member(s) of a known group of "
                    f"{len(g.sites)} sites.",
            score=max(lk.score for lk in mine), detector=self.name, detector_version=VERSION,
            parameters=self.params.as_dict(), evidence=evidence[:MAX_EVIDENCE],
            details={"site": site, "group": g.id, "group_names": g.names, "group_sites": g.sites,
                     "source": facts.get(site, {}).get("source")})
