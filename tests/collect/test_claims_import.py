"""Claim importers on small files written by the tests: mapping, bad rows, ClaimReview, dedup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fimiscope.collect.claims_import import ImportedClaim, read_claims
from fimiscope.core.errors import InvalidInput
from fimiscope.store import Store
from fimiscope.store.claims import count_claims, get_claim, upsert_claims

EUVS_HEADER = (
    '"issue","date","outlet","language","origin","reported by","keywords","source","title","summary","disproof"\n'
)
EUVS_ROWS = (
    '82,10/03/17,"TV Zvezda","Russian","Ukraine","X","TV Zvezda, Military","https://tvzvezda.ru/a",'
    '"Explosions in Vinnitsa were organized by Ukrainian soldiers","The explosions in the munitions depot in '
    'Vinnitsa were organized by the Ukrainian soldiers themselves.","No evidence supports this."\n'
    '81,09/29/17,"Sputnik CZ","Czech","Czech Republic","Y","NATO","https://sputnik.cz/b",'
    '"NATO occupies the Czech Republic","NATO troops occupy the Czech Republic.","Allied troops are there by '
    'invitation."\n'
    '80,09/28/17,"Outlet","English","","Z","","",'
    '"No summary here","",""\n'
    '79,not-a-date,"Outlet","English","","Z","","","Bad date","The sky is green.",""\n'
    # The same case reported for a second outlet: one claim, two outlets.
    '82,10/03/17,"Rossiya 1","Russian","Ukraine","X","Military","https://russia.tv/c",'
    '"Explosions in Vinnitsa were organized by Ukrainian soldiers","The explosions in the munitions depot in '
    'Vinnitsa were organized by the Ukrainian soldiers themselves.","No evidence supports this."\n'
)


def _split(items: list[ImportedClaim | object]) -> tuple[list[ImportedClaim], list[object]]:
    good = [i for i in items if isinstance(i, ImportedClaim)]
    return good, [i for i in items if not isinstance(i, ImportedClaim)]


def test_euvsdisinfo_rows_bad_rows_and_dedup(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_text(EUVS_HEADER + EUVS_ROWS, encoding="utf-8")
    good, bad = _split(list(read_claims("euvsdisinfo", path)))
    assert len(good) == 3
    reasons = sorted(str(b) for b in bad)
    assert reasons == [
        "line 4, field 'text': missing (column 'summary' is empty)",
        "line 5, field 'published_at': unrecognised date 'not-a-date'",
    ]
    first = good[0]
    assert first.claim.title == "Explosions in Vinnitsa were organized by Ukrainian soldiers"
    assert first.claim.language == "ru"
    assert first.claim.published_at is not None and first.claim.published_at.isoformat().startswith("2017-10-03")
    assert first.claim.keywords == ["TV Zvezda", "Military"]
    assert first.claim.debunk == "No evidence supports this."

    res = upsert_claims(store, [(g.claim, g.extras()) for g in good])
    assert (res.new, res.updated, res.unchanged) == (2, 1, 0)
    rec = get_claim(store, res.ids[0])
    assert [o["name"] for o in rec.outlets] == ["TV Zvezda", "Rossiya 1"]
    assert rec.links == ["https://tvzvezda.ru/a", "https://russia.tv/c"]
    assert rec.claim.keywords == ["TV Zvezda", "Military"]
    assert rec.provenance[0]["by"] == "EUvsDisinfo"

    again, _ = _split(list(read_claims("euvsdisinfo", path)))
    res2 = upsert_claims(store, [(g.claim, g.extras()) for g in again])
    assert (res2.new, res2.updated, res2.unchanged) == (0, 0, 3)
    assert count_claims(store) == 2


def test_csv_mapping_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("claim,rating,link\nThe vaccine alters DNA,false,https://factcheck.example/dna\n,false,\n")
    good, bad = _split(list(read_claims("csv", path, ["text=claim", "verdict=rating", "debunk_url=link"])))
    assert [g.claim.text for g in good] == ["The vaccine alters DNA"]
    assert good[0].claim.verdict == "false"
    assert good[0].claim.debunk_url == "https://factcheck.example/dna"
    assert [str(b) for b in bad] == ["line 3, field 'text': missing (column 'claim' is empty)"]
    with pytest.raises(InvalidInput, match="no column 'text'"):
        list(read_claims("csv", path))
    with pytest.raises(InvalidInput, match="FIELD=COLUMN"):
        list(read_claims("csv", path, ["nonsense=claim"]))


def test_json_lines_with_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(
        '{"text": "Bill Gates wants to chip everyone", "language": "en", "debunk_url": "https://x.example/1"}\n'
        "{broken\n"
        '["not", "an", "object"]\n'
        '{"text": "Another claim", "debunk_url": "ftp://nope"}\n'
    )
    good, bad = _split(list(read_claims("json", path)))
    assert [g.claim.text for g in good] == ["Bill Gates wants to chip everyone"]
    assert good[0].claim.language == "en"
    reasons = [str(b) for b in bad]
    assert reasons[0].startswith("line 2: not valid JSON")
    assert reasons[1] == "line 3: expected a JSON object, got list"
    assert reasons[2].startswith("line 4, field 'debunk_url': not an http(s) URL")


REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factcheck.example/biolabs",
    "claimReviewed": "The US runs secret biolabs in Ukraine to make bioweapons",
    "datePublished": "2022-03-10",
    "inLanguage": "en",
    "author": {"@type": "Organization", "name": "Example Checks"},
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "alternateName": "False"},
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Organization", "name": "RT"},
        "appearance": [{"@type": "CreativeWork", "url": "https://rt.example/biolabs"}],
    },
}


def test_claimreview_in_html_page(store: Store, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>x</title>"
        '<script type="application/ld+json">' + json.dumps({"@graph": [{"@type": "WebPage"}, REVIEW]}) + "</script>"
        '<script type="application/ld+json">{not json</script>'
        "</head><body>...</body></html>"
    )
    good, bad = _split(list(read_claims("claimreview", page)))
    assert len(good) == 1 and len(bad) == 1
    assert "JSON-LD block 2 is not valid JSON" in str(bad[0])
    c = good[0]
    assert c.claim.verdict == "False"
    assert c.claim.debunk_url == "https://factcheck.example/biolabs"
    assert c.claim.language == "en"
    assert c.links == ["https://rt.example/biolabs"]
    assert c.outlets == [{"name": "RT"}]
    assert c.provenance[0]["by"] == "Example Checks"
    res = upsert_claims(store, [(g.claim, g.extras()) for g in good])
    assert res.new == 1


def test_claimreview_datafeed(tmp_path: Path) -> None:
    second = {**REVIEW, "claimReviewed": "Second claim", "url": "https://factcheck.example/2"}
    missing = {**REVIEW, "claimReviewed": ""}
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [REVIEW]},
            {"@type": "DataFeedItem", "item": second},
            {"@type": "DataFeedItem", "item": [missing]},
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed))
    good, bad = _split(list(read_claims("claimreview", path)))
    assert [g.claim.text for g in good] == [REVIEW["claimReviewed"], "Second claim"]
    assert [str(b) for b in bad] == ["line 3, field 'claimReviewed': missing (the claim a ClaimReview reviews)"]


def test_cli_import_add_list_show_search(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cases.csv"
    path.write_text(EUVS_HEADER + EUVS_ROWS, encoding="utf-8")
    out = json.loads(cli("claims", "import", "euvsdisinfo", str(path), "--format", "json").stdout)
    assert (out["new"], out["updated"], out["rejected"]) == (2, 1, 2)
    out = json.loads(cli("claims", "import", "euvsdisinfo", str(path), "--format", "json").stdout)
    assert (out["new"], out["updated"], out["unchanged"]) == (0, 0, 3)
    added = json.loads(
        cli(
            "claims",
            "add",
            "Chemtrails poison the population",
            "--verdict",
            "false",
            "--language",
            "en",
            "--debunk-url",
            "https://x.example/chem",
            "--format",
            "json",
        ).stdout
    )
    assert added["verdict"] == "false" and added["provenance"][0]["by"] == "analyst"
    listed = json.loads(cli("claims", "list", "--format", "json").stdout)
    assert len(listed) == 3
    shown = json.loads(cli("claims", "show", added["id"], "--format", "json").stdout)
    assert shown["debunk_url"] == "https://x.example/chem"
    hits = json.loads(cli("claims", "search", "NATO soldiers occupy Czechia", "--format", "json").stdout)
    assert hits[0]["text"] == "NATO troops occupy the Czech Republic."
    bad = cli("claims", "import", "nope", str(path), ok=False)
    assert bad.exit_code == 2 and "unknown claim format" in bad.stderr
    missing = cli("claims", "show", "clm_nope", ok=False)
    assert missing.exit_code == 3


def test_json_array_with_mapping_and_unknown_language(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            [
                {
                    "claim": "Sanctions hurt only Europe",
                    "lang": "Bulgaria",
                    "tags": "sanctions, EU",
                    "when": "2017-05-01",
                },
                {"claim": "Ukraine is run by Nazis", "lang": "Russian, English"},
            ]
        )
    )
    good, bad = _split(
        list(read_claims("json", path, ["text=claim", "language=lang", "keywords=tags", "published_at=when"]))
    )
    assert bad == []
    first, second = good
    assert first.claim.language is None and first.provenance[0]["languages"] == ["Bulgaria"]
    assert first.claim.keywords == ["sanctions", "EU"]
    assert first.claim.published_at is not None and first.claim.published_at.year == 2017
    assert second.claim.language == "ru" and second.provenance[0]["languages"] == ["Russian", "English"]
