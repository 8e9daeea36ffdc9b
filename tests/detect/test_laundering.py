"""The laundering detector end to end on a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fimiscope import pipeline
from fimiscope.core.model import Affiliation, Document, Provenance, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import laundering as db
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import watermarks as watermark_store
from fimiscope.store.tables_laundering import laundering_edges

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)

STORY = [
    "The ministry of defence announced on Tuesday that 4,500 troops would take part in the exercise near "
    "the northern border, which is scheduled to last until the end of the month according to officials.",
    "Colonel Ivan Petrov told reporters in Rostov that the manoeuvres were purely defensive and had been "
    "planned for more than a year, dismissing what he called hysteria in Western capitals about them.",
    "According to the statement, 120 armoured vehicles and 36 aircraft will be deployed, and observers from "
    "several neighbouring countries have been invited to watch the final stage of the drills in person.",
    "Analysts in Warsaw and Vilnius said the timing, just weeks before the elections, was not a coincidence "
    "and warned that the exercise could be used to put pressure on the governments of the Baltic states.",
]

UNRELATED = [
    "A new bakery opened in the old town on Saturday, drawing long queues of customers who waited patiently "
    "for sourdough bread and cinnamon rolls made according to a recipe handed down for three generations.",
    "The owner said she had saved for years to rent the small shop, and that she hoped to hire two more "
    "bakers before the summer if the number of visitors keeps growing as quickly as it did this weekend.",
]

OTHER_ARTICLE = [
    "Farmers in the south of the country are worried about the drought that has lasted for almost three "
    "months, and many of them say the harvest of wheat and barley will be the worst in a decade this year.",
    "The regional government promised compensation, but farmers' unions said the money was too little and "
    "would arrive too late to save smaller family farms from bankruptcy before the start of the winter.",
]

# A hand-written Russian rendering of STORY (translation, not a copy).
STORY_RU = [
    "Министерство обороны объявило во вторник, что 4500 военнослужащих примут участие в учениях у "
    "северной границы, которые, по словам официальных лиц, продлятся до конца месяца.",
    "Полковник Иван Петров заявил журналистам в Ростове, что манёвры носят исключительно оборонительный "
    "характер и планировались более года, назвав истерикой реакцию западных столиц.",
    "Согласно заявлению, будут задействованы 120 единиц бронетехники и 36 самолётов, а наблюдатели из "
    "нескольких соседних стран приглашены на заключительный этап учений.",
    "Аналитики в Варшаве и Вильнюсе заявили, что выбор времени, всего за несколько недель до выборов, "
    "не случаен, и предупредили о давлении на правительства стран Балтии.",
]


def _doc(
    source: str,
    ext: str,
    paras: list[str],
    *,
    hours: float | None,
    lang: str = "en",
    title: str = "Exercise",
    links: list[str] | None = None,
) -> Document:
    return Document(
        text="\n\n".join(paras),
        source=source,
        external_id=ext,
        url=f"https://{source}/{ext}",
        title=title,
        language=lang,
        published_at=T0 + timedelta(hours=hours) if hours is not None else None,
        links=links or [],
    )


def _flag(store: Store, name: str, display: str | None = None) -> None:
    store.write(source_store.add_source, Source(
            name=name,
            domain=name,
            display_name=display,
            affiliation=Affiliation.STATE_CONTROLLED,
            provenance=[Provenance(by="test list")],
        ),
        replace=True)


def _run(store: Store) -> pipeline.StageReport:
    return pipeline.run(store, only=["detect.laundering"])[0]


def _clusters(store: Store) -> list[dict]:
    with store.connect() as c:
        return [db.get_cluster(c, x["id"]) for x in db.list_clusters(c, limit=100)]


def test_same_language_copy_with_boilerplate_found_and_signalled(store: Store) -> None:
    _flag(store, "rt.example", "RT")
    origin = _doc("rt.example", "a1", ["Moscow, 1 March.", *STORY, "Follow us on Telegram for more news."], hours=0)
    copy = _doc(
        "daily-news.example",
        "b1",
        ["BREAKING", *STORY, "Share this article. Subscribe to our newsletter."],
        hours=3,
        title="Troops mass at border",
    )
    unrelated = _doc("bakery.example", "c1", UNRELATED, hours=1)
    store.write(document_store.upsert_documents, [origin, copy, unrelated])
    report = _run(store)
    assert report.signals == 1
    clusters = _clusters(store)
    assert len(clusters) == 1
    cl = clusters[0]
    roles = {m["source"]: m["role"] for m in cl["members"]}
    assert roles == {"rt.example": "origin", "daily-news.example": "copy"}
    assert "earliest publication" in cl["origin_reason"]
    (edge,) = cl["edges"]
    assert edge["method"] == "near_duplicate"
    assert edge["lag_s"] == pytest.approx(3 * 3600)
    assert edge["attribution"] == "stripped"
    (sig,) = store.read(signal_store.list_signals, type="laundering")
    full = store.read(signal_store.get_signal, sig.id)
    assert full.details["attribution_stripped"] is True
    assert full.details["origin_document_id"] == cl["origin_document_id"]
    assert {e.role for e in full.evidence} >= {"origin", "copy"}


def test_partial_reuse_names_the_paragraph_and_credit_is_seen(store: Store) -> None:
    _flag(store, "rt.example", "RT")
    origin = _doc("rt.example", "a1", STORY, hours=0)
    mixed = _doc("blog.example", "m1", [OTHER_ARTICLE[0], STORY[2], OTHER_ARTICLE[1], "Source: RT"], hours=5)
    store.write(document_store.upsert_documents, [origin, mixed])
    _run(store)
    # a quote is a link between two stories, not one story: no cluster holds both
    assert _clusters(store) == []
    with store.connect() as c:
        (edge,) = [dict(r) for r in c.execute(sa.select(laundering_edges)).mappings()]
    assert edge["method"] == "partial" and db.link_of(edge) == db.LINK_QUOTES
    (par,) = edge["details"]["paragraphs"]
    assert par["copier_paragraph"] == 1 and par["copied_paragraph"] == 2
    start, end = par["copier_span"]
    assert mixed.text[start:end] == STORY[2]
    assert edge["attribution"] == "credited"
    assert edge["details"]["credit"] == "RT"
    (sig,) = store.read(signal_store.list_signals)
    full = store.read(signal_store.get_signal, sig.id)
    assert full.details["attribution_stripped"] is False
    assert full.details["link"] == "quotes" and full.details["origin_document_id"] == edge["copied_document_id"]
    spans = [(e.span_start, e.span_end) for e in full.evidence if e.role == "matched_paragraph"]
    assert spans == [(start, end)]


def test_translation_found_by_anchors_without_a_model(store: Store) -> None:
    en = _doc("rt.example", "en1", STORY, hours=0)
    ru = _doc("novosti.example", "ru1", STORY_RU, hours=6, lang="ru")
    filler = [
        _doc("bakery.example", f"u{i}", [text], hours=i, lang="en")
        for i, text in enumerate([*UNRELATED, *OTHER_ARTICLE])
    ]
    store.write(document_store.upsert_documents, [en, ru, *filler])
    _run(store)
    (cl,) = _clusters(store)
    assert {m["language"] for m in cl["members"]} == {"en", "ru"}
    (edge,) = cl["edges"]
    assert edge["method"] == "translation"
    assert "n:4500" in edge["details"]["shared_anchors"]


def test_unrelated_articles_are_not_clustered(store: Store) -> None:
    store.write(document_store.upsert_documents, [
            _doc("a.example", "1", STORY, hours=0),
            _doc("b.example", "2", UNRELATED, hours=1),
            _doc("c.example", "3", OTHER_ARTICLE, hours=2),
        ])
    _run(store)
    assert _clusters(store) == []


def test_incremental_second_batch_matches_first_and_rerun_adds_nothing(store: Store) -> None:
    _flag(store, "rt.example")
    store.write(document_store.upsert_documents, [_doc("rt.example", "a1", STORY, hours=None)])
    _run(store)
    assert _clusters(store) == []
    # a copy arrives later; neither has a publication date: origin = first collected
    store.write(document_store.upsert_documents, [_doc("copy.example", "b1", STORY[:3], hours=None)])
    report = _run(store)
    assert report.processed == 1 and report.signals == 1
    (cl,) = _clusters(store)
    first_id = cl["id"]
    assert [m["source"] for m in cl["members"] if m["role"] == "origin"] == ["rt.example"]
    assert "first collected" in cl["origin_reason"]
    assert cl["edges"][0]["lag_s"] is None
    # a third copy joins the same cluster, whose id stays
    store.write(document_store.upsert_documents, [_doc("third.example", "c1", STORY, hours=None)])
    _run(store)
    (cl,) = _clusters(store)
    assert cl["id"] == first_id and cl["size"] == 3
    n_signals = len(store.read(signal_store.list_signals))
    assert n_signals == 2
    # re-running with nothing new adds nothing; re-running from scratch adds nothing twice
    assert _run(store).processed == 0
    with store.transaction() as conn:
        watermark_store.set_watermark(conn, "detect.laundering", 0)
    _run(store)
    assert len(store.read(signal_store.list_signals)) == n_signals
    (cl,) = _clusters(store)
    assert cl["id"] == first_id


def test_signal_only_when_origin_flagged_and_copy_not(store: Store) -> None:
    _flag(store, "rt.example")
    _flag(store, "mirror.example")
    store.write(document_store.upsert_documents, [
            _doc("independent.example", "x", STORY, hours=0),  # origin not flagged
            _doc("rt.example", "y", STORY, hours=1),  # flagged copy of an unflagged origin
        ])
    _run(store)
    assert store.read(signal_store.list_signals) == []
    store.write(document_store.upsert_documents, [
            _doc("rt.example", "o2", OTHER_ARTICLE, hours=0),
            _doc("mirror.example", "m2", OTHER_ARTICLE, hours=1),  # flagged to flagged: no signal
            _doc("portal.example", "p2", OTHER_ARTICLE, hours=2),  # flagged to unflagged: signal
        ])
    _run(store)
    sigs = store.read(signal_store.list_signals)
    assert len(sigs) == 1
    assert store.read(signal_store.get_signal, sigs[0].id).details["members"]
    stats = {s["source"]: s for s in _stats(store)}
    assert stats["portal.example"]["copies_of_flagged"] == 1
    assert stats["portal.example"]["median_lag_s"] == pytest.approx(7200)
    assert stats["mirror.example"]["copies_of_flagged"] == 0


def test_an_account_repeating_its_own_posts_is_not_laundering(store: Store) -> None:
    # a flagged account and an unflagged one each post their own text again (whole, and a
    # passage of it inside a later post): no cluster, no signal, only links of one source
    _flag(store, "telegram:rt_channel")
    store.write(document_store.upsert_documents, [
            _doc("telegram:rt_channel", "1", STORY, hours=0),
            _doc("telegram:rt_channel", "2", STORY, hours=5),
            _doc("telegram:rt_channel", "3", [UNRELATED[0], STORY[1], UNRELATED[1]], hours=9),
            _doc("telegram:farmer", "1", OTHER_ARTICLE, hours=1),
            _doc("telegram:farmer", "2", ["Reposting this:", *OTHER_ARTICLE], hours=30),
        ])
    _run(store)
    with store.connect() as c:
        edges = [dict(r) for r in c.execute(sa.select(laundering_edges)).mappings()]
    assert len(edges) == 4  # found, but each one links two posts of one account
    assert _clusters(store) == []
    assert store.read(signal_store.list_signals) == []
    assert {s["source"]: s["copies_of_flagged"] for s in _stats(store)}.get("telegram:rt_channel", 0) == 0
    # another account copies the flagged text: now it is laundering, one cluster, one signal
    store.write(document_store.upsert_documents, [_doc("telegram:mirror", "1", STORY, hours=12)])
    _run(store)
    (cl,) = _clusters(store)
    assert {m["source"] for m in cl["members"]} == {"telegram:rt_channel", "telegram:mirror"}
    (sig,) = store.read(signal_store.list_signals)
    assert sig.title.startswith("telegram:mirror ")


def _stats(store: Store) -> list[dict]:
    with store.connect() as c:
        return db.source_stats(c)


def test_cli_detect_and_clusters(cli) -> None:  # type: ignore[no-untyped-def]
    import json

    store = Store.open(cli.database_url)
    try:
        _flag(store, "rt.example", "RT")
        store.write(document_store.upsert_documents,
                    [_doc("rt.example", "a1", STORY, hours=0), _doc("copy.example", "b1", STORY, hours=2)])
    finally:
        store.close()
    out = json.loads(cli("detect", "laundering", "--format", "json").stdout)
    assert out["processed"] == 2 and out["signals"] == 1
    listed = json.loads(cli("clusters", "list", "--format", "json").stdout)
    assert len(listed) == 1 and listed[0]["origin_source"] == "rt.example"
    shown = json.loads(cli("clusters", "show", listed[0]["id"], "--format", "json").stdout)
    assert [m["role"] for m in shown["members"]] == ["origin", "copy"]
    assert shown["edges"][0]["lag_s"] == 7200 and shown["edges"][0]["attribution"] == "stripped"
    table = cli("clusters", "show", listed[0]["id"]).stdout
    assert "2.0h" in table and "stripped" in table
    stats = json.loads(cli("clusters", "sources", "--format", "json").stdout)
    assert stats[0]["source"] == "copy.example" and stats[0]["copies_of_flagged"] == 1
    missing = cli("clusters", "show", "clu_nope", ok=False)
    assert missing.exit_code != 0 and "no cluster" in missing.stderr


def test_excerpt_cutting_across_paragraphs_is_found(store: Store) -> None:
    p1 = (
        "The port authority said on Monday that 14 cargo ships had been held at anchor since the weekend. "
        "Inspectors boarded two of them and found undeclared containers of fertiliser bound for the east. "
        "Officials refused to say who had ordered the inspections or how long they would last."
    )
    p2 = (
        "Shipping companies complained that the delays were costing them millions of euros every single day. "
        "A spokesman for the largest operator called the measures arbitrary and politically motivated. "
        "The ministry promised a full statement before the end of the week."
    )
    origin = _doc("origin.example", "o", [p1, p2, OTHER_ARTICLE[0]], hours=0)
    # the excerpt: the last two sentences of the first paragraph and the first of the second
    excerpt = " ".join([p1.split(". ", 1)[1], p2.split(". ")[0] + "."])
    host = _doc("host.example", "h", [UNRELATED[0], excerpt, UNRELATED[1]], hours=4)
    store.write(document_store.upsert_documents, [origin, host])
    _run(store)
    assert _clusters(store) == []
    with store.connect() as c:
        (edge,) = [dict(r) for r in c.execute(sa.select(laundering_edges)).mappings()]
    assert edge["method"] == "partial" and edge["details"]["link"] == "quotes"
    names = {(p["copier_paragraph"], p["copied_paragraph"]) for p in edge["details"]["paragraphs"]}
    assert (1, 0) in names


def _outcome(store: Store) -> tuple[list[str], list[list[str]], list[tuple[str, str, str]]]:
    """Signals, clusters and links, named by document URL (ids differ between stores)."""
    with store.connect() as c:
        url = {str(i): str(u) for i, u in c.execute(sa.text("select id, url from documents"))}
        keys = sorted(
            url[str(k).removeprefix("laundering:")] for k in c.execute(sa.text("select key from signals")).scalars()
        )
        clusters = sorted(
            sorted(url[m["document_id"]] for m in db.get_cluster(c, x["id"])["members"])
            for x in db.list_clusters(c, limit=100)
        )
        edges = sorted(
            (url[r["copier_document_id"]], url[r["copied_document_id"]], str(r["details"]["link"]))
            for r in c.execute(sa.select(laundering_edges)).mappings()
        )
    return keys, clusters, edges


@pytest.mark.parametrize("backend", ["sqlite"])
def test_same_corpus_same_signals_whatever_the_batch_size(tmp_path, backend) -> None:  # type: ignore[no-untyped-def]
    """Collection order is not publication order: a flagged outlet's copy is collected first,
    the unflagged original it came from arrives later (the copy must not stay signalled), a
    translation and a quote arrive in between. One document per batch and all in one batch
    give the same signals, clusters and links."""
    docs = [
        _doc("rt.example", "a1", STORY, hours=2),
        _doc("portal.example", "p1", [*STORY, "Share before it is deleted!"], hours=5),
        _doc("novosti.example", "ru1", STORY_RU, hours=6, lang="ru"),
        _doc("blog.example", "b1", [OTHER_ARTICLE[0], STORY[1], OTHER_ARTICLE[1]], hours=8),
        _doc("wire.example", "w0", STORY, hours=0),  # the true origin, unflagged, collected last
        *[_doc("bakery.example", f"u{i}", [t], hours=i) for i, t in enumerate([*UNRELATED, *OTHER_ARTICLE])],
    ]
    outcomes = []
    for size in (1, 100):
        store = Store.open(None, tmp_path / f"b{size}")
        _flag(store, "rt.example", "RT")
        store.write(document_store.upsert_documents, docs)
        pipeline.run(store, only=["detect.laundering"], batch_size=size)
        outcomes.append(_outcome(store))
        store.close()
    by_one, by_all = outcomes
    assert by_one == by_all
    keys, clusters, edges = by_all
    # the wire (unflagged) published first: RT's copy is not the origin, so nothing is signalled,
    # even though one document per batch once saw RT as the origin of the portal's copy
    assert keys == []
    assert clusters[0][-3:] == ["https://portal.example/p1", "https://rt.example/a1", "https://wire.example/w0"]
    assert next(e for e in edges if e[0] == "https://blog.example/b1")[2] == "quotes"


def test_cli_clusters_state_origins_first_and_aligned_pairs(cli) -> None:  # type: ignore[no-untyped-def]
    """The list puts a state-origin chain first even when an independent one was updated later;
    `clusters show --format json` carries the sentence alignment of each pair, with what the
    copy added and dropped, and a translation aligned by its anchors."""
    import json

    store = Store.open(cli.database_url)
    try:
        _flag(store, "rt.example", "RT")
        copy = [STORY[0], STORY[1].replace("Tuesday", "Monday"), STORY[2], "Share before it is deleted!"]
        store.write(document_store.upsert_documents, [
            _doc("rt.example", "a1", STORY, hours=0),
            _doc("copy.example", "b1", copy, hours=2, title=""),
            _doc("novosti.example", "ru1", STORY_RU, hours=3, lang="ru"),
        ])
        store.write(document_store.upsert_documents, [
            _doc("indie.example", "x1", UNRELATED, hours=10),
            _doc("mirror.example", "x2", [*UNRELATED, "Source: indie.example"], hours=11),
        ])
    finally:
        store.close()
    cli("detect", "laundering", "--format", "json")
    listed = json.loads(cli("clusters", "list", "--format", "json").stdout)
    assert [r["origin_source"] for r in listed] == ["rt.example", "indie.example"]
    by_size = json.loads(cli("clusters", "list", "--sort", "time", "--format", "json").stdout)
    assert by_size[0]["origin_source"] == "indie.example"
    only = json.loads(cli("clusters", "list", "--affiliation", "flagged", "--format", "json").stdout)
    assert [r["origin_source"] for r in only] == ["rt.example"]
    stripped = json.loads(cli("clusters", "list", "--stripped", "--format", "json").stdout)
    assert [r["origin_source"] for r in stripped] == ["rt.example"] and stripped[0]["stripped_copies"] >= 1
    shown = json.loads(cli("clusters", "show", listed[0]["id"], "--format", "json").stdout)
    origin = next(m for m in shown["members"] if m["role"] == "origin")
    assert origin["similarity"] is None and origin["method"] is None
    copy_member = next(m for m in shown["members"] if m["source"] == "copy.example")
    assert copy_member["title"].startswith("The ministry of defence")  # no title: its first words
    by_copier = {a["copier_document_id"]: a for a in shown["alignments"]}
    same = by_copier[copy_member["document_id"]]
    assert same["mode"] == "same language"
    assert same["counts"] == {"shared": 3, "added": 1, "dropped": 1}
    ru = next(m for m in shown["members"] if m["language"] == "ru")
    tr = by_copier[ru["document_id"]]
    assert tr["mode"] == "translation" and tr["counts"].get("aligned", 0) >= 3
    anchors = [a for row in tr["rows"] for a in row.get("anchors", [])]
    petrov = next(a for a in anchors if a["origin_text"] == "Petrov")
    assert petrov["copy_text"] == "Петров" and petrov["latin"] == "petrov"
    bad = cli("clusters", "list", "--sort", "colour", ok=False)
    assert bad.exit_code != 0 and "unknown sort" in bad.stderr
