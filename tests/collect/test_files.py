"""File connectors on real files: JSONL, CSV, social dumps, folders, WARC, Telegram exports."""

import gzip
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from fimiscope.collect.base import CollectContext, ItemError, RawPage, connectors
from fimiscope.config import Settings
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Document, Source
from fimiscope.extract.html import extract
from fimiscope.pipeline import ingest
from fimiscope.store import Store
from fimiscope.store import search as search_store

ARTICLE = (
    "<html><head><title>{title}</title></head><body><nav>Home | World | Sport</nav><article><h1>{title}</h1>"
    "<p>{body} The ministry said the decision would take effect next month across the region.</p>"
    "<p>Officials added that further details would follow after consultations with partners.</p>"
    "</article><footer>(c) Fictional Times</footer></body></html>"
)


def run(kind: str, location: Path, state: dict | None = None, **meta: object) -> tuple[list, dict]:
    ctx = CollectContext(settings=Settings(), state=state if state is not None else {})
    src = Source(name=f"{kind}-source", kind=kind, location=str(location), metadata=dict(meta))
    items = list(connectors()[kind]().collect(src, ctx))
    return items, ctx.state


def test_registry_has_every_file_kind() -> None:
    assert {"jsonl", "csv", "social", "folder", "warc", "telegram"} <= set(connectors())


def test_jsonl_rejections_become_item_errors_and_unchanged_files_are_skipped(tmp_path: Path) -> None:
    f = tmp_path / "d.jsonl"
    f.write_text('{"url": "https://a.example/1", "text": "one"}\n{"url": "https://a.example/2"}\n')
    items, state = run("jsonl", f)
    assert [type(i) for i in items] == [Document, ItemError]
    assert items[1].where == "d.jsonl:2" and "missing" in items[1].reason
    again, _ = run("jsonl", f, state)
    assert again == []


def test_csv_uses_the_mapping_from_metadata(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("link,body\nhttps://a.example/1,Text one\nhttps://a.example/2,\n")
    items, _ = run("csv", f, map={"url": "link", "text": "body"})
    assert isinstance(items[0], Document) and items[0].text == "Text one"
    assert isinstance(items[1], ItemError) and "text" in items[1].reason


def test_social_dump_requires_accounts(tmp_path: Path) -> None:
    f = tmp_path / "posts.jsonl"
    rows = [
        {"id": "1", "source": "x:alpha", "text": "Look at this", "shared_from": "x:beta/9"},
        {"id": "2", "source": "alpha.example", "text": "not an account"},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items, _ = run("social", f)
    assert items[0].platform == "x" and items[0].shared_from == "x:beta/9"
    assert isinstance(items[1], ItemError) and "platform:account" in items[1].reason


def test_folder_of_pages_and_texts(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(ARTICLE.format(title="Grain deal", body="A long story about grain."))
    (tmp_path / "b.txt").write_text("Plain text note about the elections.", encoding="utf-8")
    (tmp_path / "c.html").write_bytes(b"\x00\x01\x02binary" * 100)
    (tmp_path / "d.txt").write_bytes(b"caf\xe9 au lait")
    (tmp_path / "ignored.png").write_bytes(b"\x89PNG")
    items, state = run("folder", tmp_path)
    kinds = {Path(getattr(i, "url", None) or i.where).name: type(i) for i in items}
    assert kinds == {"a.html": RawPage, "b.txt": Document, "c.html": ItemError, "d.txt": ItemError}
    page = next(i for i in items if isinstance(i, RawPage))
    assert extract(page.body, page.url).title == "Grain deal"
    (tmp_path / "b.txt").write_text("Plain text note, edited.", encoding="utf-8")
    again, _ = run("folder", tmp_path, state)
    assert [Path(i.url).name for i in again if isinstance(i, Document)] == ["b.txt"]


def _warc(path: Path, records: int, *, gz: bool = True) -> None:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=gz)
    for i in range(records):
        html = ARTICLE.format(title=f"Story {i}", body=f"Report number {i} from the capital.").encode("cp1250")
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=windows-1250")],
                                   protocol="HTTP/1.1")
        rec = writer.create_warc_record(f"https://news.example/{i}", "response", payload=io.BytesIO(html),
                                        http_headers=headers)
        writer.write_record(rec)
    img = writer.create_warc_record("https://news.example/x.png", "response", payload=io.BytesIO(b"\x89PNG"),
                                    http_headers=StatusAndHeaders("200 OK", [("Content-Type", "image/png")],
                                                                  protocol="HTTP/1.1"))
    writer.write_record(img)
    path.write_bytes(buf.getvalue())


def test_warc_records_become_pages(tmp_path: Path) -> None:
    f = tmp_path / "crawl.warc.gz"
    _warc(f, 5)
    items, _ = run("warc", f)
    assert [type(i) for i in items] == [RawPage] * 5
    assert items[0].url == "https://news.example/0" and items[0].encoding == "windows-1250"
    assert items[0].source == "news.example"


def test_truncated_warc_keeps_every_record_before_the_damage(tmp_path: Path) -> None:
    whole = tmp_path / "whole.warc.gz"
    _warc(whole, 20)
    data = whole.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    items, _ = run("warc", cut)
    pages = [i for i in items if isinstance(i, RawPage)]
    errors = [i for i in items if isinstance(i, ItemError)]
    assert 5 <= len(pages) < 20
    assert len(errors) == 1 and "damaged archive" in errors[0].reason and "cut.warc.gz@" in errors[0].where
    garbage = tmp_path / "junk.warc.gz"
    garbage.write_bytes(gzip.compress(b"this is not a warc at all"))
    items, _ = run("warc", garbage)
    assert isinstance(items[-1], ItemError)


def test_telegram_export_with_forwards_links_and_missing_fields(tmp_path: Path) -> None:
    export = {
        "name": "Fictional Channel", "type": "public_channel", "id": 1234, "username": "fict_chan",
        "messages": [
            {"id": 1, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": "1709287200",
             "text": ["Read ", {"type": "text_link", "text": "this", "href": "https://x.example/a"}, " now"],
             "text_entities": [{"type": "plain", "text": "Read "}], "views": 1500},
            {"id": 2, "type": "message", "date": "2024-03-01T11:00:00", "forwarded_from": "Other Channel",
             "text": "Forwarded claim https://y.example/b",
             "text_entities": [{"type": "link", "text": "https://y.example/b"}]},
            {"id": 3, "type": "service", "action": "pin_message", "date": "2024-03-01T12:00:00", "text": ""},
            {"id": 4, "type": "message", "text": "no date here"},
            {"type": "message", "date": "2024-03-01T12:00:00", "text": "no id"},
            {"id": 6, "type": "message", "date": "2024-03-01T12:00:00", "text": 42},
            "garbage",
        ],
    }
    f = tmp_path / "result.json"
    f.write_text(json.dumps(export), encoding="utf-8")
    items, _ = run("telegram", tmp_path)
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, ItemError)]
    assert [d.external_id for d in docs] == ["1", "2"]
    first, second = docs
    assert first.text == "Read this now" and first.links == ["https://x.example/a"]
    assert first.url == "https://t.me/fict_chan/1" and first.source == "telegram:fict_chan"
    assert first.published_at == datetime(2024, 3, 1, 10, tzinfo=UTC) and first.metadata["views"] == 1500
    assert second.shared_from == "Other Channel" and second.links == ["https://y.example/b"]
    assert len(errors) == 4
    assert any("without a date" in e.reason for e in errors)
    (tmp_path / "result.json").write_text('{"name": "x"}')
    with pytest.raises(InvalidInput, match="no 'messages'"):
        run("telegram", tmp_path)


def test_file_items_round_trip_into_the_store(store: Store, tmp_path: Path) -> None:
    f = tmp_path / "crawl.warc.gz"
    _warc(f, 3)
    pages, _ = run("warc", f)
    docs = []
    for page in pages:
        ex = extract(page.body, page.url, encoding=page.encoding)
        docs.append(Document(text=ex.text, title=ex.title, url=page.url, source=page.source, raw=page.body))
    tg = tmp_path / "tg"
    tg.mkdir()
    (tg / "result.json").write_text(json.dumps({"username": "c", "messages": [
        {"id": 1, "date": "2024-01-01T00:00:00", "text": "Привет из канала о выборах"}]}))
    tg_items, _ = run("telegram", tg)
    report = ingest(store, docs + tg_items)
    assert report.new == 4
    hit = store.read(search_store.search, "Report number 1")[0][0]
    assert hit.title == "Story 1" and "capital" in hit.text
    assert store.read(search_store.search, "выборах")[0][0].source == "telegram:c"


@pytest.mark.parametrize("engine", ["trafilatura", "resiliparse"])
def test_extractors_survive_hostile_html(engine: str) -> None:
    page = ARTICLE.format(title="Deep", body="Real words in a real paragraph about the vote. " * 5)
    assert "vote" in extract(page, engine=engine).text
    nested = "<html><body>" + "<div>" * 100_000 + "text" + "</div>" * 100_000 + "</body></html>"
    start = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="nested deeper"):
        extract(nested, engine=engine)
    assert (datetime.now(UTC) - start).total_seconds() < 5
    with pytest.raises(InvalidInput):
        extract(b"\x00\x01\x02\xff" * 1000, engine=engine)
    with pytest.raises(InvalidInput, match="unknown extractor"):
        extract(page, engine="nope")
