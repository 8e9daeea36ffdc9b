"""The narratives detector on a real store (SQLite and PostgreSQL): the demo's planted
narratives and surge are found, ids stay stable across runs, analyst actions keep lineage."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fimiscope import pipeline
from fimiscope.core.model import Affiliation, Document, Source
from fimiscope.demo.scenario import build_scenario
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import narratives as db
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store.tables import documents, signals

STAGES = ["detect.narratives", "detect.narrative_signals"]


def _load_demo(store: Store, scale: float = 0.05):  # type: ignore[no-untyped-def]
    s = build_scenario(seed=7, scale=scale)
    for src in s.sources:
        store.write(source_store.add_source, src, replace=True)
    store.write(document_store.upsert_documents, s.documents)
    store.write(db.define_known, s.truth["narratives"]["known"], origin="demo")
    return s


def _ids_by_key(store: Store) -> dict[str, str]:
    with store.connect() as conn:
        return {k: i for k, i in conn.execute(sa.select(documents.c.key, documents.c.id))}


def _assigned(store: Store) -> dict[str, set[str]]:
    from fimiscope.store.tables_narratives import narrative_assignments as a

    out: dict[str, set[str]] = {}
    with store.connect() as conn:
        for n, d in conn.execute(sa.select(a.c.narrative_id, a.c.document_id)):
            out.setdefault(d, set()).add(n)
    return out


def test_demo_narratives_and_surge_are_found(store: Store) -> None:
    s = _load_demo(store)
    reports = pipeline.run(store, only=STAGES)
    assert reports[0].processed == len(s.documents)
    ids, assigned = _ids_by_key(store), _assigned(store)
    with store.connect() as conn:
        known = {r["name"]: r for r in db.list_narratives(conn, kind="known")}
        sanctions = known["Sanctions hurt Europe more than Russia"]
    planted = s.truth["narratives"]["documents"]
    # the known narrative: every planted document, in all three languages, and little else
    got = {d for d, ns in assigned.items() if sanctions["id"] in ns}
    want = {ids[k] for k in planted["sanctions"]}
    assert len(got & want) / len(want) >= 0.9
    assert len(got - want) <= 0.25 * len(want)
    # the undefined narrative emerges (one candidate per language without a multilingual encoder)
    weapons = Counter(n for k in planted["weapons"] for n in assigned.get(ids[k], ()))
    top = [n for n, c in weapons.most_common(3)]
    assert sum(weapons[n] for n in top) / len(planted["weapons"]) >= 0.8
    with store.connect() as conn:
        rows = {r["id"]: r for r in db.list_narratives(conn, kind="candidate")}
        for n in top:
            assert rows[n]["size"] >= 5 and rows[n]["labels"]
            members = {d for d, ns in assigned.items() if n in ns}
            assert len(members & {ids[k] for k in planted["weapons"]}) / len(members) >= 0.8  # pure
        sigs = conn.execute(sa.select(signals.c.type, signals.c.details)).all()
    surging = {d["narrative_id"] for t, d in sigs if t == "narrative_surge"}
    assert set(top) & surging  # the surge is found on the surging narrative...
    assert sanctions["id"] not in surging  # ...and not on the steady one
    types = Counter(t for t, _ in sigs if t.startswith("narrative_"))
    assert types["narrative_reach"] >= 1  # ministry-press origin reached independent outlets
    assert types["narrative_new_language"] >= 1  # a debunked narrative appears in another language
    # the narrative's own bursts, with the method named, end on the newest day for the surging one
    with store.connect() as conn:
        surge = next(d for t, d in sigs if t == "narrative_surge" and d["narrative_id"] in top)
        shown = db.get(conn, surge["narrative_id"])["bursts"]
        steady = db.get(conn, sanctions["id"])["bursts"]
    assert shown["method"].startswith("Kleinberg") and shown["parameters"]["s"] == 2.0
    assert shown["bursts"][-1]["start"] == surge["burst"]["start"] and shown["bursts"][-1]["documents"] >= 5
    assert shown["bursts"][-1]["share"] > shown["bursts"][-1]["baseline"]
    assert steady["method"] == shown["method"]
    # the list puts this week's surges first (after narratives that are new this week)
    with store.connect() as conn:
        head = db.list_narratives(conn, limit=8)
    ranked = [r for r in head if not r["new_this_week"]]
    assert ranked[0]["id"] in top and ranked[0]["recent"] >= 5 and ranked[0]["surge"] > 5


def test_rerun_adds_nothing_and_ids_stay(store: Store) -> None:
    _load_demo(store)
    pipeline.run(store, only=STAGES)
    before = _assigned(store)
    with store.connect() as conn:
        n_sig = conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one()
    pipeline.run(store, only=STAGES)
    assert _assigned(store) == before
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one() == n_sig


def _stream_docs(n_days: int = 10) -> list[Document]:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    topics = {
        "en": ["Sanctions ruin European families and gas bills soar while Russia grows",
               "Ballots were printed twice and the election was rigged by foreign advisers",
               "Donated rifles are resold by smugglers on the black market"],
    }
    out = []
    for day in range(n_days):
        for j, t in enumerate(topics["en"]):
            for k in range(3):
                out.append(Document(text=f"{t}, number {day * 9 + j * 3 + k}.",
                                    url=f"https://s{k}.example/{day}/{j}/{k}", source=f"s{k}.example", language="en",
                                    published_at=start + timedelta(days=day, hours=j * 3 + k)))
    return out


def test_daily_increments_keep_the_narrative_ids_of_one_big_run(store: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    docs = _stream_docs()
    for day in range(10):
        store.write(document_store.upsert_documents, docs[day * 9 : (day + 1) * 9])
        pipeline.run(store, only=["detect.narratives"])
    daily = _assigned(store)
    once = Store.open(data_dir=tmp_path / "once")
    once.write(document_store.upsert_documents, _stream_docs())
    pipeline.run(once, only=["detect.narratives"], batch_size=1000)
    at_once = _assigned(once)
    # compare by document key: the stores gave different ids to the same documents
    key_a, key_b = _ids_by_key(store), _ids_by_key(once)
    inv_a, inv_b = {v: k for k, v in key_a.items()}, {v: k for k, v in key_b.items()}
    founders_a = {n: inv_a["doc_" + n.split("_", 1)[1]] for ns in daily.values() for n in ns}
    founders_b = {n: inv_b["doc_" + n.split("_", 1)[1]] for ns in at_once.values() for n in ns}
    a = {inv_a[d]: {founders_a[n] for n in ns} for d, ns in daily.items()}
    b = {inv_b[d]: {founders_b[n] for n in ns} for d, ns in at_once.items()}
    changed = sum(a.get(k) != b.get(k) for k in set(a) | set(b))
    assert changed / len(docs) < 0.05
    assert len({n for ns in a.values() for n in ns}) == 3
    once.close()


def test_adding_a_known_narrative_reassigns_stored_documents(store: Store) -> None:
    store.write(document_store.upsert_documents, _stream_docs(3))
    pipeline.run(store, only=["detect.narratives"])
    assert not any(m == "known" for m in _methods(store))
    with store.transaction() as conn:
        nid = db.create(conn, name="Aid weapons are resold", description="Donated rifles resold on the black market",
                        keywords=["smugglers", "black market"], examples=["Smugglers resell donated rifles."])
    pipeline.run(store, only=["detect.narratives"])
    with store.connect() as conn:
        row = db.get(conn, nid)
    assert row["size"] == 9
    assert all(d["sentences"] and "rifles" in d["sentences"][0]["text"] for d in row["documents"])


def _methods(store: Store) -> list[str]:
    from fimiscope.store.tables_narratives import narrative_assignments as a

    with store.connect() as conn:
        return [m for (m,) in conn.execute(sa.select(a.c.method))]


def test_promote_merge_dismiss_keep_lineage(store: Store) -> None:
    store.write(document_store.upsert_documents, _stream_docs(4))
    pipeline.run(store, only=["detect.narratives"])
    with store.connect() as conn:
        cands = db.list_narratives(conn, kind="candidate")
    assert len(cands) == 3
    a, b, c = (x["id"] for x in cands)
    with store.transaction() as conn:
        db.promote(conn, a, name="Promoted one")
        moved = db.merge(conn, b, a)
        db.dismiss(conn, c)
    assert moved == 12
    with store.connect() as conn:
        got = db.get(conn, a)
        assert db.resolve(conn, b) == a
        assert [x["kind"] for x in got["lineage"]] == ["promoted", "merged"]
        assert got["kind"] == "known" and got["name"] == "Promoted one" and got["size"] == 24
        assert got["examples"]  # representatives became examples
        assert db.list_narratives(conn, status="dismissed")[0]["id"] == c
    with pytest.raises(Exception, match="already merged"), store.transaction() as conn:
        db.merge(conn, b, c)
    # new documents of the promoted narrative now come through the known path
    fresh = Document(text="Sanctions ruin European families and gas bills soar while Russia grows.",
                     url="https://new.example/1", language="en")
    store.write(document_store.upsert_documents, [fresh])
    pipeline.run(store, only=["detect.narratives"])
    assert "known" in _methods(store)


def test_state_origin_reaching_independents_is_a_signal_with_evidence(store: Store) -> None:
    store.write(source_store.add_source, Source(name="state.example", affiliation=Affiliation.STATE_CONTROLLED))
    store.write(source_store.add_source, Source(name="indie.example", affiliation=Affiliation.INDEPENDENT))
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    text = "Sanctions are ruining European families while the Russian economy keeps growing."
    docs = [Document(text=f"Intro {i}. {text} More {i}.", url=f"https://{src}/{i}", source=src, language="en",
                     published_at=t0 + timedelta(days=i))
            for i, src in enumerate(["state.example", "state.example", "indie.example", "indie.example"])]
    store.write(document_store.upsert_documents, docs)
    with store.transaction() as conn:
        db.create(conn, name="Sanctions hurt Europe", examples=[text], debunked=True)
    pipeline.run(store, only=STAGES)
    with store.connect() as conn:
        sid = conn.execute(sa.select(signals.c.id).where(signals.c.type == "narrative_reach")).scalar_one()
    sig = store.read(signal_store.get_signal, sid)
    roles = Counter(e.role for e in sig.evidence)
    assert roles["origin"] == 1 and roles["independent"] == 2 and roles["carrying_sentence"] >= 3
    spans = [e for e in sig.evidence if e.role == "carrying_sentence"]
    assert all(e.span_start is not None and e.span_end is not None for e in spans)
