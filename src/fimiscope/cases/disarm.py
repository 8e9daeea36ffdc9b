"""The DISARM Red framework (tactics, techniques, sub-techniques) and its Blue side (counters,
detections, actor types). Never typed in by hand: out of the box it is read from the DISARM
clusters that ``pymispgalaxies`` ships; ``fimiscope disarm import`` stores a newer release from
DISARM's own STIX bundle, which then becomes the version in use.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.serialize import parse_json
from fimiscope.store import Store
from fimiscope.store.cases import DisarmEntry, active_disarm_version, load_disarm_entries, save_disarm_release

DISARM_URL = "https://www.disarm.foundation/"
_TECHNIQUE_URL = "https://github.com/DISARMFoundation/DISARMframeworks/blob/main/generated_pages/techniques/{}.md"
_ID_RE = re.compile(r"^(T\d{4}(\.\d{3})?|TA\d{2}|C\d{5}|F\d{5}|A\d{3})$")

_GALAXIES = {
    "disarm-techniques": "technique",
    "disarm-countermeasures": "counter",
    "disarm-detections": "detection",
    "disarm-actortypes": "actor-type",
}


@dataclass(slots=True)
class Taxonomy:
    version: str
    entries: dict[str, DisarmEntry]

    def get(self, external_id: str) -> DisarmEntry:
        key = external_id.strip()
        entry = self.entries.get(key.upper()) or self.entries.get(key)
        if entry is None:
            raise NotFound(f"{external_id!r} is not in DISARM {self.version} (see `fimiscope disarm search`)")
        return entry

    def tactic_name(self, tactic: str) -> str:
        """A tactic given by id (TA05) or name -> its name."""
        entry = self.entries.get(tactic.strip().upper())
        if entry is not None and entry.kind == "tactic":
            return entry.name
        return tactic.strip()

    def list(self, kind: str | None = None, tactic: str | None = None) -> list[DisarmEntry]:
        wanted_tactic = self.tactic_name(tactic).lower() if tactic else None
        out = []
        for e in self.entries.values():
            if kind and e.kind != kind and not (kind == "technique" and e.kind == "sub-technique"):
                continue
            if wanted_tactic and (e.tactic or "").lower() != wanted_tactic:
                continue
            out.append(e)
        return sorted(out, key=lambda e: (_kind_order(e.kind), self._position(e)))

    def _position(self, e: DisarmEntry) -> tuple[int, str]:
        # Tactics in the framework's own order (insertion order), the rest by id.
        if e.kind == "tactic":
            return (list(self.entries).index(e.external_id), "")
        return (0, e.external_id)

    def search(self, words: str) -> builtins.list[DisarmEntry]:
        terms = [t for t in re.findall(r"\w+", words.lower()) if t]
        if not terms:
            raise InvalidInput("give at least one word to search for")
        hits = []
        for e in self.entries.values():
            hay = f"{e.external_id} {e.name} {e.description}".lower()
            if all(t in hay for t in terms):
                # Name hits first: an analyst searching "hashtag" wants the technique called so.
                name_hits = sum(t in e.name.lower() for t in terms)
                hits.append((-name_hits, _kind_order(e.kind), e.external_id, e))
        return [h[-1] for h in sorted(hits, key=lambda h: h[:3])]

    def check_techniques(self, ids: builtins.list[str]) -> builtins.list[str]:
        """Normalised technique ids; an unknown id is an error that names the version."""
        out = []
        for raw in ids:
            entry = self.get(raw)
            if entry.kind not in ("technique", "sub-technique"):
                raise InvalidInput(f"{raw} is a DISARM {entry.kind}, not a technique")
            out.append(entry.external_id)
        return out


def _kind_order(kind: str) -> int:
    return ["tactic", "technique", "sub-technique", "counter", "detection", "actor-type"].index(kind)


def _galaxy_file(folder: str, name: str) -> dict[str, Any]:
    """One of the MISP galaxy files pymispgalaxies ships (``clusters/`` or ``galaxies/``), read as
    the plain JSON it is. Its own API is not used: importing it loads jsonschema, whose URI
    grammars took ~4 s to build, paid by every command that names a technique."""
    spec = find_spec("pymispgalaxies")  # found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise OSError("pymispgalaxies is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "data" / "misp-galaxy"
    data: dict[str, Any] = parse_json((root / folder / f"{name}.json").read_bytes(), what=f"the {name} galaxy")
    return data


@lru_cache(maxsize=1)
def builtin() -> Taxonomy:
    """DISARM as shipped by pymispgalaxies: its four DISARM clusters."""
    entries: dict[str, DisarmEntry] = {}
    galaxy_versions = []
    for galaxy, kind in _GALAXIES.items():
        try:
            cluster = _galaxy_file("clusters", galaxy)
        except (OSError, InvalidInput):  # a release without this cluster
            continue
        galaxy_versions.append(f"{galaxy} v{cluster.get('version')}")
        for value in cluster.get("values") or []:
            meta: dict[str, Any] = value.get("meta") or {}
            ext = str(meta.get("external_id") or "").strip()
            if not ext:
                continue
            tactics = [k.split(":", 1)[1] for k in meta.get("kill_chain", []) if k.startswith("tactics:")]
            refs = meta.get("refs") or []
            this_kind = "sub-technique" if kind == "technique" and "." in ext else kind
            entries[ext] = DisarmEntry(
                external_id=ext,
                kind=this_kind,
                name=value["value"],
                description=value.get("description") or "",
                tactic=tactics[0] if tactics else None,
                parent=ext.split(".")[0] if this_kind == "sub-technique" else None,
                url=refs[0] if refs else None,
            )
    # The galaxy names the tactics (in kill-chain order) but carries no TA ids: key them by name.
    try:
        order = (_galaxy_file("galaxies", "disarm-techniques").get("kill_chain_order") or {}).get("tactics", [])
    except (OSError, InvalidInput, AttributeError):  # a galaxy without kill-chain order still gives techniques
        order = []
    for name in order:
        entries.setdefault(name, DisarmEntry(external_id=name, kind="tactic", name=name))
    version = f"DISARM from pymispgalaxies {package_version('pymispgalaxies')} ({', '.join(galaxy_versions)})"
    return Taxonomy(version=version, entries=entries)


def taxonomy(store: Store | None = None) -> Taxonomy:
    """The release in use: the last one imported into the store, else the built-in one."""
    if store is not None:
        version = active_disarm_version(store)
        if version:
            return Taxonomy(version=version, entries={e.external_id: e for e in load_disarm_entries(store, version)})
    return builtin()


def parse_stix_bundle(data: bytes | str) -> list[DisarmEntry]:
    """DISARM's STIX 2.1 bundle (x-mitre-tactic + attack-pattern) -> entries."""
    import stix2
    from stix2.exceptions import STIXError

    parsed = parse_json(data, what="the DISARM STIX bundle")
    try:
        bundle = stix2.parse(parsed, allow_custom=True)
    except (STIXError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise InvalidInput(f"not a STIX 2.1 bundle DISARM publishes: {exc}") from exc
    objects = getattr(bundle, "objects", None) or []
    tactics_by_short: dict[str, str] = {}
    entries: list[DisarmEntry] = []
    for obj in objects:
        if obj["type"] == "x-mitre-tactic":
            ext = _disarm_ref(obj)
            if ext is None:
                continue
            short = obj.get("x_mitre_shortname")
            if short:
                tactics_by_short[short] = obj["name"]
            entries.append(
                DisarmEntry(ext["external_id"], "tactic", obj["name"], obj.get("description", ""), url=ext.get("url"))
            )
    for obj in objects:
        if obj["type"] != "attack-pattern" or obj.get("revoked"):
            continue
        ext = _disarm_ref(obj)
        if ext is None:
            continue
        eid = ext["external_id"]
        phases = [p["phase_name"] for p in obj.get("kill_chain_phases", [])]
        sub = "." in eid
        entries.append(
            DisarmEntry(
                external_id=eid,
                kind="sub-technique" if sub else "technique",
                name=obj["name"],
                description=obj.get("description", ""),
                tactic=tactics_by_short.get(phases[0], phases[0]) if phases else None,
                parent=eid.split(".")[0] if sub else None,
                url=ext.get("url"),
            )
        )
    if not any(e.kind in ("technique", "sub-technique") for e in entries):
        raise InvalidInput("the bundle holds no DISARM techniques (attack-pattern objects with T0000 ids)")
    return entries


def _disarm_ref(obj: Any) -> dict[str, Any] | None:
    for ref in obj.get("external_references", []):
        ext = ref.get("external_id")
        if ext and _ID_RE.match(ext):
            return dict(ref)
    return None


def import_release(store: Store, path: Path, version: str | None = None) -> tuple[str, int]:
    """Load DISARM's STIX bundle from ``path`` and make it the version in use."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    entries = parse_stix_bundle(data)
    if not version:
        m = re.search(r"v(\d+(?:\.\d+)+)", path.name)
        if m is None:
            raise InvalidInput("cannot tell the DISARM version from the file name: give --version (e.g. v1.7)")
        version = f"v{m.group(1)}"
    name = version if version.startswith("DISARM") else f"DISARM {version}"
    count = save_disarm_release(store, name, str(path), entries)
    return name, count


def technique_url(external_id: str, entry: DisarmEntry | None = None) -> str:
    if entry is not None and entry.url:
        return entry.url
    return _TECHNIQUE_URL.format(external_id)
