"""Fingerprints from archived HTML: what a real page carries, and bounded time on hostile pages."""

from __future__ import annotations

import base64
import hashlib
import time

import pytest

from fimiscope.extract.fingerprints import Limits, favicon_hash, fingerprint_page, normalize, registrable
from fimiscope.extract.html import nesting_depth

ICON = b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(range(200))

CFEMAIL = "42" + bytes(b ^ 0x42 for b in b"ops@netmail.example").hex()
PAGE = f"""<!doctype html><html><head>
<meta charset="utf-8"><title>Daily Truth</title>
<meta name="generator" content="WordPress 6.4.2">
<meta name="google-site-verification" content="AbCdEf123_-xyz">
<meta name="yandex-verification" content="4269ffb7df562160">
<meta name="msvalidate.01" content="0123456789ABCDEF">
<meta name="twitter:site" content="@DailyTruthNews">
<meta property="fb:app_id" content="123456789012345">
<link rel="icon" href="data:image/x-icon;base64,{base64.b64encode(ICON).decode()}">
<link rel="stylesheet" href="https://daily-truth.example/wp-content/themes/newsmag-pro/style.css?ver=1">
<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">
<script src="https://www.googletagmanager.com/gtag/js?id=G-ABCD1234EF"></script>
<script src="https://cdn.jsdelivr.net/npm/jquery@3/dist/jquery.min.js"></script>
<script src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-1234567890123456"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  gtag('config', 'G-ABCD1234EF');
  ga('create', 'UA-14540629-3', 'auto');
  (function(w,d,s,l,i){{w[l]=w[l]||[];}})(window,document,'script','dataLayer','GTM-K9X2ZQ');
  ym(10970266, "init", {{clickmap:true}});
  var _tmr = window._tmr || (window._tmr = []); _tmr.push({{id: "3215412", type: "pageView"}});
  fbq('init', '998877665544332');
  var _paq = window._paq = []; var u="https://stats.other-host.example/";
  _paq.push(['setTrackerUrl', u+'matomo.php']); _paq.push(['setSiteId', '7']);
</script>
<noscript><img src="https://mc.yandex.ru/watch/10970266" alt=""></noscript>
</head><body class="home page-template td-theme-daily tdx-grid-77 post-1234">
<header><nav><a href="https://t.me/dailytruth_channel">Telegram</a>
<a href="https://vk.com/dailytruth">VK</a></nav></header>
<main><article><p>Quoting <a href="https://twitter.com/someone/status/123">someone</a>
and <a href="https://www.bbc.co.uk/news/1">the BBC</a> and <a href="https://news.bbc.co.uk/2">again</a>.</p>
<p>Donate: 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq
or 0x52908400098527886E0F7030069857D2E4169EE7. Not a wallet: 1d1ffcb3b1fc38c54e266ed85e22145a.</p>
<ins class="adsbygoogle" data-ad-client="ca-pub-1234567890123456"></ins>
</article></main>
<footer>Contact: <a href="mailto:editor@daily-truth.example">editor</a>, tips@protonmail.com,
<a href="tel:+420 123 456 789">call</a>, logo@2x.png
<a href="/cdn-cgi/l/email-protection" data-cfemail="{CFEMAIL}">x</a>
<a href="https://www.youtube.com/@dailytruthtv">YouTube</a></footer>
</body></html>"""


def kinds(result, kind):
    return {f.value for f in result.by_kind(kind)}


def test_fingerprints_of_a_real_shaped_page():
    got = fingerprint_page(PAGE.encode(), "https://www.daily-truth.example/2026/10/story")
    assert kinds(got, "ga") == {"UA-14540629"}
    assert kinds(got, "ga4") == {"G-ABCD1234EF"}
    assert kinds(got, "gtm") == {"GTM-K9X2ZQ"}
    assert kinds(got, "adsense") == {"pub-1234567890123456"}
    assert kinds(got, "yandex_metrica") == {"10970266"}
    assert kinds(got, "mailru_top") == {"3215412"}
    assert kinds(got, "facebook_pixel") == {"998877665544332"}
    assert kinds(got, "facebook_app") == {"123456789012345"}
    assert kinds(got, "matomo") == {"stats.other-host.example/7"}
    assert kinds(got, "verification") == {"google:AbCdEf123_-xyz", "yandex:4269ffb7df562160",
                                          "bing:0123456789ABCDEF"}
    assert kinds(got, "cms") == {"wordpress"}
    assert kinds(got, "theme") == {"wordpress:newsmag-pro"}
    assert {"fonts.googleapis.com", "cdn.jsdelivr.net", "googletagmanager.com"} <= kinds(got, "asset_host")
    assert "daily-truth.example" not in kinds(got, "asset_host")  # its own host is no asset host
    assert kinds(got, "social") == {"twitter:dailytruthnews", "telegram:dailytruth_channel", "vk:dailytruth",
                                    "youtube:dailytruthtv"}  # the quoted tweet is not the site's account
    assert kinds(got, "wallet") == {"btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
                                    "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                                    "eth:0x52908400098527886E0F7030069857D2E4169EE7"}
    assert kinds(got, "email") == {"editor@daily-truth.example", "tips@protonmail.com", "ops@netmail.example"}
    assert kinds(got, "phone") == {"+420123456789"}
    assert kinds(got, "favicon") == {str(favicon_hash(ICON))}
    assert got.outbound == {"bbc.co.uk": 2, "t.me": 1, "vk.com": 1, "twitter.com": 1, "youtube.com": 1}
    assert "td-theme-daily" in got.classes and "page-template" in got.classes
    assert "home" not in got.classes and "post-1234" not in got.classes and "tdx-grid-77" in got.classes
    where = {(f.kind, f.where) for f in got.fingerprints}
    assert ("verification", "meta[name=google-site-verification]") in where
    assert ("yandex_metrica", "img[src]") in where and ("yandex_metrica", "inline script") in where
    assert ("social", "a[href] in header/footer/nav") in where
    assert not got.notes


def test_favicon_hash_is_the_shodan_one():
    # mmh3 of base64 with newlines every 76 characters, signed 32-bit: what Shodan's
    # http.favicon.hash and other tools compare.
    import mmh3

    data = bytes(range(256)) * 3
    b64 = base64.encodebytes(data)
    assert b64.count(b"\n") == len(b64) // 77 + (1 if len(b64) % 77 else 0)
    assert favicon_hash(data) == mmh3.hash(b64)
    assert -(2**31) <= favicon_hash(data) < 2**31


def test_normalize_makes_imports_and_pages_compare_equal():
    assert normalize("ga", "UA-14540629") == normalize("ga", "UA-14540629-3") == "UA-14540629"
    assert normalize("ga4", "GXGS20BWBJ") == "G-GXGS20BWBJ"
    assert normalize("yandex_metrica", "ym(10970266") == "10970266"
    assert normalize("adsense", "ca-pub-1234567890123456") == "pub-1234567890123456"
    assert normalize("ga", "not an id") is None
    assert registrable("static.news.bbc.co.uk") == "bbc.co.uk"
    assert registrable("www.Example.COM") == "example.com"


def test_site_fingerprints_work_without_a_url_and_on_str():
    got = fingerprint_page("<script>ga('create','UA-1234567-1')</script>")
    assert kinds(got, "ga") == {"UA-1234567"}


def test_broken_markup_still_yields_ids():
    html = '<html><head><meta name="yandex-verification" content="abc123"<script>ym(55564264,"init")' \
           '</scr<ipt><div class="x"><<<>>><a href="mailto:a@b.example'
    got = fingerprint_page(html)
    assert kinds(got, "yandex_metrica") == {"55564264"} or kinds(got, "verification")  # whatever survives
    fingerprint_page(b"\xff\xfe\x00\x00garbage\x00" * 1000)  # binary: no exception
    fingerprint_page(b"")


HOSTILE = {
    "megabyte attribute": lambda: '<a class="' + "x" * 3_000_000 + '" href="https://t.me/' + "a" * 2_000_000 + '">',
    "thousands of scripts": lambda: "<script>var a='UA-1234567-1';</script>" * 20_000,
    "scripts with ids": lambda: "".join(f"<script>ga('create','UA-{1000000 + i}-1')</script>" for i in range(5000)),
    "deep nesting": lambda: "<div>" * 200_000 + "<script>ym(12345678,'init')</script>",
    "never-closed tags": lambda: "<a" * 1_000_000,
    "unclosed quotes": lambda: '<meta content="' + "<x " * 300_000,
    "email-like runs": lambda: ("a" * 60 + "@") * 50_000,
    "wallet-like runs": lambda: ("1" + "A" * 33 + " ") * 60_000,
    "many classes": lambda: "".join(f'<p class="c{i}a c{i}b c{i}c">' for i in range(100_000)),
    "misnested formatting": lambda: "<b><i><u><s>x</b></i></u></s>" * 50_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_html_has_bounded_extraction_time(name):
    html = HOSTILE[name]()
    start = time.perf_counter()
    got = fingerprint_page(html.encode(), "https://hostile.example/")
    took = time.perf_counter() - start
    # The deadline is 2 s of walking; parsing and decoding come on top. 10 s leaves room for a
    # loaded CI machine and still fails the quadratic cases (minutes).
    assert took < 10, f"{name}: {took:.1f}s"
    assert len(got.fingerprints) <= 200 * 30
    assert len(got.classes) <= 500


def test_hostile_pages_say_what_was_cut():
    got = fingerprint_page(("<div>" * 2000 + "<script>ym(12345678,'init')</script>").encode())
    assert kinds(got, "yandex_metrica") == {"12345678"}  # the flat scan still reads it
    assert any("flat tag scan" in n for n in got.notes)
    many = fingerprint_page("".join(f"<script>ga('create','UA-{1000000 + i}-1')</script>" for i in range(300)))
    assert len(many.by_kind("ga")) == 200 and any("more than 200 ga" in n for n in many.notes)
    tight = fingerprint_page("<p>x</p>" * 10_000, limits=Limits(max_elements=100))
    assert any("elements" in n for n in tight.notes)


def test_nesting_depth_is_linear_on_never_closed_tags():
    start = time.perf_counter()
    assert nesting_depth("<a" * 2_000_000) == 0
    assert nesting_depth("<div>" * 1500) == 1001  # stops counting past the limit
    assert time.perf_counter() - start < 2


def test_wallet_checksums_reject_hashes():
    md5s = " ".join(hashlib.md5(str(i).encode()).hexdigest() for i in range(200))
    assert not fingerprint_page(f"<p>{md5s}</p>").by_kind("wallet")
