import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from fimiscope.core.errors import InvalidInput, NotFound
from fimiscope.core.model import Affiliation, Document, Evidence, Provenance, Signal, SignalStatus, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import search as search_store
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store import stats as stats_store
from fimiscope.store import watermarks as watermark_store
from fimiscope.store.db import current_revision, head_revisions, migrate


def _doc(i: int, text: str | None = None, **kw: object) -> Document:
    return Document(
        text=text or f"Article number {i} about the grain corridor and Prague.",
        url=f"https://news.example/a/{i}",
        title=f"Title {i}",
        published_at=datetime(2024, 3, 1 + i % 20, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def test_upsert_is_idempotent_and_versions_changes(store: Store) -> None:
    docs = [_doc(i, raw=b"<html>%d</html>" % i) for i in range(1100)]
    first = store.write(document_store.upsert_documents, docs)
    assert (first.new, first.updated, first.unchanged) == (1100, 0, 0)
    again = store.write(document_store.upsert_documents, docs)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1100)
    assert store.read(stats_store.stats)["documents"] == 1100

    changed = _doc(3, text="A corrected article about something else entirely.")
    res = store.write(document_store.upsert_documents, [changed])
    assert (res.new, res.updated) == (0, 1)
    doc_id = res.ids[0]
    doc = store.read(document_store.get_document, doc_id)
    assert doc.text.startswith("A corrected")
    assert doc.metadata["_version"] == 2
    history = store.read(document_store.document_versions, doc_id)
    assert [h["version"] for h in history] == [1]
    assert history[0]["text"].startswith("Article number 3")
    # whitespace-only change is not a new version
    same = _doc(3, text="A corrected   article about something else\nentirely.")
    assert store.write(document_store.upsert_documents, [same]).unchanged == 1


def test_nul_characters_from_any_collector_are_removed_before_storing(store: Store) -> None:
    # Any field may carry a NUL (PostgreSQL stores none); the document still goes in, cleaned,
    # and its neighbours in the batch are untouched.
    dirty = _doc(1, text="a NUL \x00 inside", author="au\x00thor", links=["https://x.example/\x00"],
                 metadata={"k\x00": ["v\x00"]})
    clean = _doc(2, metadata={"n": 1})
    first = store.write(document_store.upsert_documents, [dirty, clean])
    assert first.new == 2
    stored = store.read(document_store.get_document, first.ids[0])
    assert (stored.text, stored.author, stored.links, stored.metadata["k"]) == (
        "a NUL  inside", "author", ["https://x.example/"], ["v"])
    assert store.read(document_store.get_document, first.ids[1]).metadata["n"] == 1
    # The same documents again change nothing: the hash is of what was stored.
    again = store.write(document_store.upsert_documents, [dirty, clean])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)


def test_raw_bytes_are_archived_content_addressed(store: Store) -> None:
    body = "<html><body>Привет, мир</body></html>".encode()
    store.write(document_store.upsert_documents, [_doc(1, raw=body), _doc(2, raw=body)])
    assert store.read(stats_store.stats)["raw_blobs"] == 1
    with store.connect() as c:
        digest = c.execute(sa.text("SELECT raw_hash FROM documents LIMIT 1")).scalar()
    assert store.read(document_store.get_raw, digest) == body
    with pytest.raises(NotFound):
        store.read(document_store.get_raw, "0" * 64)


def test_sources_created_from_documents_and_merged_from_registries(store: Store) -> None:
    store.write(document_store.upsert_documents,
                [_doc(1), Document(text="post", external_id="5", source="telegram:chan")])
    names = {s.name for s in store.read(source_store.list_sources)}
    assert names == {"news.example", "telegram:chan"}
    tg = store.read(source_store.get_source, "telegram:chan")
    assert (tg.platform, tg.handle) == ("telegram", "chan")

    flag = Source(
        name="news.example",
        affiliation=Affiliation.STATE_CONTROLLED,
        provenance=[Provenance(by="EEAS", where="https://example.org/report", when="2024-01-01")],
        lists=["list-a"],
    )
    assert store.write(source_store.merge_sources, [flag]) == (0, 1)
    assert store.write(source_store.merge_sources, [flag]) == (0, 0)  # re-import changes nothing
    second = Source(name="news.example", affiliation=Affiliation.STATE_ALIGNED, lists=["list-b"],
                    provenance=[Provenance(by="Other")])
    store.write(source_store.merge_sources, [second])
    merged = store.read(source_store.get_source, "news.example")
    assert merged.affiliation is Affiliation.STATE_CONTROLLED  # the more severe tier stays
    assert merged.lists == ["list-a", "list-b"]
    assert [p.by for p in merged.provenance] == ["EEAS", "Other"]
    with pytest.raises(InvalidInput):
        store.write(source_store.add_source, Source(name="news.example"))
    store.write(source_store.remove_source, "news.example")
    with pytest.raises(NotFound):
        store.read(source_store.get_source, "news.example")
    assert store.read(stats_store.stats)["documents"] == 2  # documents stay, detached


def test_search_with_filters(store: Store) -> None:
    store.write(document_store.upsert_documents, [
            Document(text="Vláda v Praze schválila rozpočet.", url="https://a.example/cs", language="cs",
                     published_at=datetime(2024, 1, 5, tzinfo=UTC)),
            Document(text="Правительство в Праге утвердило бюджет.", url="https://b.example/ru", language="ru",
                     published_at=datetime(2024, 2, 5, tzinfo=UTC)),
            Document(text="The government in Prague approved the budget.", url="https://c.example/en",
                     language="en", published_at=datetime(2024, 3, 5, tzinfo=UTC)),
        ])
    assert [d.url for d, _ in store.read(search_store.search, "Praze")] == ["https://a.example/cs"]
    assert [d.url for d, _ in store.read(search_store.search, "бюджет")] == ["https://b.example/ru"]
    assert [d.url for d, _ in store.read(search_store.search, "budget", language="en")] == ["https://c.example/en"]
    assert store.read(search_store.search, "budget", language="cs") == []
    assert [d.url for d, _ in store.read(search_store.search, "budget", since=datetime(2024, 3, 1, tzinfo=UTC))] == [
        "https://c.example/en"
    ]
    assert store.read(search_store.search, "budget", source="c.example")[0][0].source == "c.example"
    assert store.read(search_store.search, '"; DROP TABLE documents; --') == []
    with pytest.raises(InvalidInput):
        store.read(search_store.search, "!!!")


def test_signals_keep_analyst_status_on_rerun(store: Store) -> None:
    doc_id = store.write(document_store.upsert_documents, [_doc(1)]).ids[0]
    sig = Signal(type="test", title="t", score=0.5, detector="d", detector_version="1", key="k1",
                 evidence=[Evidence(document_id=doc_id, span_start=0, span_end=7, score=0.5)])
    assert store.write(signal_store.upsert_signals, [sig]) == (1, 0)
    assert store.write(signal_store.set_signal_status, [sig.id or ""], "confirmed") == 1
    rerun = Signal(type="test", title="t2", score=0.9, detector="d", detector_version="1", key="k1",
                   evidence=[Evidence(document_id=doc_id, span_start=0, span_end=7, score=0.9)])
    assert store.write(signal_store.upsert_signals, [rerun]) == (0, 1)
    got = store.read(signal_store.get_signal, sig.id or "")
    assert got.status is SignalStatus.CONFIRMED
    assert got.score == 0.9 and len(got.evidence) == 1 and got.evidence[0].document_id == doc_id
    assert [s.id for s in store.read(signal_store.list_signals, status="confirmed")] == [sig.id]


def test_signals_filter_by_language_and_source_of_cited_documents_as_they_change(store: Store) -> None:
    from fimiscope.store import workbench as wb

    a, b = store.write(document_store.upsert_documents, [_doc(1, source="alpha.example", language="de"),
                                   _doc(2, source="beta.example")]).ids
    store.write(signal_store.upsert_signals, [
        Signal(type="t", title="cites a", score=0.5, detector="d", detector_version="1", key="fa",
               evidence=[Evidence(document_id=a)]),
        Signal(type="t", title="cites b", score=0.4, detector="d", detector_version="1", key="fb",
               evidence=[Evidence(document_id=b)]),
    ])

    def titles(**kw: str) -> list[str]:
        return [s.title for s in wb.list_signals(store, wb.SignalFilter(**kw)).items]  # type: ignore[arg-type]

    assert titles(language="de") == ["cites a"]
    assert titles(source="beta.example") == ["cites b"]
    # A stage fills in b's language later; a new version of a moves it to another source.
    with store.transaction() as conn:
        document_store.update_document_fields(conn, b, language="de")
    assert titles(language="de") == ["cites a", "cites b"]
    store.write(document_store.upsert_documents, [_doc(1, text="A rewritten article about Prague and the corridor.",
                                 source="beta.example", language="cs")])
    assert titles(language="de") == ["cites b"]
    assert titles(language="cs") == ["cites a"]
    assert titles(source="beta.example") == ["cites a", "cites b"]
    assert titles(source="alpha.example") == []
    # Totals count each signal once, however many of its evidence rows match.
    store.write(signal_store.upsert_signals, [Signal(type="t", title="cites a twice", score=0.3, detector="d",
                                                     detector_version="1", key="fa2",
                                                     evidence=[Evidence(document_id=a), Evidence(document_id=a)])])
    page = wb.list_signals(store, wb.SignalFilter(language="cs", status="new"))
    assert page.total == 2 and [s.title for s in page.items] == ["cites a", "cites a twice"]


def test_concurrent_writers_commit_document_seqs_in_seq_order(store: Store) -> None:
    """A stage reading "past my watermark" must never see seq N+1 committed before N."""
    import threading

    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time by design; the race exists only on PostgreSQL")
    first = store.engine.connect()  # a transaction held open by hand, across the other writer's
    tx = first.begin()
    document_store.upsert_documents(first, [_doc(1)])
    done = threading.Event()

    def second_writer() -> None:  # another outlet, so no shared source row to wait on
        store.write(document_store.upsert_documents, [
            Document(text="Another outlet's article about Prague.", url="https://other.example/a/2", title="Other")
        ])
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        assert not done.wait(1.0), "the second writer committed a later seq while the first was open"
        assert store.read(document_store.max_document_seq) == 0
    finally:
        tx.commit()
        first.close()
        thread.join(10)
    assert done.is_set()
    with store.connect() as c:
        urls = [r[0] for r in c.execute(sa.text("SELECT url FROM documents ORDER BY seq"))]
    assert urls == ["https://news.example/a/1", "https://other.example/a/2"]


def test_watermarks_commit_with_their_transaction(store: Store) -> None:
    with store.transaction() as conn:
        watermark_store.set_watermark(conn, "stage.a", 5)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        watermark_store.set_watermark(conn, "stage.a", 9)
        raise RuntimeError("crash before commit")
    assert store.read(watermark_store.watermark, "stage.a") == 5


def test_migrations_are_repeatable(database_url: str) -> None:
    s = Store.open(database_url)
    migrate(s.engine)  # second time: no-op
    assert current_revision(s.engine) is not None
    s.close()


def test_the_heads_read_from_the_scripts_are_alembics(database_url: str) -> None:
    """``migrate`` skips Alembic when the store is at the heads it reads from the scripts: they
    must be the heads Alembic computes, and an older store must still be upgraded."""
    from alembic.script import ScriptDirectory

    from fimiscope.store.db import alembic_config

    s = Store.open(database_url, upgrade=False)
    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config(s.engine)).get_heads())
    migrate(s.engine, "0003")
    migrate(s.engine)  # not at the heads: upgraded
    assert set((current_revision(s.engine) or "").split(",")) == head_revisions()
    s.close()


def test_opening_a_current_store_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.sqlite3'}"
    Store.open(url).close()
    probe = ("import sys; from fimiscope.store import Store; Store.open(sys.argv[1]).close(); "
             "print('alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_stage_rename_keeps_the_watermark_and_the_signals_detector(database_url: str) -> None:
    """0004 renames the laundering stage to detect.laundering: a store from before the rename
    keeps its position (the detector does not start again from document 0)."""
    s = Store.open(database_url, upgrade=False)
    migrate(s.engine, "0003")
    with s.transaction() as c:
        c.execute(sa.text("INSERT INTO watermarks (stage, position, updated_at) VALUES ('laundering', 41, :t)"),
                  {"t": datetime(2024, 1, 1, tzinfo=UTC)})
        c.execute(sa.text("INSERT INTO signals (id, key, type, title, summary, score, status, detector, "
                          "detector_version, parameters, details, created_at, updated_at) VALUES ('sig_1', 'k', "
                          "'laundering', 't', '', 0.5, 'new', 'laundering', '1', '{}', '{}', :t, :t)"),
                     {"t": datetime(2024, 1, 1, tzinfo=UTC)})
    migrate(s.engine)
    with s.connect() as c:
        assert watermark_store.watermark(c, "detect.laundering") == 41
        assert watermark_store.watermark(c, "laundering") == 0
    assert s.read(signal_store.get_signal, "sig_1").detector == "detect.laundering"
    s.close()


def test_the_sqlite_page_cache_follows_the_setting(tmp_path: Path) -> None:
    import os

    from fimiscope.config import Settings

    def cache_kib(settings: Settings) -> int:
        s = Store.from_settings(settings)
        try:
            with s.connect() as conn:
                return -int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        finally:
            s.close()

    assert cache_kib(Settings(data_dir=tmp_path / "a")) == 64 * 1024
    assert cache_kib(Settings(data_dir=tmp_path / "b", sqlite_cache_mb=512)) == 512 * 1024
    # from the environment, as a user sets it; a nonsense value is refused with a one-line reason
    env = {**os.environ, "FIMISCOPE_SQLITE_CACHE_MB": "0", "FIMISCOPE_DATA_DIR": str(tmp_path / "c")}
    out = subprocess.run([sys.executable, "-m", "fimiscope", "sources", "list"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode != 0 and "FIMISCOPE_SQLITE_CACHE_MB" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
