"""Indicator files an analyst already has, read into observations of the infrastructure room.

Formats (``read_indicators(path, fmt)``; ``fmt=None`` guesses from the header or content):

* ``laundromat``: the Information Laundromat's indicator CSV (``indicator_type,
  indicator_content, domain_name``). Its ``ip``/``subnet`` rows carry no domain: in the file
  they stand just before the block of the domain they belong to, so they are given the domain
  of the next row that has one. ``whois`` and ``certificate`` contents are parsed into their
  parts (registrar, registrant, name servers; certificate fingerprint, issuer, names).
* ``csv``: the simple form ``domain,type,value,source`` (``type`` one of the kinds of
  ``detect/infrastructure.py`` or a Laundromat type name; optional ``seen_at`` column).
* ``pdns``: passive DNS in the Common Output Format, one JSON object a line (``rrname,
  rrtype, rdata, time_first, time_last``), as CIRCL and DNSDB export it.
* ``whois``: WHOIS records as JSON (an object or a list of them; python-whois field names).

Each row keeps where it came from (file, line, the file's own ``source`` column) so an
analyst can trace every imported indicator. Bad rows are rejected with the line and reason;
the rest still import.
"""

from __future__ import annotations

import ast
import csv
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fimiscope.core.errors import InvalidInput
from fimiscope.core.indicators import (
    KINDS,
    SHARED_CERT_NAMES,
    VERIFICATION_META,
    WALLET_PATTERNS,
    normalize,
    valid_wallet,
)

FORMATS = ("laundromat", "csv", "pdns", "whois")
MAX_FIELD = 1 << 24  # a certificate or WHOIS blob fits; a runaway field does not


@dataclass(slots=True)
class ImportedIndicator:
    domain: str
    kind: str
    value: str
    source: str  # who says so: the file's source column, or the file's name
    line: int
    seen_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class IndicatorRejection:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


# Laundromat type -> our kind (None: parsed specially or skipped).
LAUNDROMAT_KINDS: dict[str, str | None] = {
    "ip": "ip", "subnet": "subnet", "ga_id": "ga", "ga_tag_id": "ga4", "ga_pub_id": "adsense",
    "yandex_tag_id": "yandex_metrica", "verification_id": "verification", "crypto-wallet": "wallet",
    "cdn-domain": "asset_host", "cert-domain": "tls_san", "meta_social": "social", "uuid": "uuid",
    "whois": None, "certificate": None, "css-class": None,
    "domain": None, "domain_suffix": None,  # the domain itself: compared by the detector
}
_PRIVACY = re.compile(r"privacy|redacted|protect|proxy|whoisguard|domainsbyproxy|withheld|not disclosed|abuse@",
                      re.IGNORECASE)


def domain_of(value: str) -> str | None:
    v = value.strip().lower()
    v = re.sub(r"^[a-z]+:/+", "", v).split("/", 1)[0].split(":", 1)[0].strip(".").removeprefix("www.")
    return v if v and "." in v and " " not in v else None


def read_indicators(path: Path, fmt: str | None = None) -> tuple[list[ImportedIndicator], list[IndicatorRejection]]:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    fmt = fmt or guess_format(path)
    readers = {"laundromat": _read_laundromat, "csv": _read_simple, "pdns": _read_pdns, "whois": _read_whois}
    if fmt not in readers:
        raise InvalidInput(f"unknown indicator format {fmt!r}; use one of {', '.join(FORMATS)}")
    return readers[fmt](path)


def guess_format(path: Path) -> str:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        head = f.read(4096)
    first = head.lstrip()[:1]
    line = head.splitlines()[0].lower() if head.splitlines() else ""
    if "indicator_type" in line and "indicator_content" in line:
        return "laundromat"
    if first == "{" and "rrname" in head and "rrtype" in head:
        return "pdns"
    if first in "{[":
        return "whois"
    if "domain" in line and "type" in line and "value" in line:
        return "csv"
    raise InvalidInput(f"{path}: cannot tell the format; give --format ({', '.join(FORMATS)})")


def _add(out: list[ImportedIndicator], rej: list[IndicatorRejection], domain: str | None, kind: str, value: str,
         source: str, line: int, **kw: Any) -> None:
    if not domain:
        rej.append(IndicatorRejection(line, f"no domain for the {kind} {value[:60]!r}"))
        return
    norm = normalize(kind, value)
    if not norm:
        rej.append(IndicatorRejection(line, f"{value[:60]!r} is not a {kind}"))
        return
    out.append(ImportedIndicator(domain, kind, norm, source, line, **kw))


# -- the Laundromat's indicator CSV --------------------------------------------------------------


def _read_laundromat(path: Path) -> tuple[list[ImportedIndicator], list[IndicatorRejection]]:
    csv.field_size_limit(MAX_FIELD)
    rows: list[tuple[int, dict[str, str]]] = []
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "indicator_type" not in reader.fieldnames:
            raise InvalidInput(f"{path}: not a Laundromat indicator file (no indicator_type column)")
        for row in reader:
            rows.append((reader.line_num, {k: (v or "") for k, v in row.items() if k}))
    out: list[ImportedIndicator] = []
    rej: list[IndicatorRejection] = []
    source = f"Information Laundromat indicators ({path.name})"
    pending: list[tuple[int, dict[str, str]]] = []
    for line, row in rows:
        domain = domain_of(row.get("domain_name", ""))
        if domain is None:
            pending.append((line, row))  # an ip/subnet row: it belongs to the next domain's block
            continue
        for pline, prow in pending:
            _laundromat_row(out, rej, domain, prow, source, pline, inferred=True)
        pending.clear()
        _laundromat_row(out, rej, domain, row, source, line)
    for pline, prow in pending:
        rej.append(IndicatorRejection(pline, f"{prow.get('indicator_type')} row without a domain at the end"))
    return out, rej


def _laundromat_row(out: list[ImportedIndicator], rej: list[IndicatorRejection], domain: str, row: dict[str, str],
                    source: str, line: int, *, inferred: bool = False) -> None:
    typ = row.get("indicator_type", "").strip()
    content = row.get("indicator_content", "").strip()
    if not content:
        return  # the Laundromat writes empty cdn-domain rows: nothing to import
    details: dict[str, Any] = {"laundromat_type": typ}
    if inferred:
        details["domain_from"] = "the next row's domain (the file lists a domain's IPs just before it)"
    if typ not in LAUNDROMAT_KINDS:
        rej.append(IndicatorRejection(line, f"unknown Laundromat indicator type {typ!r}"))
        return
    kind = LAUNDROMAT_KINDS[typ]
    if typ == "whois":
        try:
            record = json.loads(content)
        except json.JSONDecodeError as exc:
            rej.append(IndicatorRejection(line, f"WHOIS content is not JSON: {exc}"))
            return
        for k, v in whois_parts(record):
            _add(out, rej, domain, k, v, source, line, details=details)
        return
    if typ == "certificate":
        try:
            cert = describe_pem(content)
        except ValueError as exc:
            rej.append(IndicatorRejection(line, f"certificate not readable: {exc}"))
            return
        for k, v in certificate_parts(cert, domain):
            _add(out, rej, domain, k, v, source, line, details={**details, "certificate": cert})
        return
    if typ == "css-class":
        try:
            classes = ast.literal_eval(content) if content != "set()" else set()
        except (ValueError, SyntaxError):
            rej.append(IndicatorRejection(line, "css-class content is not a set literal"))
            return
        if classes:
            out.append(ImportedIndicator(domain, "css_classes", f"{len(classes)} classes", source, line,
                                         details={**details, "classes": sorted(str(c) for c in classes)[:500]}))
        return
    if kind is None:
        return
    value = content
    if typ == "subnet" and re.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,3}", value):
        value += ".0/24"
    elif typ == "verification_id":
        name, _, token = value.partition("|")
        value = f"{VERIFICATION_META.get(name.strip().lower(), name.strip().lower())}:{token}"
    elif typ == "meta_social":
        name, _, handle = value.partition("|")
        handle = handle.rsplit("/", 1)[-1].lstrip("@")
        if not re.fullmatch(r"\w{2,80}", handle):
            rej.append(IndicatorRejection(line, f"{value!r} names no handle"))
            return
        value = f"{name.split(':', 1)[0].strip().lower()}:{handle}"
    elif typ == "cert-domain":
        host = value.lstrip("*.").lower().removeprefix("www.")
        if host == domain or host.endswith("." + domain) or SHARED_CERT_NAMES.search(host):
            return  # the site itself, or a CDN's certificate shared by its customers
        value = host
    elif typ == "ga_tag_id" and not re.fullmatch(r"[A-Z0-9]{8,12}", value):
        kind, details["note"] = "uuid", "not shaped like a GA4 id: kept as an embedded id"
    elif typ == "crypto-wallet":
        coin = next((c for c, rx in WALLET_PATTERNS if rx.fullmatch(value) and valid_wallet(c, value)), None)
        if coin:
            value = f"{coin}:{value}"
        else:  # the file holds hashes taken for wallets; a checksum says they are not
            kind, details["note"] = "uuid", "fails every wallet checksum: kept as an embedded id"
    _add(out, rej, domain, kind, value, source, line, details=details)


# -- parts of WHOIS records and certificates, shared with the network look-ups ---------------------


def whois_parts(record: Any) -> list[tuple[str, str]]:
    """(kind, value) pairs worth comparing in a python-whois-shaped record; privacy-service
    registrants are left out (they are shared by millions)."""
    if not isinstance(record, dict):
        return []
    parts: list[tuple[str, str]] = []

    def values(key: str) -> list[str]:
        v = record.get(key)
        items = v if isinstance(v, list) else [v]
        return [str(x).strip() for x in items if x and str(x).strip()]

    for reg in values("registrar")[:1]:
        parts.append(("whois_registrar", reg.lower()))
    for email in values("emails")[:5]:
        if not _PRIVACY.search(email):
            parts.append(("whois_registrant", f"email:{email.lower()}"))
    for key in ("org", "registrant_name", "name"):
        for org in values(key)[:1]:
            if not _PRIVACY.search(org) and org.lower() not in ("none", "null", "n/a"):
                parts.append(("whois_registrant", f"{key}:{org.lower()}"))
    for ns in values("name_servers")[:8]:
        parts.append(("ns", ns.lower().rstrip(".")))
    return parts


def describe_pem(pem: str) -> dict[str, Any]:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii", "ignore"))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    return describe_certificate(cert)


def describe_der(der: bytes) -> dict[str, Any]:
    from cryptography import x509

    return describe_certificate(x509.load_der_x509_certificate(der))


def describe_certificate(cert: Any) -> dict[str, Any]:
    """Issuer, subject, names (SANs), serial, validity and SHA-256 fingerprint of a certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        names = []
    return {
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "serial": format(cert.serial_number, "x"),
        "issuer": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "names": names[:200],
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def certificate_parts(cert: dict[str, Any], domain: str) -> list[tuple[str, str]]:
    parts = [("tls_cert", cert["sha256"]), ("tls_issuer", cert["issuer"])]
    for name in cert.get("names", []):
        host = name.lstrip("*.").lower().removeprefix("www.")
        if SHARED_CERT_NAMES.search(host):
            continue  # a CDN's certificate shared by its customers
        if host and host != domain and not host.endswith("." + domain) and not domain.endswith("." + host):
            parts.append(("tls_san", host))  # another domain on the same certificate
    return parts


# -- the simple CSV, passive DNS and WHOIS exports -------------------------------------------------


def _read_simple(path: Path) -> tuple[list[ImportedIndicator], list[IndicatorRejection]]:
    csv.field_size_limit(MAX_FIELD)
    out: list[ImportedIndicator] = []
    rej: list[IndicatorRejection] = []
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
        reader = csv.DictReader(f)
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        missing = {"domain", "type", "value"} - set(cols)
        if missing:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                               "the simple format is domain,type,value,source")
        for row in reader:
            line = reader.line_num
            typ = (row.get(cols["type"]) or "").strip().lower()
            kind = LAUNDROMAT_KINDS.get(typ) or typ
            if kind not in KINDS:
                rej.append(IndicatorRejection(line, f"unknown type {typ!r}; use one of {', '.join(sorted(KINDS))}"))
                continue
            seen = None
            if "seen_at" in cols and (raw := (row.get(cols["seen_at"]) or "").strip()):
                from fimiscope.core.clock import parse_time

                try:
                    seen = parse_time(raw)
                except InvalidInput as exc:
                    rej.append(IndicatorRejection(line, str(exc)))
                    continue
            source = (row.get(cols["source"]) or "").strip() if "source" in cols else ""
            _add(out, rej, domain_of(row.get(cols["domain"]) or ""), kind, (row.get(cols["value"]) or ""),
                 source or path.name, line, seen_at=seen)
    return out, rej


_PDNS_KINDS = {"A": "ip", "AAAA": "ip", "NS": "ns", "MX": "mx"}


def txt_parts(text: str) -> list[tuple[str, str]]:
    """Verification tokens and SPF senders in a TXT record."""
    t = text.strip().strip('"')
    m = re.match(r"(google|yandex|facebook-domain|ms|apple-domain|globalsign-domain)-?(?:site-)?verification[=:]"
                 r"\s*(\S{4,200})", t, re.IGNORECASE)
    if m:
        vendor = {"ms": "bing", "facebook-domain": "facebook"}.get(m.group(1).lower(), m.group(1).lower())
        return [("verification", f"{vendor}:{m.group(2)}")]
    if t.lower().startswith("v=spf1"):
        return [("spf", inc) for inc in re.findall(r"include:([\w.-]{3,200})", t)[:10]]
    return []


def _read_pdns(path: Path) -> tuple[list[ImportedIndicator], list[IndicatorRejection]]:
    out: list[ImportedIndicator] = []
    rej: list[IndicatorRejection] = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                rec = json.loads(text[:MAX_FIELD])
            except json.JSONDecodeError as exc:
                rej.append(IndicatorRejection(line, f"not JSON: {exc}"))
                continue
            if not isinstance(rec, dict) or "rrname" not in rec or "rrtype" not in rec:
                rej.append(IndicatorRejection(line, "needs rrname and rrtype (passive DNS Common Output Format)"))
                continue
            domain = domain_of(str(rec["rrname"]))
            rtype = str(rec["rrtype"]).upper()
            rdata = rec.get("rdata")
            values = rdata if isinstance(rdata, list) else [rdata]
            seen = _epoch(rec.get("time_last") or rec.get("time_first"))
            details = {k: rec[k] for k in ("time_first", "time_last", "count", "sensor_id") if k in rec}
            for v in values:
                if v is None:
                    continue
                v = str(v)
                if rtype == "TXT":
                    for kind, value in txt_parts(v):
                        _add(out, rej, domain, kind, value, path.name, line, seen_at=seen, details=details)
                elif rtype in _PDNS_KINDS:
                    value = v.split()[-1] if rtype == "MX" else v
                    _add(out, rej, domain, _PDNS_KINDS[rtype], value, path.name, line, seen_at=seen, details=details)
    return out, rej


def _epoch(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC) if value is not None else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _read_whois(path: Path) -> tuple[list[ImportedIndicator], list[IndicatorRejection]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace")[:MAX_FIELD])
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not JSON: {exc}") from None
    records = data if isinstance(data, list) else [data]
    out: list[ImportedIndicator] = []
    rej: list[IndicatorRejection] = []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            rej.append(IndicatorRejection(n, "not a WHOIS record (an object)"))
            continue
        names = rec.get("domain_name")
        name = names[0] if isinstance(names, list) and names else names
        domain = domain_of(str(name or ""))
        for kind, value in whois_parts(rec):
            _add(out, rej, domain, kind, value, path.name, n)
    return out, rej
