"""Infrastructure fingerprints from a page's archived HTML: the ids, tokens and assets that sites
run by the same hands tend to share (analytics and tag ids, site-verification tokens, wallets,
theme, asset hosts, favicon, social handles, contacts, the outbound link profile).

Pure functions over bytes: no network, no store. ``fingerprint_page`` never raises on bad
input and its time is bounded whatever the page does (size, attribute and element caps, a
deadline, and a flat tag scan instead of a tree for pages nested deeper than browsers nest);
what it had to cut is said in ``PageFingerprints.notes``. How much each kind of fingerprint
counts as evidence is the detector's business (detect/infrastructure.py), not this module's.

The tree is built with selectolax's lexbor parser: the fastest of lxml, lexbor and resiliparse
at walking every element's attributes (benchmarks/infrastructure_bench.py, docs/benchmarks.md).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from fimiscope.core.indicators import (
    KINDS,
    VERIFICATION_META,
    WALLET_PATTERNS,
    favicon_hash,
    normalize,
    registrable,
    valid_wallet,
)
from fimiscope.extract.html import MAX_DEPTH, decode, iter_tags, nesting_depth

__all__ = ["KINDS", "Fingerprint", "Limits", "PageFingerprints", "favicon_hash", "fingerprint_page", "normalize",
           "registrable"]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """One indicator seen on one page: ``kind`` and a ``value`` normalised so that two sites
    showing the same thing compare equal; ``where`` says where on the page it was seen and
    ``snippet`` quotes it (cut to 200 characters)."""

    kind: str
    value: str
    where: str
    snippet: str = ""


@dataclass(slots=True)
class Limits:
    """Caps that bound extraction time on hostile pages; each cut is reported in ``notes``."""

    max_bytes: int = 5 * 1024 * 1024
    max_attr_chars: int = 4096
    max_elements: int = 100_000
    max_inline_scripts: int = 1000
    max_script_chars: int = 2 * 1024 * 1024  # all inline scripts together
    max_text_chars: int = 1024 * 1024  # visible text scanned for wallets and e-mails
    max_per_kind: int = 200
    max_classes: int = 500
    max_outbound: int = 300
    max_favicon_bytes: int = 256 * 1024
    deadline_s: float = 2.0


@dataclass(slots=True)
class PageFingerprints:
    url: str | None
    fingerprints: list[Fingerprint] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # distinctive CSS classes, sorted
    outbound: dict[str, int] = field(default_factory=dict)  # linked domain -> links
    favicon_url: str | None = None  # for the optional look-up that fetches and hashes it
    notes: list[str] = field(default_factory=list)

    def by_kind(self, kind: str) -> list[Fingerprint]:
        return [f for f in self.fingerprints if f.kind == kind]


# -- ids in scripts, URLs and attributes ---------------------------------------------------------
# Every pattern is linear: bounded repetitions, no nested quantifiers.
_IDS: list[tuple[str, re.Pattern[str]]] = [
    ("ga", re.compile(r"\bUA-(\d{4,10})-\d{1,4}\b")),
    ("ga4", re.compile(r"\b(G-[A-Z0-9]{6,12})\b")),
    ("gtm", re.compile(r"\b(GTM-[A-Z0-9]{4,9})\b")),
    ("google_ads", re.compile(r"\b(AW-\d{6,12})\b")),
    ("adsense", re.compile(r"\b(?:ca-)?pub-(\d{16})\b")),
    ("yandex_metrica", re.compile(r"\bym\(\s{0,5}(\d{4,10})\s{0,5},\s{0,5}[\"']init")),
    ("yandex_metrica", re.compile(r"mc\.yandex\.(?:ru|com|by|kz|ua|com\.tr)/watch/(\d{4,10})")),
    ("yandex_metrica", re.compile(r"\byaCounter(\d{4,10})\b")),
    ("yandex_metrica", re.compile(r"Ya\.Metrika2?\(\s{0,5}\{\s{0,5}id\s{0,5}:\s{0,5}(\d{4,10})")),
    ("mailru_top", re.compile(r"top-fwz1\.mail\.ru/(?:counter|js/code\.js)\?id=(\d{3,10})")),
    ("mailru_top", re.compile(r"_tmr\.push\(\s{0,5}\{\s{0,5}id\s{0,5}:\s{0,5}[\"']?(\d{3,10})")),
    ("mailru_top", re.compile(r"top\.mail\.ru/jump\?from=(\d{3,10})")),
    ("facebook_pixel", re.compile(r"fbq\(\s{0,5}[\"']init[\"']\s{0,5},\s{0,5}[\"']?(\d{10,20})")),
    ("facebook_pixel", re.compile(r"facebook\.com/tr/?\?id=(\d{10,20})")),
    ("adobe", re.compile(r"assets\.adobedtm\.com/([0-9a-f]{6,40}/(?:[0-9a-f]{6,40}/)?launch-[\w-]{4,40})"
                         r"(?:\.min)?\.js")),
    ("adobe", re.compile(r"\bs_account\s{0,5}=\s{0,5}[\"']([\w,.-]{2,100})[\"']")),
]
_MATOMO_SITE = re.compile(r"""setSiteId['"]\s{0,5},\s{0,5}['"]?(\d{1,6})""")
_MATOMO_URL = re.compile(r"""(?:setTrackerUrl['"]\s{0,5},\s{0,5}|var\s{1,5}u\s{0,5}=\s{0,5})['"]([^'"\s]{3,300})['"]""")
_MATOMO_IMG = re.compile(r"([\w.-]{1,200})/(?:matomo|piwik)\.php\?idsite=(\d{1,6})")

_THEME = [
    ("wordpress", re.compile(r"/wp-content/themes/([\w.-]{1,80})/")),
    ("bitrix", re.compile(r"/bitrix/templates/([\w.-]{1,80})/")),
    ("drupal", re.compile(r"/(?:sites/[\w.-]{1,80}/)?themes/(?:custom/|contrib/)?([\w-]{1,80})/"
                          r"(?:css|js|images|dist|logo)")),
    ("joomla-or-dle", re.compile(r"/templates/([\w-]{1,80})/(?:css|js|images|style|fonts)/")),
]
_CMS_PATH = [("wordpress", "/wp-content/"), ("wordpress", "/wp-includes/"), ("bitrix", "/bitrix/"),
             ("drupal", "/sites/default/files/"), ("joomla", "/media/jui/"), ("ghost", "/ghost/")]

_WALLET_CANDIDATE = re.compile(
    r"(?<![\w])(?:[13LMT4][1-9A-HJ-NP-Za-km-z]{25}|bc1[ac-hj-np-z02-9]{11}|0x[0-9a-fA-F]{40})"
)
_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24})"
)
_NOT_EMAIL_TLDS = frozenset("png jpg jpeg gif webp svg css js ico bmp avif".split())

# -- social profiles -------------------------------------------------------------------------------
_SOCIAL_HOSTS = {
    "t.me": "telegram", "telegram.me": "telegram", "vk.com": "vk", "vk.ru": "vk", "ok.ru": "ok",
    "facebook.com": "facebook", "fb.com": "facebook", "twitter.com": "twitter", "x.com": "twitter",
    "youtube.com": "youtube", "instagram.com": "instagram", "tiktok.com": "tiktok", "rutube.ru": "rutube",
    "dzen.ru": "dzen", "rumble.com": "rumble", "gab.com": "gab", "truthsocial.com": "truthsocial",
}
_SOCIAL_SKIP = frozenset(
    "share sharer sharer.php share.php intent home hashtag i search login signup dialog plugins tr away.php "
    "watch embed s joinchat iframe_api widgets.js explore about help privacy legal policies tos".split()
)
_HANDLE = re.compile(r"^@?[\w.-]{2,80}$")

# Classes every framework and CMS emits: they say nothing about who runs a site.
_COMMON_CLASSES = frozenset(
    """active clearfix container container-fluid row hidden visible disabled selected current show hide fade
    collapse collapsed navbar nav nav-item nav-link dropdown dropdown-menu dropdown-item btn btn-primary
    btn-default btn-link form-control form-group input-group img-responsive img-fluid pull-left pull-right
    text-center text-left text-right sr-only screen-reader-text skip-link fa fas far fab icon icons left right
    first last odd even menu menu-item menu-item-type-custom menu-item-object-custom menu-item-type-post_type
    menu-item-object-page menu-item-object-category menu-item-type-taxonomy current-menu-item sub-menu
    widget widget-title widget_text entry-content entry-title entry-meta post page home blog single wrapper
    wrap inner content main header footer sidebar logo title link links item items list button close
    search-form search-field search-submit alignleft alignright aligncenter wp-block-image
    """.split()
)
_DIGITS3 = re.compile(r"\d{3,}")
_CLASS_OK = re.compile(r"^[a-zA-Z_-][\w-]{2,60}$")

_SCRIPT_HINTS = ("UA-", "G-", "GTM-", "AW-", "pub-", "ym(", "yandex", "Metrika", "yaCounter", "_tmr", "mail.ru",
                 "fbq", "facebook.com/tr", "adobedtm", "s_account", "_paq", "matomo", "piwik")
_SCRIPT_HINT = re.compile("|".join(re.escape(h) for h in _SCRIPT_HINTS))
_URL_ATTRS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src"}
_NAV_TAGS = frozenset({"header", "footer", "nav"})


def _host(url: str) -> str:
    """The host of an absolute URL, lower-cased, without urlsplit's cost on the hot path."""
    rest = url.split("//", 1)[1] if "//" in url[:12] else url
    end = len(rest)
    for sep in "/?#":
        i = rest.find(sep, 0, end)
        if i >= 0:
            end = i
    host = rest[:end].rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else ""
    return host.split(":", 1)[0].lower().strip(".")


class _Collector:
    """Per-page accumulator: dedups (kind, value, where) and caps each kind."""

    def __init__(self, url: str | None, limits: Limits) -> None:
        self.url = url
        self.limits = limits
        self.host = (urlsplit(url).hostname or "").lower() if url else ""
        self.site = registrable(self.host) if self.host else ""
        self.items: dict[tuple[str, str, str], Fingerprint] = {}
        self.per_kind: Counter[str] = Counter()
        self.notes: list[str] = []
        self.classes: set[str] = set()
        self.outbound: Counter[str] = Counter()
        self.favicon_url: str | None = None
        self.script_chars = 0
        self.inline_scripts = 0
        self.cms_hint: str | None = None

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def add(self, kind: str, value: str | None, where: str, snippet: str = "") -> None:
        if value is None:
            return
        norm = normalize(kind, value)
        if not norm:
            return
        key = (kind, norm, where)
        if key in self.items:
            return
        if self.per_kind[kind] >= self.limits.max_per_kind:
            self.note(f"more than {self.limits.max_per_kind} {kind} fingerprints; the rest ignored")
            return
        self.per_kind[kind] += 1
        self.items[key] = Fingerprint(kind, norm, where, snippet[:200])

    def own(self, host: str) -> bool:
        """True when ``host`` belongs to the page's own site (same registrable domain)."""
        return bool(self.site) and registrable(host) == self.site

    # -- element handlers ------------------------------------------------------------------------

    def scan_ids(self, text: str, where: str) -> None:
        if not _SCRIPT_HINT.search(text):
            return  # most scripts carry no id: skip the regex set
        for kind, rx in _IDS:
            for m in rx.finditer(text):
                self.add(kind, m.group(1), where, text[max(m.start() - 40, 0) : m.end() + 40])
        site = _MATOMO_SITE.search(text)
        if site:
            url = _MATOMO_URL.search(text)
            host = (urlsplit(url.group(1) if "//" in url.group(1) else "//" + url.group(1)).hostname or "") if url \
                else ""
            if not host or host == self.host:
                host = self.site or host  # self-hosted Matomo: the site is the tracker
            self.add("matomo", f"{host}/{site.group(1)}", where, text[max(site.start() - 60, 0) : site.end() + 20])
        for m in _MATOMO_IMG.finditer(text):
            self.add("matomo", f"{registrable(m.group(1).split('//')[-1])}/{m.group(2)}", where, m.group(0))

    def url_attr(self, tag: str, raw: str, rel: str) -> None:
        url = raw.strip()[: self.limits.max_attr_chars]
        if not url or url.startswith(("#", "javascript:")):
            return
        if tag == "link" and "icon" in rel:
            self.favicon(url)
        if url.startswith("data:"):
            return
        where = f"{tag}[{_URL_ATTRS[tag]}]"
        self.scan_ids(url, where)
        self.theme(url, where)
        if not url.startswith(("http://", "https://", "//")) or tag == "iframe":
            return  # a relative URL is the site's own; an iframe is embedded content, not an asset
        host = _host(url)
        if host and not self.own(host):
            self.add("asset_host", host, where, url)

    def theme(self, url: str, where: str) -> None:
        if "/wp-" not in url and "/bitrix/" not in url and "/themes/" not in url and "/templates/" not in url \
                and "/sites/" not in url and "/media/" not in url and "/ghost/" not in url:
            return  # most URLs: no CMS path at all
        path = urlsplit(url).path if "//" in url else url
        for cms, prefix in _CMS_PATH:
            if prefix in path:
                self.cms_hint = self.cms_hint or cms
        if "/themes/" not in path and "/templates/" not in path:
            return
        for cms, rx in _THEME:
            m = rx.search(path)
            if m:
                self.add("theme", f"{cms}:{m.group(1)}", where, url)
                return

    def favicon(self, url: str) -> None:
        if url.startswith("data:"):
            head, _, data = url.partition(",")
            if ";base64" in head and len(data) <= self.limits.max_favicon_bytes * 4 // 3 + 4:
                try:
                    raw = base64.b64decode(data, validate=False)
                except (binascii.Error, ValueError):
                    return
                self.add("favicon", str(favicon_hash(raw)), "link[rel=icon] data: URI")
            return
        if self.favicon_url is None:
            self.favicon_url = urljoin(self.url, url) if self.url else url

    def meta(self, attrs: dict[str, str | None]) -> None:
        name = (attrs.get("name") or attrs.get("property") or "").strip().lower()[:100]
        content = (attrs.get("content") or "").strip()[: self.limits.max_attr_chars]
        if not name or not content:
            return
        where = f"meta[{'name' if attrs.get('name') else 'property'}={name}]"
        if name in VERIFICATION_META:
            self.add("verification", f"{VERIFICATION_META[name]}:{content}", where, content)
        elif name == "generator":
            family = re.split(r"[\s/;,]", content.lower(), maxsplit=1)[0]
            self.add("cms", family, where, content)
        elif name in ("twitter:site", "twitter:creator"):
            handle = content.rsplit("/", 1)[-1].lstrip("@")
            if _HANDLE.match(handle):
                self.add("social", f"twitter:{handle}", where, content)
        elif name == "fb:app_id":
            self.add("facebook_app", content, where, content)
        elif name in ("fb:pages", "fb:admins"):
            for part in content.split(",")[:20]:
                if part.strip().isdigit():
                    self.add("social", f"facebook:{part.strip()}", where, content)
        elif name == "article:publisher":
            self.link_social(content, where)

    def anchor(self, href: str, in_nav: bool) -> None:
        href = href.strip()[: self.limits.max_attr_chars]
        low = href.lower()
        if low.startswith("mailto:"):
            addr = unquote(href[7:].split("?", 1)[0]).strip()
            if _EMAIL.fullmatch(addr):
                self.add("email", addr, "a[href=mailto:]", href)
            return
        if low.startswith("tel:"):
            digits = re.sub(r"[^\d+]", "", href[4:])
            if len(digits.lstrip("+")) >= 7:
                self.add("phone", digits, "a[href=tel:]", href)
            return
        if low.startswith(("bitcoin:", "ethereum:", "litecoin:", "monero:", "tron:")):
            self.wallets(href.split(":", 1)[1].split("?", 1)[0], "a[href] payment URI")
            return
        if "//" not in href:
            return
        absolute = "https:" + href if href.startswith("//") else href
        host = _host(absolute)
        if not host:
            return
        if not self.own(host):
            dom = registrable(host)
            if dom in self.outbound or len(self.outbound) < self.limits.max_outbound:
                self.outbound[dom] += 1
        self.link_social(absolute, "a[href] in header/footer/nav" if in_nav else "a[href]")

    def link_social(self, url: str, where: str) -> None:
        """A link to a profile (not to a post: quoting someone is not running their account)."""
        parts = urlsplit(url if "//" in url else "https://" + url)
        host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
        platform = _SOCIAL_HOSTS.get(host)
        if platform is None:
            return
        segs = [s for s in parts.path.split("/") if s][:4]
        if platform == "facebook" and segs[:1] == ["profile.php"]:
            segs = [parse_qs(parts.query).get("id", [""])[0]]
        elif segs[:1] in (["channel"], ["c"], ["user"], ["group"], ["s"]) and len(segs) > 1:
            segs = segs[1:]  # youtube.com/channel/ID, ok.ru/group/ID, t.me/s/name
        elif platform == "youtube" and segs and not segs[0].startswith("@"):
            return
        if len(segs) != 1:
            return
        handle = segs[0].lstrip("@").lower()
        if handle in _SOCIAL_SKIP or not _HANDLE.match(handle):
            return
        self.add("social", f"{platform}:{handle}", where, url)

    def classes_of(self, value: str) -> None:
        if len(self.classes) >= self.limits.max_classes:
            return
        for token in value[: self.limits.max_attr_chars].split():
            if token in self.classes or token.lower() in _COMMON_CLASSES:
                continue
            if not _CLASS_OK.match(token) or _DIGITS3.search(token):
                continue  # generated (post-1234, menu-item-767) or junk
            self.classes.add(token)
            if len(self.classes) >= self.limits.max_classes:
                self.note(f"more than {self.limits.max_classes} distinctive CSS classes; the rest ignored")
                return

    def wallets(self, text: str, where: str) -> None:
        if not _WALLET_CANDIDATE.search(text):
            return  # one pass over the text instead of one per coin
        for coin, rx in WALLET_PATTERNS:
            for m in rx.finditer(text):
                addr = m.group(1)
                if valid_wallet(coin, addr):
                    self.add("wallet", f"{coin}:{addr}", where, text[max(m.start() - 40, 0) : m.end() + 20])

    def text(self, text: str, where: str = "text") -> None:
        if len(text) > self.limits.max_text_chars:
            self.note(f"visible text cut at {self.limits.max_text_chars:,} characters for wallets and e-mails")
            text = text[: self.limits.max_text_chars]
        self.wallets(text, where)
        if "@" in text:
            for m in _EMAIL.finditer(text):
                addr = m.group(1)
                if addr.rsplit(".", 1)[-1].lower() in _NOT_EMAIL_TLDS:
                    continue
                self.add("email", addr, where, text[max(m.start() - 30, 0) : m.end() + 10])

    def inline_script(self, text: str, where: str = "inline script") -> None:
        self.inline_scripts += 1
        if self.inline_scripts > self.limits.max_inline_scripts:
            self.note(f"more than {self.limits.max_inline_scripts} inline scripts; the rest ignored")
            return
        room = self.limits.max_script_chars - self.script_chars
        if room <= 0:
            self.note(f"inline scripts past {self.limits.max_script_chars:,} characters ignored")
            return
        text = text[:room]
        self.script_chars += len(text)
        self.scan_ids(text, where)
        self.theme_in_text(text, where)

    def theme_in_text(self, text: str, where: str) -> None:
        if "/themes/" in text or "/templates/" in text:
            for m in re.finditer(r"[\w:/.-]{0,200}/(?:themes|templates)/[\w.-]{1,80}/", text[:200_000]):
                self.theme(m.group(0), where)

    def cfemail(self, hexstr: str) -> None:
        """Cloudflare's e-mail obfuscation: the first byte is the XOR key of the rest."""
        try:
            raw = bytes.fromhex(hexstr[:400])
        except ValueError:
            return
        if len(raw) < 4:
            return
        addr = bytes(b ^ raw[0] for b in raw[1:]).decode("latin-1")
        if _EMAIL.fullmatch(addr):
            self.add("email", addr, "[data-cfemail]", hexstr[:60])

    def result(self) -> PageFingerprints:
        if self.cms_hint and not self.per_kind["cms"]:
            self.add("cms", self.cms_hint, "asset paths")
        return PageFingerprints(
            url=self.url,
            fingerprints=list(self.items.values()),
            classes=sorted(self.classes),
            outbound=dict(self.outbound.most_common()),
            favicon_url=self.favicon_url,
            notes=self.notes,
        )


def fingerprint_page(
    html: bytes | str, url: str | None = None, *, encoding: str | None = None, limits: Limits | None = None
) -> PageFingerprints:
    """Every fingerprint on one page. Never raises on bad input; time is bounded by ``limits``."""
    lim = limits or Limits()
    col = _Collector(url, lim)
    if isinstance(html, bytes):
        if len(html) > lim.max_bytes:
            col.note(f"page cut at {lim.max_bytes:,} bytes")
        text = decode(html[: lim.max_bytes], encoding)
    else:
        if len(html) > lim.max_bytes:
            col.note(f"page cut at {lim.max_bytes:,} characters")
        text = html[: lim.max_bytes]
    deadline = time.monotonic() + lim.deadline_s
    if text.count("<") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:  # fewer tags cannot nest deeper
        # A tree parser's time grows with the square of the depth; a flat scan's does not.
        col.note(f"nested deeper than {MAX_DEPTH} levels: read with a flat tag scan, not a tree")
        _walk_flat(text, col, deadline)
    else:
        _walk_tree(text, col, deadline)
    return col.result()


def _handle(col: _Collector, tag: str, attrs: dict[str, str | None], in_nav: bool) -> None:
    cls = attrs.get("class")
    if cls:
        col.classes_of(cls)
    if tag in _URL_ATTRS:
        value = attrs.get(_URL_ATTRS[tag])
        if value:
            col.url_attr(tag, value, (attrs.get("rel") or "").lower())
    if tag == "meta":
        col.meta(attrs)
    elif tag == "a":
        href = attrs.get("href")
        if href:
            col.anchor(href, in_nav)
    elif tag == "ins":
        client = attrs.get("data-ad-client")
        if client:
            col.add("adsense", client, "ins[data-ad-client]", client)
    cf = attrs.get("data-cfemail")
    if cf:
        col.cfemail(cf)


def _walk_tree(text: str, col: _Collector, deadline: float) -> None:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text)
    root = tree.root
    if root is None:
        return
    seen = 0
    for node in root.traverse(include_text=False):
        seen += 1
        if seen > col.limits.max_elements:
            col.note(f"more than {col.limits.max_elements:,} elements; the rest ignored")
            break
        if seen % 512 == 0 and time.monotonic() > deadline:
            col.note(f"stopped after {col.limits.deadline_s:g}s (extraction deadline)")
            break
        tag = node.tag
        if not tag or tag.startswith("-"):
            continue
        try:
            attrs = node.attributes
        except (UnicodeDecodeError, ValueError):
            col.note("undecodable attribute skipped")
            continue
        if tag == "script":
            if not attrs.get("src"):
                col.inline_script(node.text(deep=True) or "")
        elif tag == "noscript":
            col.inline_script(node.text(deep=True) or "", "noscript")
        in_nav = False
        if tag == "a" and _maybe_social(attrs.get("href") or ""):
            in_nav = _inside_nav(node)
        _handle(col, tag, attrs, in_nav)
    body = tree.body
    if body is not None and time.monotonic() <= deadline:
        col.text(_visible_text(body))


def _maybe_social(href: str) -> bool:
    low = href[:200].lower()
    return any(h in low for h in _SOCIAL_HOSTS)


def _inside_nav(node: object) -> bool:
    parent = getattr(node, "parent", None)
    for _ in range(40):
        if parent is None:
            return False
        if getattr(parent, "tag", None) in _NAV_TAGS:
            return True
        parent = parent.parent
    return False


def _visible_text(body: object) -> str:
    parts: list[str] = []
    size = 0
    for node in body.traverse(include_text=True):  # type: ignore[attr-defined]
        if node.tag == "-text":
            parent = node.parent
            if parent is not None and parent.tag in ("script", "style", "noscript", "template"):
                continue
            chunk = node.text_content or ""
            parts.append(chunk)
            size += len(chunk)
            if size > 1_100_000:
                break
    return " ".join(parts)


# -- the flat path for hostile nesting ----------------------------------------------------------
_FLAT_ATTR = re.compile(r"""([^\s=/>"']{1,100})(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _walk_flat(text: str, col: _Collector, deadline: float) -> None:
    seen = 0
    for _start, end, closing, tag, attr_text in iter_tags(text):
        if closing:
            continue
        seen += 1
        if seen > col.limits.max_elements:
            col.note(f"more than {col.limits.max_elements:,} elements; the rest ignored")
            break
        if seen % 512 == 0 and time.monotonic() > deadline:
            col.note(f"stopped after {col.limits.deadline_s:g}s (extraction deadline)")
            break
        attrs: dict[str, str | None] = {}
        for am in _FLAT_ATTR.finditer(attr_text[: col.limits.max_attr_chars * 2]):
            name = am.group(1).lower()
            if name not in attrs:
                attrs[name] = am.group(2) or am.group(3) or am.group(4) or ""
        if tag in ("script", "noscript") and not attrs.get("src"):
            stop = text.find(f"</{tag}", end, end + col.limits.max_script_chars)
            col.inline_script(text[end : stop if stop >= 0 else end + 100_000],
                              "inline script" if tag == "script" else "noscript")
        _handle(col, tag, attrs, False)
    if time.monotonic() <= deadline:
        visible = text[: col.limits.max_text_chars * 2]
        parts, last = [], 0
        for start, end, *_rest in iter_tags(visible):
            parts.append(visible[last:start])
            last = end
        parts.append(visible[last:])
        col.text(" ".join(parts))
