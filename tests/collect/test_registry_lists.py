"""Readers of published domain lists (Information Laundromat CSV, DIMA JavaScript data files)."""

from __future__ import annotations

from pathlib import Path

from fimiscope.collect.registry import read_registry
from fimiscope.core.model import Affiliation

SITES = """Threat Actor,Domain,Name,Source
,https://ria.ru,,EuVsDisinfo
,https://ria.ru,,Wikidata All News
,https://www.pravda-fr.com/,,Viginum (Portal Kombat)
,https:/www.example-mirror.com/russia,,RT Mirror/Repost
,https://zeit.de,,Wikidata All News
,http://N,,EuVsDisinfo
"""

INDICATORS = """indicator_type,indicator_content,domain_name
ga_id,UA-12345,pravda-fr.com
ip,10.0.0.1,
"""

DIMA = r"""// DIMA - Base de données de l'opération Test
// Source: Rapport VIGINUM
/* commentaire avec { accolades } et "guillemets" */
const testDomains = [
  {
    domain: "fake-bild.example", // commentaire
    matchType: "exact",
    reason: "Clone de \"Bild\", {usurpation}",
    source: "Qurium",
    reportUrl: "https://example.org/report",
    identifiedDate: "2022-07-12",
    tags: ["Doppelganger", 'Russie'],
  },
  { domain: 'second.example', matchType: 'exact', source: "VIGINUM" },
  { domain: "topnews", matchType: "contains", source: "VIGINUM" },
  { domain: "m.youtube.com", matchType: "contains", source: "GMF" },
  { domain: "news-pravda.com", matchType: "contains", source: "VIGINUM" },
];
console.log(`chargée: ${testDomains.length}`);
function getStats() { return { total: testDomains.length }; }
"""


def test_laundromat_lists_map_to_tiers_with_provenance(tmp_path: Path) -> None:
    path = tmp_path / "laundromat-sites_of_concern.csv"
    path.write_text(SITES, encoding="utf-8")
    (tmp_path / "laundromat-indicators.csv").write_text(INDICATORS, encoding="utf-8")
    items, rejections = read_registry(path)
    by = {s.name: s for s in items}
    assert set(by) == {"ria.ru", "pravda-fr.com", "example-mirror.com", "zeit.de"}
    assert [r.row for r in rejections] == [7]
    assert by["ria.ru"].affiliation == Affiliation.STATE_CONTROLLED
    assert by["ria.ru"].lists == ["laundromat:euvsdisinfo", "laundromat:wikidata-all-news"]
    assert len(by["ria.ru"].provenance) == 2
    assert by["pravda-fr.com"].affiliation == Affiliation.STATE_LINKED
    assert "Portal Kombat" in by["pravda-fr.com"].provenance[0].by
    assert by["pravda-fr.com"].metadata["indicators"] == [
        {"type": "ga_id", "value": "UA-12345", "from": "laundromat-indicators.csv"}
    ]
    assert by["example-mirror.com"].affiliation == Affiliation.STATE_ALIGNED
    assert by["zeit.de"].affiliation == Affiliation.UNKNOWN


def test_dima_files_are_parsed_without_running_them(tmp_path: Path) -> None:
    folder = tmp_path / "ops"
    folder.mkdir()
    (folder / "Doppelganger.js").write_text(DIMA, encoding="utf-8")
    items, rejections = read_registry(folder)
    by = {s.name: s for s in items}
    assert set(by) == {"fake-bild.example", "second.example", "news-pravda.com"}
    assert len(rejections) == 2
    assert "pattern" in rejections[0].reason and "platform" in rejections[1].reason
    assert by["news-pravda.com"].metadata["dima"][0]["matchType"] == "contains"
    src = by["fake-bild.example"]
    assert src.affiliation == Affiliation.STATE_LINKED
    assert src.lists == ["dima:doppelganger"]
    prov = src.provenance[0]
    assert prov.where == "https://example.org/report" and prov.when == "2022-07-12"
    assert "Qurium" in prov.by and "Doppelganger" in prov.by
    (op,) = src.metadata["dima"]
    assert op["reason"] == 'Clone de "Bild", {usurpation}'
    assert op["tags"] == ["Doppelganger", "Russie"]
    # a single file works too
    single, _ = read_registry(folder / "Doppelganger.js")
    assert {s.name for s in single} == set(by)


def test_sources_import_loads_lists_idempotently(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "laundromat-sites_of_concern.csv"
    path.write_text(SITES, encoding="utf-8")
    first = cli("sources", "import", str(path), "--format", "json")
    assert '"created": 4' in first.stdout
    again = cli("sources", "import", str(path), "--format", "json")
    assert '"created": 0' in again.stdout and '"updated": 0' in again.stdout
    shown = cli("sources", "show", "pravda-fr.com", "--format", "json")
    assert "state_linked" in shown.stdout
