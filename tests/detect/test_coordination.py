"""The coordination stage end to end on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.detect.coordination_story import BOTS, LATE_BOT, bursts, organic, sources

from fimiscope import pipeline
from fimiscope.detect.coordination import CoordinationStage, Params
from fimiscope.store import Store
from fimiscope.store import coordination as db
from fimiscope.store import documents as document_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store


def _run(store: Store) -> pipeline.StageReport:
    return pipeline.run(store, only=["detect.coordination"])[0]


def _groups(store: Store) -> list[dict]:
    with store.connect() as c:
        return [db.get_group(c, g["id"]) for g in db.list_groups(c)]


def test_the_planted_group_is_found_with_its_proof_and_nothing_else(store: Store) -> None:
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, [*bursts(BOTS, range(6)), *organic()])
    report = _run(store)
    assert report.signals == 1 and report.details["windows"]["link"]["seconds"] > 0
    (g,) = _groups(store)
    assert g["accounts"] == sorted(BOTS)
    assert g["size"] == 5 and g["status"] == "active" and g["platforms"] == ["telegram"]
    assert {"link", "share", "post"} <= {k for k, v in g["kinds"].items() if v}
    assert g["affiliations"] == {"state_aligned": 5}
    assert 0 < g["fastest_s"] <= g["median_s"] <= 120
    # every shared item lists each member's action, the first at delay 0
    links = [i for i in g["items"] if i["kind"] == "link"]
    assert len(links) == 6 and all(i["item"].startswith("truth-now.example/story-") for i in links)
    for item in links:
        assert item["actions"][0]["delay_s"] == 0 and len(item["actions"]) == 5
        assert all(a["document_id"] for a in item["actions"])
    assert all(e["episodes"] >= 2 and e["p_value"] < 0.01 for e in g["edges"])

    (sig,) = store.read(signal_store.list_signals, type="coordination")
    full = store.read(signal_store.get_signal, sig.id or "")
    assert full.details["group_id"] == g["id"] and full.details["accounts"] == sorted(BOTS)
    assert full.evidence and all(e.role == "co_action" and e.document_id for e in full.evidence)
    assert {e.details["kind"] for e in full.evidence} >= {"link", "share", "post"}
    assert all("delay_s" in e.details and e.details["account"] in BOTS for e in full.evidence)
    assert g["signal_id"] == sig.id


def test_a_rerun_adds_nothing_and_a_group_that_grows_keeps_its_id(store: Store) -> None:
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, [*bursts(BOTS, range(6)), *organic()])
    _run(store)
    (before,) = _groups(store)
    again = _run(store)
    assert again.details == {"skipped": "no new documents since the last run"}
    assert len(store.read(signal_store.list_signals, type="coordination")) == 1

    # a sixth account joins the next pushes
    store.write(document_store.upsert_documents, bursts([*BOTS, LATE_BOT], range(6, 10), seed=5))
    _run(store)
    (after,) = _groups(store)
    assert after["id"] == before["id"] and after["size"] == 6 and LATE_BOT in after["accounts"]
    joined = {m["account"]: m["joined_at"] for m in after["members"]}
    assert all(joined[b] == m["joined_at"] for m in before["members"] for b in [m["account"]])
    assert joined[LATE_BOT] > max(m["joined_at"] for m in before["members"])
    signals = store.read(signal_store.list_signals, type="coordination")
    assert len(signals) == 1 and signals[0].details["accounts"] == sorted([*BOTS, LATE_BOT])


def test_a_fixed_window_and_min_repeat_are_respected(store: Store) -> None:
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, [*bursts(BOTS, range(3)), *organic()])
    stage = CoordinationStage(Params(window=1.0), force=True)
    report = stage.run(store, batch_size=100, progress=lambda *_: None)
    assert report.details["windows"]["link"] == {"seconds": 1.0, "items": 0, "quickest": 0, "method": "given"}
    assert report.signals == 0  # members act 4-25 s apart: nothing co-acts within one second
    stage = CoordinationStage(Params(window=120.0, min_repeat=4), force=True)
    assert stage.run(store, batch_size=100, progress=lambda *_: None).signals == 0  # three pushes < 4
    stage = CoordinationStage(Params(window=120.0, min_repeat=2), force=True)
    assert stage.run(store, batch_size=100, progress=lambda *_: None).signals == 1


def test_an_old_account_that_joins_late_looks_taken_over(store: Store) -> None:
    from datetime import timedelta

    from tests.detect.coordination_story import T0

    from fimiscope.core.model import Document

    store.write(source_store.merge_sources, sources())
    old_post = Document(
        text="Hello, this is my cooking blog",
        external_id="old-1",
        source=LATE_BOT,
        platform="telegram",
        published_at=T0 - timedelta(days=90),
    )
    store.write(
        document_store.upsert_documents,
        [old_post, *bursts(BOTS, range(6)), *bursts([*BOTS, LATE_BOT], range(6, 10), seed=5), *organic()],
    )
    _run(store)
    (g,) = _groups(store)
    assert LATE_BOT in g["accounts"]
    flags = {m["account"]: m["hijacked"] for m in g["members"]}
    assert flags[LATE_BOT] and not any(flags[b] for b in BOTS)
    assert g["details"]["hijacked"] == [LATE_BOT]
    (sig,) = store.read(signal_store.list_signals, type="coordination")
    assert store.read(signal_store.get_signal, sig.id or "").details["hijacked"] == [LATE_BOT]


def test_shortened_links_count_as_their_expansion_when_a_collector_recorded_it(store: Store) -> None:
    store.write(source_store.merge_sources, sources())
    docs = bursts(BOTS, range(6))
    for d in docs:
        d.shared_from = None  # links only
        d.text = f"link {d.external_id}"
        if d.source in BOTS[:2]:  # two members post the shortened link, with its expansion recorded
            short = f"https://bit.ly/{d.external_id}"
            d.metadata = {"resolved_links": {short: d.links[0]}}
            d.links = [short]
    store.write(document_store.upsert_documents, [*docs, *organic()])
    _run(store)
    (g,) = _groups(store)
    assert g["accounts"] == sorted(BOTS) and set(g["kinds"]) == {"link"} | ({"post"} & set(g["kinds"]))
    assert all(i["item"].startswith("truth-now.example/story-") for i in g["items"] if i["kind"] == "link")


def test_the_stage_takes_its_window_and_repeats_from_the_settings() -> None:
    from fimiscope.config import Settings

    estimated = CoordinationStage.from_settings(Settings(coordination_window_s=0.0)).params
    assert estimated.window is None and estimated.min_repeat == 2
    fixed = CoordinationStage.from_settings(Settings(coordination_window_s=30.0, coordination_min_repeat=3)).params
    assert fixed.window == 30.0 and fixed.min_repeat == 3


def test_the_same_hashtag_sequence_posted_in_bursts_is_a_co_hashtag_group(store: Store) -> None:
    docs = bursts(BOTS, range(6))
    for i, d in enumerate(docs):  # own words and no link or reshare: only the hashtags tie them
        d.text = f"note {i} #StopTheLies #Truth{int(d.external_id[1])} #ShareNow"
        d.links, d.shared_from = [], None
    # readers tag their posts too (chance needs a background to be measured against)
    background = organic()
    tags = ["#news", "#politics", "#today", "#europe", "#breaking", "#economy"]
    for j, d in enumerate(background):
        d.text += f" {tags[j % 6]} {tags[(j // 6) % 6]}"
    store.write(source_store.merge_sources, sources())
    store.write(document_store.upsert_documents, [*docs, *background])
    _run(store)
    (g,) = _groups(store)
    assert g["accounts"] == sorted(BOTS) and g["kinds"]["hashtag"] > 0
    assert {i["item"] for i in g["items"]} == {f"#stopthelies #truth{p} #sharenow" for p in range(6)}
