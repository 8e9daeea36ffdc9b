from datetime import UTC, datetime

import pytest

from fimiscope.core.clock import parse_time
from fimiscope.core.errors import InvalidInput
from fimiscope.core.ids import id_time_ms, new_id
from fimiscope.core.model import Affiliation, Document, Reliability, content_hash


def test_ids_sort_by_time_and_carry_prefix() -> None:
    a = new_id("doc_", at_ms=1_700_000_000_000)
    b = new_id("doc_", at_ms=1_700_000_000_001)
    assert a.startswith("doc_") and len(a) == 30
    assert a < b
    assert id_time_ms(a) == 1_700_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00Z", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01T12:00:00+02:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("Fri, 01 Mar 2024 10:00:00 GMT", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("01.03.2024", datetime(2024, 3, 1, tzinfo=UTC)),
        ("1709287200", datetime(2024, 3, 1, 10, tzinfo=UTC)),
        (1709287200000, datetime(2024, 3, 1, 10, tzinfo=UTC)),
        ("2024-03-01 10:00", datetime(2024, 3, 1, 10, tzinfo=UTC)),
    ],
)
def test_parse_time_formats_found_in_the_wild(text: object, expected: datetime) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("bad", ["yesterday-ish", "", "32.13.2024", None, True])
def test_parse_time_rejects_with_the_value(bad: object) -> None:
    with pytest.raises(InvalidInput):
        parse_time(bad)


def test_affiliation_and_reliability_parse() -> None:
    assert Affiliation.parse("State-controlled") is Affiliation.STATE_CONTROLLED
    assert Affiliation.parse(None) is Affiliation.UNKNOWN
    assert Affiliation.STATE_ALIGNED.flagged and not Affiliation.INDEPENDENT.flagged
    with pytest.raises(InvalidInput, match="use one of"):
        Affiliation.parse("friendly")
    assert Reliability.parse("b") is Reliability.B
    with pytest.raises(InvalidInput):
        Reliability.parse("Z")


def test_content_hash_ignores_whitespace_but_not_words() -> None:
    assert content_hash("T", "a  b\n c") == content_hash("T", "a b c")
    assert content_hash("T", "a b c") != content_hash("T", "a b d")
    doc = Document(text="x", url="https://a.example/1")
    assert doc.key == "https://a.example/1"
    assert Document(text="x", external_id="9", source="telegram:chan").key == "telegram:chan#9"
