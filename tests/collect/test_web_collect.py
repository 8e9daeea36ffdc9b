"""The web connectors and the runner end to end: loopback servers, a real store (SQLite and
PostgreSQL), the real CLI for `sources status`."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from tests.collect.webserver import LOREM, Reply, Site, article, site, web_settings  # noqa: F401 - fixtures

from fimiscope.collect import runner
from fimiscope.config import Settings
from fimiscope.core.model import Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import sources as source_store
from fimiscope.store.tables import documents


@pytest.fixture(autouse=True)
def _fast_fetcher(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIMISCOPE_FETCH_DELAY", "0")
    monkeypatch.setenv("FIMISCOPE_FETCH_BACKOFF", "0.05")
    monkeypatch.setenv("FIMISCOPE_FETCH_RETRIES", "1")


def add(store: Store, name: str, kind: str, location: str, **metadata: Any) -> Source:
    return store.write(source_store.add_source, Source(name=name, kind=kind, location=location, metadata=metadata))


def docs(store: Store) -> dict[str, dict[str, Any]]:
    with store.connect() as c:
        return {r["url"]: dict(r) for r in c.execute(sa.select(documents)).mappings()}


def status_json(cli: Any) -> dict[str, dict[str, Any]]:
    out = cli("sources", "status", "--format", "json")
    return {row["name"]: row for row in json.loads(out.stdout)}


def serve_articles(site: Site, n: int, prefix: str = "/news/") -> list[str]:
    urls = []
    for i in range(n):
        path = f"{prefix}{i}"
        site[path] = article(f"Story {i}", f"Story number {i}. " + LOREM)
        urls.append(site.url(path))
    return urls


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Outlet</title><language>en</language>{items}</channel></rss>"""
RSS_ITEM = """<item><title>{title}</title><link>{link}</link><guid>{link}</guid>
<pubDate>Tue, 10 Jun 2025 08:00:00 GMT</pubDate><author>desk@outlet.example (Desk)</author>
<description>Short summary {title}</description></item>"""


def test_rss_fetches_articles_with_hints_and_remembers_entries(
    store: Store, site: Site, web_settings: Settings
) -> None:
    urls = serve_articles(site, 4)
    items = "".join(RSS_ITEM.format(title=f"Feed title {i}", link=u) for i, u in enumerate(urls))
    site["/feed.xml"] = Reply(RSS.format(items=items), content_type="application/rss+xml")
    add(store, "outlet", "rss", site.url("/feed.xml"))
    [report] = runner.collect(store, web_settings)
    assert report.status == "ok" and report.new == 4, report.error
    stored = docs(store)
    d = stored[urls[2]]
    assert "Story number 2" in d["text"] and d["published_at"] is not None
    assert d["raw_hash"]  # raw bytes kept for re-extraction
    assert store.read(document_store.get_raw, d["raw_hash"]).startswith(b"<!doctype html>")
    before = len(site.hits)
    [again] = runner.collect(store, web_settings)
    assert again.items == 0 and again.status == "ok"
    assert all(not p.startswith("/news/") for p, _ in site.hits[before:])  # nothing re-downloaded


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>urn:a</id><updated>2025-06-10T08:00:00Z</updated>
<entry><title>Atom one</title><id>urn:a:1</id><link href="{link}"/><updated>2025-06-10T08:00:00Z</updated>
<author><name>Jana Nováková</name></author>
<content type="html">&lt;p&gt;Full text of the first atom entry, long enough to keep.&lt;/p&gt;</content></entry>
</feed>"""


def test_atom_without_fetching_articles(store: Store, site: Site, web_settings: Settings) -> None:
    site["/atom"] = Reply(ATOM.format(link=site.url("/a/1")), content_type="application/atom+xml")
    add(store, "atom-outlet", "rss", site.url("/atom"), fetch_articles=False)
    [report] = runner.collect(store, web_settings)
    assert report.new == 1, report
    d = docs(store)[site.url("/a/1")]
    assert d["text"] == "Full text of the first atom entry, long enough to keep."
    assert d["author"] == "Jana Nováková" and d["title"] == "Atom one"
    assert site.count("/a/1") == 0


def test_json_feed(store: Store, site: Site, web_settings: Settings) -> None:
    urls = serve_articles(site, 2, "/j/")
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": str(i), "url": u, "title": f"J{i}", "date_published": "2025-06-10T08:00:00Z"}
                  for i, u in enumerate(urls)],
    }
    site["/feed.json"] = Reply(json.dumps(feed), content_type="application/feed+json")
    add(store, "json-outlet", "rss", site.url("/feed.json"))
    [report] = runner.collect(store, web_settings)
    assert report.new == 2 and report.status == "ok", report


def test_sitemap_index_and_news_sitemap(store: Store, site: Site, web_settings: Settings) -> None:
    urls = serve_articles(site, 5)
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
    site["/sitemap.xml"] = Reply(
        f'<?xml version="1.0"?><sitemapindex {ns}><sitemap><loc>{site.url("/s1.xml")}</loc></sitemap>'
        f'<sitemap><loc>{site.url("/news.xml")}</loc></sitemap></sitemapindex>',
        content_type="application/xml",
    )
    site["/s1.xml"] = Reply(
        f'<urlset {ns}>' + "".join(f"<url><loc>{u}</loc><lastmod>2025-06-01</lastmod></url>" for u in urls[:3])
        + "</urlset>", content_type="application/xml")
    site["/news.xml"] = Reply(
        f'<urlset {ns}>' + "".join(
            f"<url><loc>{u}</loc><news:news><news:publication><news:name>O</news:name><news:language>cs"
            f"</news:language></news:publication><news:publication_date>2025-06-09T10:00:00Z</news:publication_date>"
            f"<news:title>News {u[-1]}</news:title></news:news></url>" for u in urls[3:]) + "</urlset>",
        content_type="text/xml")
    add(store, "maps", "sitemap", site.url("/sitemap.xml"))
    [report] = runner.collect(store, web_settings)
    assert report.new == 5 and report.status == "ok", report
    assert docs(store)[urls[4]]["published_at"] is not None
    [again] = runner.collect(store, web_settings)  # lastmod unchanged: pages not fetched again
    assert again.items == 0 and site.count("/news/0") == 1


def test_page_list_and_etag_second_run(store: Store, site: Site, web_settings: Settings) -> None:
    served = {"full": 0}

    def etagged(h: Any) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            h.send_response(304)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        served["full"] += 1
        body = article("Tagged", LOREM).encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("ETag", '"v1"')
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site["/tagged"] = etagged
    urls = serve_articles(site, 2, "/p/")
    add(store, "pages", "page", f"{site.url('/tagged')}\n{urls[0]} {urls[1]}")
    [first] = runner.collect(store, web_settings)
    assert first.new == 3, first
    [second] = runner.collect(store, web_settings)
    assert served["full"] == 1  # the second run got a 304: nothing re-downloaded
    assert second.new == 0 and second.status == "ok"


def test_crawl_depth_patterns_budget(store: Store, site: Site, web_settings: Settings) -> None:
    links = "".join(f'<a href="/news/{i}">n{i}</a>' for i in range(6))
    site["/"] = article("Home", "Front page. " + LOREM, extra="") .replace(
        "<footer>", f'<div>{links}<a href="/tag/x">tag</a><a href="http://example.com/out">o</a>'
        '<a href="/file.pdf">pdf</a><a href="/deep">deep</a></div><footer>')
    serve_articles(site, 6)
    site["/tag/x"] = article("Tag", LOREM)
    site["/deep"] = article("Deep", LOREM).replace("<footer>", '<a href="/deeper">x</a><footer>')
    site["/deeper"] = article("Deeper", LOREM)
    add(store, "crawl", "crawl", site.url("/"), depth=1, exclude=["/tag/"], max_pages=5)
    [report] = runner.collect(store, web_settings)
    assert report.status == "ok", report
    fetched = {p for p, _ in site.hits}
    assert "/tag/x" not in fetched and "/file.pdf" not in fetched and "/deeper" not in fetched
    assert sum(1 for p in fetched if p not in ("/robots.txt",)) == 5  # the budget
    add(store, "crawl-inc", "crawl", site.url("/"), depth=2, include=["/deep"], max_pages=50)
    runner.collect(store, web_settings, ["crawl-inc"])
    assert site.count("/deeper") == 1 and site.count("/news/5") <= 1


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>"""
XXE = """<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&x;</title></channel></rss>"""


def test_hostile_sources_recorded_and_collector_goes_on(
    store: Store, cli: Any, site: Site, web_settings: Settings
) -> None:
    good = serve_articles(site, 3, "/good/")
    # something stored before the hostile runs
    add(store, "good", "page", " ".join(good))
    assert runner.collect(store, web_settings, ["good"])[0].new == 3

    site["/malformed.xml"] = Reply("<rss><channel><item><title>x</channel>", content_type="application/rss+xml")
    site["/laughs.xml"] = Reply(BILLION_LAUGHS, content_type="application/rss+xml")
    site["/xxe.xml"] = Reply(XXE, content_type="application/rss+xml")
    site["/binary"] = Reply(b"\x00\x01\x02PK\x03\x04" * 500, content_type="text/html")
    nested = "<html><body>" + "<div>" * 100_000 + "deep text" + "</div>" * 100_000 + "</body></html>"
    site["/nested"] = nested
    site["/badmap.xml"] = Reply("<urlset><url><loc>x</loc></urlset>", content_type="application/xml")
    site["/to-metadata"] = Reply("", 302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    add(store, "malformed", "rss", site.url("/malformed.xml"))
    add(store, "laughs", "rss", site.url("/laughs.xml"))
    add(store, "xxe", "rss", site.url("/xxe.xml"))
    add(store, "binary", "page", site.url("/binary"))
    add(store, "nested", "page", site.url("/nested"))
    add(store, "badmap", "sitemap", site.url("/badmap.xml"))
    add(store, "redirect", "page", site.url("/to-metadata"))
    t0 = time.monotonic()
    reports = {r.source: r for r in runner.collect(store, web_settings)}
    assert time.monotonic() - t0 < 60
    assert reports["good"].status == "ok"
    status = status_json(cli)
    expect = {
        "malformed": "not well-formed XML",
        "laughs": "declares XML entities",
        "xxe": "declares XML entities",
        "binary": "binary content served as text/html",
        "badmap": "not well-formed XML",
        "redirect": "169.254.169.254",
    }
    for name, fragment in expect.items():
        assert status[name]["last_status"] == "error", (name, status[name])
        assert fragment in status[name]["last_error"], (name, status[name]["last_error"])
        assert status[name]["next_run_at"] is not None
    # 100,000 nested tags: no crash; either text or a clear "no main text"
    assert status["nested"]["last_status"] in ("ok", "error")
    assert status["good"]["last_error"] is None and status["good"]["items_total"] == 6  # two runs, 3 each
    assert len(docs(store)) >= 3 and all(u in docs(store) for u in good)  # nothing lost


def test_robots_and_guard_refusals_are_recorded(
    store: Store, cli: Any, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site["/robots.txt"] = Reply("User-agent: *\nDisallow: /\n", content_type="text/plain")
    site["/a"] = article("A", LOREM)
    settings = Settings()
    settings.allow_private_networks = True
    add(store, "robots", "page", site.url("/a"))
    runner.collect(store, settings)
    st = status_json(cli)["robots"]
    assert "robots.txt" in st["last_error"] and "forbids" in st["last_error"]
    settings.allow_private_networks = False
    runner.collect(store, settings)
    assert "SSRF guard" in status_json(cli)["robots"]["last_error"]
    assert site.count("/a") == 0


def test_429_then_success_through_runner(store: Store, site: Site, web_settings: Settings) -> None:
    calls = {"n": 0}

    def limited(h: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            h.send_response(429)
            h.send_header("Retry-After", "1")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = article("Limited", LOREM).encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    site["/limited"] = limited
    add(store, "limited", "page", site.url("/limited"))
    t0 = time.monotonic()
    [r] = runner.collect(store, web_settings)
    assert r.status == "ok" and r.new == 1 and calls["n"] == 2
    assert time.monotonic() - t0 >= 0.9  # waited as told


def test_charset_mislabels_through_runner(store: Store, site: Site, web_settings: Settings) -> None:
    cz = "Vláda v úterý oznámila, že nový plynovod bude dokončen do dvou let. Příliš žluťoučký kůň úpěl ďábelské ódy."
    ru = "Министерство заявило, что новые санкции не повлияют на экономику страны и её граждан в ближайшие годы."
    site["/cz"] = Reply(article("Zprávy", (cz + "\n") * 3, lang="cs", charset="utf-8").encode("cp1250"),
                        content_type="text/html; charset=utf-8")
    site["/ru"] = Reply(article("Новости", (ru + "\n") * 3, lang="ru", charset="utf-8").encode("koi8-r"),
                        content_type="text/html; charset=utf-8")
    add(store, "mislabelled", "page", f"{site.url('/cz')} {site.url('/ru')}")
    [r] = runner.collect(store, web_settings)
    assert r.new == 2, r
    stored = docs(store)
    assert "žluťoučký" in stored[site.url("/cz")]["text"]
    assert "санкции" in stored[site.url("/ru")]["text"]
