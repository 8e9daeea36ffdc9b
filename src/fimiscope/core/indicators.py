"""The vocabulary of infrastructure indicators: the kinds an analyst compares across sites and
the one normal form of each value, shared by page fingerprints (extract/fingerprints.py),
network look-ups and imported indicator files (collect/), so that the same id from any of
them compares equal. Pure functions: no I/O."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache

# What each kind is, in the analyst's words. How much each counts is detect/infrastructure.py's call.
KINDS: dict[str, str] = {
    "ga": "Google Analytics (Universal) account",
    "ga4": "Google Analytics 4 measurement id",
    "gtm": "Google Tag Manager container",
    "google_ads": "Google Ads conversion id",
    "adsense": "Google AdSense publisher id",
    "yandex_metrica": "Yandex Metrica counter",
    "mailru_top": "Mail.ru Top counter",
    "facebook_pixel": "Facebook pixel",
    "facebook_app": "Facebook app id",
    "adobe": "Adobe Analytics / Launch property",
    "matomo": "Matomo site (tracker host / site id)",
    "verification": "site-verification token",
    "wallet": "crypto wallet address",
    "asset_host": "embedded CDN / asset host",
    "cms": "CMS (generator)",
    "theme": "CMS theme or template",
    "favicon": "favicon (mmh3 hash, as Shodan computes it)",
    "social": "social media handle",
    "email": "contact e-mail",
    "phone": "contact phone",
    "outbound": "outbound link domain",
    "css_classes": "set of distinctive CSS classes",
    # from network look-ups and imported files
    "ip": "IP address",
    "subnet": "/24 subnet",
    "ns": "name server",
    "mx": "mail exchanger",
    "spf": "SPF mail sender",
    "tls_cert": "TLS certificate (SHA-256)",
    "tls_san": "other name in the TLS certificate",
    "tls_issuer": "TLS certificate issuer",
    "whois_registrant": "WHOIS registrant",
    "whois_registrar": "WHOIS registrar",
    "uuid": "embedded id",
    # computed by comparing sites
    "domain_name": "same name under another suffix",
    "asset_link": "assets loaded from another site's domain",
}

VERIFICATION_META = {
    "google-site-verification": "google",
    "yandex-verification": "yandex",
    "msvalidate.01": "bing",
    "facebook-domain-verification": "facebook",
    "p:domain_verify": "pinterest",
    "wmail-verification": "mailru",
    "pmail-verification": "mailru-pulse",
    "alexaverifyid": "alexa",
    "baidu-site-verification": "baidu",
    "norton-safeweb-site-verification": "norton",
    "ahrefs-site-verification": "ahrefs",
    "seznam-wmt": "seznam",
}

# -- wallets ---------------------------------------------------------------------------------------
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}
WALLET_PATTERNS = [
    ("btc", re.compile(r"(?<![\w])([13][1-9A-HJ-NP-Za-km-z]{25,34})(?![\w])")),
    ("ltc", re.compile(r"(?<![\w])([LM][1-9A-HJ-NP-Za-km-z]{26,33})(?![\w])")),
    ("trx", re.compile(r"(?<![\w])(T[1-9A-HJ-NP-Za-km-z]{33})(?![\w])")),
    ("btc", re.compile(r"(?<![\w])(bc1[ac-hj-np-z02-9]{11,71})(?![\w])")),
    ("eth", re.compile(r"(?<![\w])(0x[0-9a-fA-F]{40})(?![\w])")),
    ("xmr", re.compile(r"(?<![\w])(4[0-9AB][1-9A-HJ-NP-Za-km-z]{93})(?![\w])")),
]
def _b58decode(s: str) -> bytes | None:
    n = 0
    for ch in s:
        i = _B58_INDEX.get(ch)
        if i is None:
            return None
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + body


def _b58check(s: str) -> bytes | None:
    raw = _b58decode(s)
    if raw is None or len(raw) < 5:
        return None
    payload, check = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != check:
        return None
    return payload


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_ok(addr: str) -> bool:
    hrp, _, data = addr.lower().rpartition("1")
    if not hrp or len(data) < 7:
        return False
    values = [_BECH32.find(c) for c in data]
    if -1 in values:
        return False
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk in (1, 0x2BC830A3)  # bech32, bech32m


def valid_wallet(coin: str, addr: str) -> bool:
    """Checksums where the format has one, so that hashes and ids are not taken for wallets."""
    if coin == "btc" and addr.lower().startswith("bc1"):
        return _bech32_ok(addr)
    if coin in ("btc", "ltc"):
        payload = _b58check(addr)
        return payload is not None and len(payload) == 21
    if coin == "trx":
        payload = _b58check(addr)
        return payload is not None and len(payload) == 21 and payload[0] == 0x41
    if coin == "eth":
        hexpart = addr[2:]
        return not (hexpart.isdigit() or len(set(hexpart.lower())) < 6)  # not 0x000…0 or a number
    if coin == "xmr":
        return _b58decode(addr[:11]) is not None
    return False


def normalize(kind: str, value: str) -> str | None:
    """The comparable form of a ``kind``'s value, or None when it is not one (shared with the
    importers so that an imported ``UA-1234`` and a page's ``UA-1234-5`` compare equal)."""
    v = value.strip()
    if not v:
        return None
    if kind == "ga":
        m = re.match(r"(?i)^(?:UA-)?(\d{4,10})(?:-\d{1,4})?$", v)
        return f"UA-{m.group(1)}" if m else None
    if kind in ("ga4", "gtm", "google_ads"):
        prefix = {"ga4": "G-", "gtm": "GTM-", "google_ads": "AW-"}[kind]
        v = v.upper()
        return v if v.startswith(prefix) else prefix + v
    if kind == "adsense":
        m = re.search(r"(\d{16})", v)
        return f"pub-{m.group(1)}" if m else None
    if kind in ("yandex_metrica", "mailru_top", "facebook_pixel", "facebook_app"):
        m = re.search(r"(\d{3,20})", v)
        return m.group(1) if m else None
    if kind in ("asset_host", "outbound", "ns", "mx", "tls_san", "domain_name"):
        return v.lower().strip(".").removeprefix("www.") or None
    if kind == "verification":  # tokens are case-sensitive; the vendor is not
        vendor, _, token = v.partition(":")
        return f"{vendor.lower()}:{token.strip()}" if token.strip() else None
    if kind in ("email", "social", "theme", "cms", "matomo", "spf"):
        return v.lower()
    if kind == "tls_cert":
        return v.lower().replace(":", "")
    return v


# Names on certificates that CDNs and hosts issue for many customers at once (Cloudflare's
# shared SNI certificates and the like): a name there says who serves the site, not who runs it.
SHARED_CERT_NAMES = re.compile(r"(^|\.)(cloudflaressl\.com|cloudflare\.com|herokuapp\.com|azurewebsites\.net|"
                               r"wpengine\.com|github\.io|netlify\.app|vercel\.app|fastly\.net|akamaized\.net)$")


def favicon_hash(data: bytes) -> int:
    """The favicon hash Shodan and other tools use: MurmurHash3 (x86, 32-bit, signed) of the
    base64 text of the icon, with a newline every 76 characters and one at the end."""
    import mmh3

    return int(mmh3.hash(base64.encodebytes(data)))


@lru_cache(maxsize=65_536)  # pages repeat the same few hosts; the suffix lookup is the costly part
def registrable(host: str) -> str:
    """The registrable domain of ``host`` (public-suffix aware): ``static.rt.com`` -> ``rt.com``.
    The suffix list is the one the ``tld`` package ships (read from the package once; nothing
    is fetched)."""
    host = host.lower().strip(".").removeprefix("www.")
    if not host or _is_ip(host):
        return host
    from tld import get_fld

    fld = get_fld(host, fix_protocol=True, fail_silently=True)
    if fld:
        return str(fld)
    # Not under a public suffix (.example, .test, .local, a typo): the last two labels.
    return ".".join(host.rsplit(".", 2)[-2:])


def _is_ip(host: str) -> bool:
    return bool(re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]+\]?", host))
