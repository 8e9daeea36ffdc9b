"""The chain graph's layout at 30 members: by publication time left to right, one row per
language, nobody on top of anybody (the browser test checks the drawn labels)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fimiscope.web.clusters import chart_data


def test_thirty_members_are_laid_out_by_time_and_language_without_overlap() -> None:
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    langs = ["en", "ru", "de"]
    members = [
        {"document_id": f"doc_{i:02d}", "role": "origin" if i == 0 else "copy", "source": f"site{i}.example",
         "language": langs[i % 3], "published_at": (t0 + timedelta(hours=29 - i if i else 0)).isoformat(),
         "title": f"Story {i}", "lag_s": 3600.0 * i, "url": None}
        for i in range(30)
    ]
    edges = [
        {"copier_document_id": f"doc_{i:02d}", "copied_document_id": "doc_00", "method": "near_duplicate",
         "lag_s": 3600.0 * i, "attribution_stripped": True, "attribution": "stripped", "language_change": False,
         "copied_language": "en", "copier_language": langs[i % 3]}
        for i in range(1, 30)
    ]
    data = {"members": members, "edges": edges, "origin_document_id": "doc_00", "origin": members[0]}
    graph = chart_data(data)["graph"]
    nodes = graph["nodes"]
    assert graph["lanes"][0] == "en"  # the origin's language first
    by_time = sorted(members, key=lambda m: m["published_at"])
    x = {n["id"]: n["x"] for n in nodes}
    assert [x[m["document_id"]] for m in by_time] == sorted(x.values())  # left to right by time
    assert len(set(x.values())) == 30 and min(b - a for a, b in zip(sorted(x.values()), sorted(x.values())[1:],
                                                                      strict=False)) >= 140
    row_of = {lang: {n["y"] // 110 for n in nodes if n["language"] == lang} for lang in langs}
    assert all(len(r) == 1 for r in row_of.values()) and len({min(r) for r in row_of.values()}) == 3
    assert all(len(n["label"]) <= 19 for n in nodes)
