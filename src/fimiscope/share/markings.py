"""TLP 2.0 marking definitions (the official FIRST/OASIS ids) and reading the TLP of an object."""

from __future__ import annotations

from typing import Any

from fimiscope.cases.tlp import TLP_LEVELS, TLP_RANK

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 (STIX 2.1 spec section 7.2.1.4): partners still send these; WHITE is CLEAR.
TLP1_IDS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
TLP_BY_ID = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}

# An object nobody marked is shared as TLP:CLEAR would be only if its producer meant so; we do
# not guess in the partner's favour: unmarked objects count as this level (see docs/sharing.md).
UNMARKED_TLP = "green"


def tlp_marking_definition(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def is_official_tlp(obj: dict[str, Any]) -> bool:
    return obj.get("type") == "marking-definition" and obj.get("id") in TLP_BY_ID


def object_tlp(obj: dict[str, Any]) -> str:
    """The most restrictive TLP among an object's markings (object- and granular-level)."""
    if is_official_tlp(obj):
        return "clear"
    refs = list(obj.get("object_marking_refs") or [])
    refs += [g.get("marking_ref") for g in obj.get("granular_markings") or [] if isinstance(g, dict)]
    levels = [TLP_BY_ID[r] for r in refs if r in TLP_BY_ID]
    if not levels:
        return UNMARKED_TLP
    return max(levels, key=lambda lv: TLP_RANK[lv])


def object_tlp_rank(obj: dict[str, Any]) -> int:
    return TLP_RANK[object_tlp(obj)]


def served_tlp_rank(obj: dict[str, Any]) -> int:
    """The rank an object is served at over TAXII. A TLP marking definition is served at its own
    level: a partner below TLP:RED never receives the TLP:RED definition, which would tell it
    that the collection holds something it cannot see."""
    if is_official_tlp(obj):
        return TLP_RANK[TLP_BY_ID[obj["id"]]]
    return object_tlp_rank(obj)


__all__ = [
    "TLP2_IDS",
    "TLP_BY_ID",
    "TLP_LEVELS",
    "is_official_tlp",
    "object_tlp",
    "object_tlp_rank",
    "served_tlp_rank",
    "tlp_marking_definition",
]
