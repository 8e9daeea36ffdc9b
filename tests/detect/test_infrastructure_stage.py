"""The infrastructure stages end to end on a real store (SQLite and PostgreSQL): fingerprints
from archived pages, links, stable site groups, signals with where/when evidence."""

from __future__ import annotations

from tests.detect import infra_support as web

from fimiscope import pipeline
from fimiscope.core.model import Document, Source
from fimiscope.store import documents as document_store
from fimiscope.store import infrastructure as infra_db
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store

STAGES = ["extract.fingerprints", "detect.infrastructure"]


def test_network_is_grouped_and_tied_to_the_state_outlet(store):
    web.load(store)
    reports = {r.stage: r for r in pipeline.run(store, only=STAGES)}
    assert reports["extract.fingerprints"].processed == 10
    groups = store.read(infra_db.list_groups)
    assert len(groups) == 1
    group = groups[0]
    assert group["sites"] == sorted([*web.NETWORK, web.STATE]) and group["tier"] == "conclusive"
    assert group["names"] == ["DIMA: fictional-op (1 of 4 sites)"]
    detail = store.read(infra_db.get_group, group["id"])
    kinds = {(i["kind"], i["value"]) for i in detail["indicators"]}
    assert ("ga", "UA-7654321") in kinds and ("theme", "wordpress:truthmag-pro") in kinds
    cdn = next(i for i in detail["indicators"] if i["value"] == "cdn.jsdelivr.net")
    assert cdn["tier"] == "tertiary" and cdn["weight"] < 0.1  # on every site: weighs little
    assert {m["site"]: m["flagged"] for m in detail["members"]}[web.STATE] is True

    sigs = store.read(signal_store.list_signals, type="infrastructure")
    assert {s.details["site"] for s in sigs} == set(web.NETWORK)  # the state outlet itself raises none
    sig = store.read(signal_store.get_signal, next(s.id for s in sigs if s.details["site"] == "daily-truth.example"))
    assert "state-tv.example (state-controlled)" in sig.title
    ga = next(e for e in sig.evidence if e.details["kind"] == "ga")
    assert ga.details["tier"] == "conclusive" and "Analytics account" in ga.details["reason"]
    assert ga.document_id  # where it was seen: a stored page
    here = ga.details["seen_here"][0]
    assert here["where"] == "inline script" and here["url"].startswith("https://daily-truth.example/news/")
    assert here["first_seen"].startswith("2026-05-01")
    assert ga.details["seen_there"][0]["url"].startswith("https://state-tv.example/")


def test_rerun_adds_nothing_and_a_new_site_joins_the_known_group(store):
    web.load(store)
    pipeline.run(store, only=STAGES)
    first = store.read(infra_db.list_groups)[0]
    before = len(store.read(signal_store.list_signals, limit=500))
    again = {r.stage: r for r in pipeline.run(store, only=STAGES)}
    assert again["detect.infrastructure"].processed == 0  # nothing changed: skipped
    assert len(store.read(signal_store.list_signals, limit=500)) == before
    newcomer = "truth-mirror.example"
    store.write(source_store.merge_sources, [Source(name=newcomer, domain=newcomer)])
    page = web.page(newcomer, 9, web.NETWORK_EXTRA, ga="UA-7654321-9")
    store.write(document_store.upsert_documents,
                [Document(text="x", url=f"https://{newcomer}/a", source=newcomer, raw=page, collected_at=web.T0)])
    pipeline.run(store, only=STAGES)
    groups = store.read(infra_db.list_groups)
    assert len(groups) == 1 and groups[0]["id"] == first["id"] and newcomer in groups[0]["sites"]
    joins = store.read(signal_store.list_signals, type="infrastructure_join")
    assert [s.details["site"] for s in joins] == [newcomer]
    assert first["id"] in joins[0].title


def test_site_profile_shows_fingerprints_sharers_and_where(store):
    web.load(store)
    pipeline.run(store, only=STAGES)
    prof = store.read(infra_db.site_profile, "www.daily-truth.example")
    fps = {(f["kind"], f["value"]): f for f in prof["fingerprints"]}
    assert fps[("ga", "UA-7654321")]["sites"] == 4 and fps[("ga", "UA-7654321")]["times"] == 2
    assert fps[("email", "info@daily-truth.example")]["where"] == "a[href=mailto:]"
    sharers = {s["site"]: s for s in prof["shared_with"]}
    assert set(sharers) == {"free-voice.example", "real-news-now.example", web.STATE, web.INDEPENDENT}
    assert sharers[web.INDEPENDENT]["tier"] == "tertiary"  # only the common CDNs: shown, tiered, weak
    assert sharers[web.STATE]["affiliation"] == "state_controlled" and sharers[web.STATE]["tier"] == "conclusive"
    assert prof["groups"][0]["size"] == 4


def test_pages_without_html_are_skipped(store):
    store.write(document_store.upsert_documents,
                [Document(text="a post", url="https://social.example/p/1", raw=b'{"id": 1}'),
                 Document(text="imported", url="https://imported.example/a")])
    reports = {r.stage: r for r in pipeline.run(store, only=STAGES)}
    assert reports["extract.fingerprints"].processed == 2
    assert store.read(infra_db.list_groups) == []
