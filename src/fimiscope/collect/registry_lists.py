"""Published lists of domains of concern, read as they are distributed.

* ``laundromat``: the Information Laundromat's ``sites_of_concern.csv`` (GMF Alliance for
  Securing Democracy; columns Threat Actor, Domain, Name, Source) — each domain with the list
  it comes from. A sibling ``*indicators.csv`` (infrastructure indicators: IPs, analytics ids,
  certificates…) is attached to the listed domains' metadata when present.
* ``dima``: the DIMA browser plug-in's per-operation JavaScript data files (M82 project):
  ``const <op>Domains = [{domain: "...", source: "...", reportUrl: "...", tags: [...]}, ...]``.
  They are parsed as text (string-aware brace matching and key/value extraction), never run.

Tiers are mapped from what each list documents, not from suspicion: an attribution in a
government or research report to a state-run operation is ``state_linked``; a general news
list stays ``unknown`` (the domain keeps the list name in ``lists``).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from fimiscope.collect.registry import RegistryRejection, registry_detector, registry_format
from fimiscope.core.model import AFFILIATION_SEVERITY, Affiliation, Provenance, Source

LAUNDROMAT_REPO = "https://github.com/ASD-at-GMF/disinfo-laundromat"
DIMA_REPO = "https://github.com/M82-project/DIMA_Plugin_Chrome"

# Laundromat list name -> (tier, why). Only lists that document a state operation are flagged.
LAUNDROMAT_TIERS: dict[str, tuple[Affiliation, str]] = {
    "viginum (portal kombat)": (
        Affiliation.STATE_LINKED,
        "VIGINUM (SGDSN) report on the Portal Kombat network of pro-Russian portals, Feb 2024",
    ),
    "rt mirror/repost": (
        Affiliation.STATE_ALIGNED,
        "mirrors and reposters of RT content; a reposter is not shown to be state-run, so the tier is aligned",
    ),
}
# Russian state media in the EUvsDisinfo list: named outlets whose state ownership is public.
_STATE_MEDIA = re.compile(
    r"(^|\.)(rt\.com|ria\.ru|sputniknews\.[a-z.]+|sputnik[a-z]*\.[a-z.]+|tass\.(ru|com)|rg\.ru|vesti\.ru|1tv\.ru|"
    r"tvzvezda\.ru|ntv\.ru|russian\.rt\.com|rtde\.[a-z]+|snanews\.de|inosmi\.ru|ria\.ru)$"
)

# DIMA operation (file stem, lowercase) -> tier. All are attributed by the cited reports to
# Russian state-run or state-directed actors, except Baybridge (Chinese marketing firms whose
# state link is not established in the report) and DIMA's own "laundromat" list of reposters.
DIMA_TIERS: dict[str, Affiliation] = {
    "pravda": Affiliation.STATE_LINKED,
    "portalkombat": Affiliation.STATE_LINKED,
    "doppelganger": Affiliation.STATE_LINKED,
    "rrn": Affiliation.STATE_LINKED,
    "storm1516": Affiliation.STATE_LINKED,
    "copycop": Affiliation.STATE_LINKED,
    "inforos": Affiliation.STATE_LINKED,
    "baybridge": Affiliation.STATE_ALIGNED,
    "laundromat": Affiliation.STATE_ALIGNED,
}


# A list entry naming a whole platform (e.g. m.youtube.com for RT videos re-uploaded there)
# cannot flag the platform: every account on it would inherit the tier.
_PLATFORMS = re.compile(
    r"^(m\.|mobile\.)?(youtube\.com|youtu\.be|facebook\.com|instagram\.com|twitter\.com|x\.com|t\.me|telegram\.org|"
    r"tiktok\.com|vk\.com|ok\.ru|rumble\.com|google\.com|blogspot\.com|wordpress\.com|livejournal\.com|"
    r"medium\.com|substack\.com|dzen\.ru|zen\.yandex\.ru)$"
)


def domain_of(value: str) -> str | None:
    v = value.strip().lower()
    v = re.sub(r"^[a-z]+:/+", "", v)
    v = v.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    v = v.removeprefix("www.")
    if not v or "." not in v or " " in v:
        return None
    return v


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _add(
    items: dict[str, Source],
    domain: str,
    aff: Affiliation,
    prov: Provenance,
    list_name: str,
    meta: dict[str, Any] | None = None,
) -> None:
    src = items.get(domain)
    if src is None:
        src = items[domain] = Source(name=domain, domain=domain)
    if AFFILIATION_SEVERITY.index(aff) < AFFILIATION_SEVERITY.index(src.affiliation):
        src.affiliation = aff
    if prov not in src.provenance:
        src.provenance.append(prov)
    if list_name not in src.lists:
        src.lists.append(list_name)
        src.lists.sort()
    if meta:
        for k, v in meta.items():
            src.metadata.setdefault(k, v)


@registry_format("laundromat")
def read_laundromat(path: Path) -> tuple[list[Source], list[RegistryRejection]]:
    csv.field_size_limit(1 << 26)
    items: dict[str, Source] = {}
    rejections: list[RegistryRejection] = []
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
        reader = csv.DictReader(f)
        for number, row in enumerate(reader, start=2):
            raw = (row.get("Domain") or "").strip()
            domain = domain_of(raw)
            list_name = (row.get("Source") or "").strip() or "unnamed list"
            if not domain:
                rejections.append(RegistryRejection(number, f"no domain in {raw!r}"))
                continue
            tier, why = LAUNDROMAT_TIERS.get(list_name.lower(), (Affiliation.UNKNOWN, ""))
            if list_name.lower() == "euvsdisinfo" and _STATE_MEDIA.search(domain):
                tier, why = Affiliation.STATE_CONTROLLED, "Russian state-owned outlet listed by EUvsDisinfo"
            prov = Provenance(
                by=f"Information Laundromat list: {list_name}",
                where=f"{LAUNDROMAT_REPO} sites_of_concern.csv" + (f" ({why})" if why else ""),
                when="",
            )
            meta: dict[str, Any] = {}
            if row.get("Threat Actor"):
                meta["threat_actor"] = row["Threat Actor"].strip()
            if row.get("Name"):
                meta["laundromat_name"] = row["Name"].strip()
            _add(items, domain, tier, prov, f"laundromat:{_slug(list_name)}", meta)
    indicators = path.with_name("laundromat-indicators.csv")
    if path.name != indicators.name and indicators.exists():
        _attach_indicators(items, indicators)
    return list(items.values()), rejections


def _attach_indicators(items: dict[str, Source], path: Path) -> None:
    csv.field_size_limit(1 << 26)
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
        for row in csv.DictReader(f):
            domain = domain_of(row.get("domain_name") or "")
            src = items.get(domain or "")
            if src is None:
                continue
            kind = (row.get("indicator_type") or "").strip()
            content = (row.get("indicator_content") or "").strip()
            if not kind or not content:
                continue
            found = src.metadata.setdefault("indicators", [])
            entry = {"type": kind, "value": content[:500], "from": "laundromat-indicators.csv"}
            if entry not in found:
                found.append(entry)


# -- DIMA ---------------------------------------------------------------------------------------

_ARRAY_START = re.compile(r"(?:const|let|var)\s+(\w+)\s*=\s*\[")
_PAIR = re.compile(
    r"""(\w+)\s*:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[(?:[^\]"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\]|[\w.+-]+)"""
)
_STRING = re.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")


def _strip_comments(text: str) -> str:
    """Remove // and /* */ comments outside string literals."""
    out = []
    i, n = 0, len(text)
    quote = ""
    while i < n:
        c = text[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = ""
            i += 1
            continue
        if c in "\"'`":
            quote = c
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _top_level_objects(text: str, start: int) -> list[str]:
    """The ``{...}`` literals directly inside the array that opens at ``start``."""
    objs = []
    depth = 0
    quote = ""
    obj_start = -1
    i = start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in "[{":
            depth += 1
            if c == "{" and depth == 2:
                obj_start = i
        elif c in "]}":
            depth -= 1
            if c == "}" and depth == 1 and obj_start >= 0:
                objs.append(text[obj_start : i + 1])
                obj_start = -1
            if depth == 0:
                break
        i += 1
    return objs


def _js_string(token: str) -> str:
    m = _STRING.fullmatch(token)
    if not m:
        return token
    if m.group(1) is not None:
        try:
            return str(json.loads(f'"{m.group(1)}"'))
        except json.JSONDecodeError:
            return m.group(1)
    return m.group(2).replace("\\'", "'")


def parse_dima(text: str) -> dict[str, list[dict[str, Any]]]:
    """Arrays of objects in a DIMA data file, by variable name."""
    clean = _strip_comments(text)
    out: dict[str, list[dict[str, Any]]] = {}
    for m in _ARRAY_START.finditer(clean):
        records = []
        for obj in _top_level_objects(clean, m.end() - 1):
            rec: dict[str, Any] = {}
            body = obj[1:-1]
            for pm in _PAIR.finditer(body):
                key, value = pm.group(1), pm.group(2)
                if key in rec:
                    continue
                if value.startswith("["):
                    rec[key] = [_js_string(s.group(0)) for s in _STRING.finditer(value)]
                else:
                    rec[key] = _js_string(value)
            if rec:
                records.append(rec)
        out[m.group(1)] = records
    return out


def _dima_header(text: str) -> str:
    lines = [ln.strip("/ *").strip() for ln in text.splitlines()[:4]]
    return " ".join(ln for ln in lines if ln)[:300]


@registry_format("dima")
def read_dima(path: Path) -> tuple[list[Source], list[RegistryRejection]]:
    files = sorted(path.glob("*.js")) if path.is_dir() else [path]
    items: dict[str, Source] = {}
    rejections: list[RegistryRejection] = []
    for file in files:
        text = file.read_text(encoding="utf-8", errors="replace")
        operation = file.stem
        tier = DIMA_TIERS.get(operation.lower(), Affiliation.UNKNOWN)
        header = _dima_header(text)
        arrays = parse_dima(text)
        number = 0
        for var, records in arrays.items():
            if not var.lower().endswith("domains"):
                continue
            for rec in records:
                number += 1
                domain = domain_of(str(rec.get("domain") or ""))
                if rec.get("matchType") == "contains" and not domain:
                    rejections.append(
                        RegistryRejection(number, f"{file.name}: {rec.get('domain')!r} is a name pattern, not a domain")
                    )
                    continue
                if domain and _PLATFORMS.search(domain):
                    rejections.append(
                        RegistryRejection(number, f"{file.name}: {domain} is a platform, not an outlet: not flagged")
                    )
                    continue
                if not domain:
                    rejections.append(RegistryRejection(number, f"{file.name}: no domain in {rec.get('domain')!r}"))
                    continue
                by = str(rec.get("source") or header or operation)
                prov = Provenance(
                    by=f"{by} (operation {operation}, via DIMA)",
                    where=str(rec.get("reportUrl") or f"{DIMA_REPO} data/databases/{file.name}"),
                    when=str(rec.get("identifiedDate") or ""),
                )
                meta: dict[str, Any] = {}
                ops = {"operation": operation}
                for key in ("reason", "riskLevel", "matchType"):  # matchType "contains": subdomains too
                    if rec.get(key):
                        ops[key] = rec[key]
                if isinstance(rec.get("tags"), list):
                    ops["tags"] = rec["tags"]
                meta["dima"] = [ops]
                before = items.get(domain)
                _add(items, domain, tier, prov, f"dima:{_slug(operation)}", meta)
                if before is not None and before.metadata.get("dima") and ops not in before.metadata["dima"]:
                    before.metadata["dima"].append(ops)
    return list(items.values()), rejections


@registry_detector
def _detect(path: Path) -> str | None:
    name = path.name.lower()
    if path.is_dir() and any(p.suffix == ".js" for p in path.glob("*.js")):
        return "dima"
    if name.endswith(".js"):
        return "dima"
    if "sites_of_concern" in name or (name.startswith("laundromat") and name.endswith(".csv")):
        return "laundromat"
    return None
