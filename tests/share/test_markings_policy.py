"""The TLP model and the marking rules, case by case (the same cases the partner world serves).

These run in milliseconds, so mutation testing of ``cases/tlp.py`` and ``share/markings.py``
can afford them on every mutant (docs/evaluation.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.share.partner_world import STATEMENT, TLP1, make_object, policy_objects

from fimiscope.cases import tlp as tlp_model
from fimiscope.cases.tlp import TLP_LEVELS, TLP_RANK, parse_tlp, tlp_rank
from fimiscope.core.errors import InvalidInput
from fimiscope.share import markings
from fimiscope.share.markings import (
    TLP2_IDS,
    TLP_BY_ID,
    is_official_tlp,
    object_tlp,
    object_tlp_rank,
    served_tlp_rank,
    tlp_marking_definition,
)

CASES = policy_objects()


def test_the_five_labels_in_order() -> None:
    assert TLP_LEVELS == ("clear", "green", "amber", "amber+strict", "red")
    assert [TLP_RANK[lv] for lv in TLP_LEVELS] == [0, 1, 2, 3, 4]
    assert markings.UNMARKED_TLP == "green"  # never CLEAR for what nobody labelled


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("clear", "clear"),
        ("TLP:CLEAR", "clear"),
        ("white", "clear"),
        ("TLP:WHITE", "clear"),
        ("green", "green"),
        (" Tlp:Green ", "green"),
        ("amber", "amber"),
        ("AMBER+STRICT", "amber+strict"),
        ("tlp:amber+strict", "amber+strict"),
        ("amber-strict", "amber+strict"),
        ("amber_strict", "amber+strict"),
        ("red", "red"),
        ("TLP:RED", "red"),
    ],
)
def test_parse_tlp_reads_what_people_type(typed: str, label: str) -> None:
    assert parse_tlp(typed) == label
    assert tlp_rank(typed) == TLP_RANK[label]


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_no_tlp_is_amber_unless_told(empty: str | None) -> None:
    assert parse_tlp(empty) == "amber"
    assert parse_tlp(empty, default="red") == "red"
    assert parse_tlp(empty, "green") == "green"


@pytest.mark.parametrize("bad", ["purple", "tlp:", "amber strict", "amber+", "TLP:AMBER+STRICTER", "tlp:tlp:red", "0"])
def test_unknown_labels_are_refused_naming_the_choices(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_tlp(bad)
    assert repr(bad) in str(err.value)
    assert "clear, green, amber, amber+strict, red" in str(err.value)
    with pytest.raises(InvalidInput):
        tlp_rank(bad)


def test_aliases_are_only_the_documented_ones() -> None:
    assert tlp_model._ALIASES == {"white": "clear", "amber-strict": "amber+strict", "amber_strict": "amber+strict"}


def test_official_marking_ids() -> None:
    assert TLP2_IDS == {
        "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
    assert TLP1 == {  # STIX 2.1 section 7.2.1.4
        "clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    }
    assert len(TLP_BY_ID) == 9 and set(TLP_BY_ID.values()) == set(TLP_LEVELS)


@pytest.mark.parametrize(("label", "obj", "level"), CASES, ids=[c[0] for c in CASES])
def test_object_tlp_follows_the_policy(label: str, obj: dict[str, Any], level: str) -> None:
    assert served_tlp_rank(obj) == TLP_RANK[level], label
    if is_official_tlp(obj):  # public knowledge as a marking, served at its own level
        assert object_tlp(obj) == "clear" and object_tlp_rank(obj) == 0
    else:
        assert object_tlp(obj) == level, label
        assert object_tlp_rank(obj) == TLP_RANK[level]


def test_granular_markings_that_are_not_objects_are_ignored() -> None:
    obj = make_object("odd granular", [TLP2_IDS["green"]])
    obj["granular_markings"] = ["not a dict", {"selectors": ["name"]}, {"marking_ref": TLP2_IDS["amber"]}]
    assert object_tlp(obj) == "amber"
    obj["granular_markings"] = None
    obj["object_marking_refs"] = None
    assert object_tlp(obj) == "green"


@pytest.mark.parametrize("level", TLP_LEVELS)
def test_the_official_definitions(level: str) -> None:
    d = tlp_marking_definition(level)
    assert d == {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": level,
            }
        },
    }
    assert is_official_tlp(d) and object_tlp(d) == "clear" and served_tlp_rank(d) == TLP_RANK[level]


def test_only_official_tlp_definitions_are_official() -> None:
    assert is_official_tlp({"type": "marking-definition", "id": TLP1["red"]})
    assert not is_official_tlp(STATEMENT)
    # an object of another type that borrows a TLP id is not a definition (and not public)
    borrowed = {"type": "threat-actor", "id": TLP2_IDS["red"], "object_marking_refs": [TLP2_IDS["red"]]}
    assert not is_official_tlp(borrowed) and object_tlp(borrowed) == "red"
    assert not is_official_tlp({"id": TLP2_IDS["red"]})
    assert not is_official_tlp({"type": "marking-definition"})
