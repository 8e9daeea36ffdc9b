"""Readers for claim databases: CSV/JSON with a field mapping (EUvsDisinfo cases by default)
and schema.org ClaimReview (JSON-LD in HTML pages, DataFeed files).

Each reader yields ``ImportedClaim`` or ``Rejection`` (line/record number, field, reason):
a bad row never stops the rest of the file.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from fimiscope.collect.generic import Rejection, RowError
from fimiscope.core.clock import parse_time, to_utc
from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Claim

__all__ = [
    "EUVSDISINFO_MAPPING",
    "FIELDS",
    "FORMATS",
    "ImportedClaim",
    "parse_mapping",
    "read_claims",
]

MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_FIELD_CHARS = 100_000

# Target fields and what each means (docs/claims.md).
FIELDS = (
    "id",  # the database's own id for the claim (kept in provenance)
    "text",  # the claim itself (required)
    "title",
    "debunk",  # the disproof / fact-check text
    "debunk_url",
    "verdict",
    "published_at",
    "language",  # one or more languages, names or ISO codes; the first becomes the claim's language
    "keywords",  # comma-separated
    "countries",  # comma-separated
    "outlets",  # comma-separated outlet names
    "links",  # URL(s) where the claim appeared
)

# The EUvsDisinfo case columns (euvsdisinfo-scraper's full_dataset_formatted.csv).
EUVSDISINFO_MAPPING: dict[str, str] = {
    "id": "",
    "text": "summary",
    "title": "title",
    "debunk": "disproof",
    "debunk_url": "",
    "verdict": "",
    "published_at": "date",
    "language": "language",
    "keywords": "keywords",
    "countries": "origin",
    "outlets": "outlet",
    "links": "source",
}

GENERIC_MAPPING: dict[str, str] = {f: f for f in FIELDS}

FORMATS = ("euvsdisinfo", "csv", "json", "claimreview")

# Language names in the wild (EUvsDisinfo writes "Russian", sometimes a country) -> ISO 639-1.
_LANGUAGES = {
    "russian": "ru", "czech": "cs", "english": "en", "slovak": "sk", "georgian": "ka", "hungarian": "hu",
    "german": "de", "polish": "pl", "bulgarian": "bg", "italian": "it", "french": "fr", "spanish": "es",
    "lithuanian": "lt", "latvian": "lv", "estonian": "et", "romanian": "ro", "ukrainian": "uk",
    "armenian": "hy", "azerbaijani": "az", "serbian": "sr", "finnish": "fi", "swedish": "sv",
    "norwegian": "no", "dutch": "nl", "arabic": "ar", "greek": "el", "belarusian": "be", "croatian": "hr",
    "slovenian": "sl", "macedonian": "mk", "portuguese": "pt", "turkish": "tr", "chinese": "zh",
    "danish": "da",
}

_SPLIT = re.compile(r"\s*[,;]\s*")
_URL = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(slots=True)
class ImportedClaim:
    claim: Claim
    countries: list[str] = field(default_factory=list)
    outlets: list[dict[str, Any]] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    provenance: list[dict[str, Any]] = field(default_factory=list)

    def extras(self) -> dict[str, Any]:
        return {
            "countries": self.countries,
            "outlets": self.outlets,
            "links": self.links,
            "provenance": self.provenance,
        }


def parse_mapping(pairs: list[str], base: Mapping[str, str]) -> dict[str, str]:
    """``["text=summary", "verdict="]`` over a default mapping; an empty column unmaps a field."""
    mapping = dict(base)
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or name not in FIELDS:
            raise InvalidInput(f"--map {pair!r}: use FIELD=COLUMN with FIELD one of {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    if not mapping.get("text"):
        raise InvalidInput("the mapping needs a column for text (the claim)")
    return mapping


def language_code(value: str) -> str | None:
    text = value.strip().lower()
    if not text:
        return None
    if text in _LANGUAGES:
        return _LANGUAGES[text]
    if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)?", text):
        return text.split("-")[0]
    return None


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v for v in _SPLIT.split(str(value).strip()) if v]


def _text(value: Any, name: str, max_len: int = MAX_FIELD_CHARS) -> str | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RowError(name, f"expected text, got {type(value).__name__}")
    value = value.strip()
    if len(value) > max_len:
        raise RowError(name, f"longer than {max_len} characters")
    return value or None


def _date(value: Any, name: str, fmt: str | None) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        if fmt and isinstance(value, str):
            return to_utc(datetime.strptime(value.strip(), fmt))
        return parse_time(value)
    except (ValueError, InvalidInput) as exc:
        raise RowError(name, f"unrecognised date {str(value)[:40]!r}") from exc


def claim_from_mapping(
    obj: Mapping[str, Any],
    mapping: Mapping[str, str],
    *,
    by: str,
    where: str,
    record: int,
    date_format: str | None = None,
) -> ImportedClaim:
    """One mapped row -> a claim. Raises RowError naming the (target) field at fault."""

    def get(name: str) -> Any:
        column = mapping.get(name)
        return obj.get(column) if column else None

    text = _text(get("text"), "text")
    if not text:
        raise RowError("text", f"missing (column {mapping.get('text')!r} is empty)")
    languages = [code for code in (language_code(v) for v in _split(get("language"))) if code]
    raw_lang = get("language")  # an unknown language name is kept in provenance, not rejected
    debunk_url = _text(get("debunk_url"), "debunk_url", 4000)
    if debunk_url and not debunk_url.lower().startswith(("http://", "https://")):
        raise RowError("debunk_url", f"not an http(s) URL: {debunk_url[:80]!r}")
    published = _date(get("published_at"), "published_at", date_format)
    ext_id = _text(get("id"), "id", 500)
    links = [u for v in _split(get("links")) for u in (_URL.findall(v) or [])]
    prov: dict[str, Any] = {"by": by, "where": where, "when": published.date().isoformat() if published else ""}
    if ext_id:
        prov["id"] = ext_id
    if raw_lang not in (None, "") and mapping.get("language"):
        prov["languages"] = _split(raw_lang)
    claim = Claim(
        text=text,
        title=_text(get("title"), "title", 5000),
        language=languages[0] if languages else None,
        verdict=_text(get("verdict"), "verdict", 200),
        debunk=_text(get("debunk"), "debunk"),
        debunk_url=debunk_url,
        published_at=published,
        keywords=_split(get("keywords")),
    )
    return ImportedClaim(
        claim=claim,
        countries=_split(get("countries")),
        # Outlet names hold commas ("Facebook page of X, Y"): only ";" separates two outlets.
        outlets=[{"name": n.strip()} for n in str(get("outlets") or "").split(";") if n.strip()],
        links=links,
        provenance=[prov],
    )


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path}: {size} bytes is more than the {MAX_FILE_BYTES} a claim file may have")
    return path.read_bytes()


def read_mapped_csv(
    path: Path, mapping: Mapping[str, str], *, by: str, date_format: str | None = None
) -> Iterator[ImportedClaim | Rejection]:
    text = _read_bytes(path).decode("utf-8-sig", errors="replace")
    csv.field_size_limit(MAX_FIELD_CHARS * 10)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in (mapping.get("text"),) if c and c not in header]
    if missing:
        raise InvalidInput(
            f"{path}: no column {missing[0]!r} for the claim text; columns are {', '.join(header)} "
            "(map one with --map text=COLUMN)"
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejection(reader.line_num, f"unreadable CSV: {exc}")
            continue
        line = reader.line_num
        try:
            yield claim_from_mapping(row, mapping, by=by, where=path.name, record=line, date_format=date_format)
        except RowError as exc:
            yield Rejection(line, exc.reason, exc.field)


def read_mapped_json(path: Path, mapping: Mapping[str, str], *, by: str) -> Iterator[ImportedClaim | Rejection]:
    """A JSON array of objects, or JSON Lines (one object a line)."""
    data = _read_bytes(path)
    stripped = data.lstrip()
    records: list[tuple[int, Any]]
    if stripped.startswith(b"["):
        try:
            records = list(enumerate(orjson.loads(data), start=1))
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"{path}: not valid JSON: {exc}") from None
    else:
        records = []
        for n, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                records.append((n, orjson.loads(raw)))
            except orjson.JSONDecodeError as exc:
                yield Rejection(n, f"not valid JSON: {exc}")
    for n, obj in records:
        if not isinstance(obj, Mapping):
            yield Rejection(n, f"expected a JSON object, got {type(obj).__name__}")
            continue
        try:
            yield claim_from_mapping(obj, mapping, by=by, where=path.name, record=n)
        except RowError as exc:
            yield Rejection(n, exc.reason, exc.field)


# -- schema.org ClaimReview ----------------------------------------------------------------------

_LD_SCRIPT = re.compile(
    r"<script[^>]*type\s*=\s*[\"']application/ld\+json[\"'][^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


def _types(obj: Mapping[str, Any]) -> set[str]:
    t = obj.get("@type")
    items = t if isinstance(t, list) else [t]
    return {str(x).rsplit("/", 1)[-1] for x in items if x}


def find_claim_reviews(data: Any, depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every ClaimReview object anywhere in a JSON-LD value (@graph, DataFeed, nested lists)."""
    if depth > 20:
        return
    if isinstance(data, list):
        for item in data:
            yield from find_claim_reviews(item, depth + 1)
    elif isinstance(data, Mapping):
        if "ClaimReview" in _types(data):
            yield data
            return
        for key in ("@graph", "dataFeedElement", "item", "mainEntity", "hasPart"):
            if key in data:
                yield from find_claim_reviews(data[key], depth + 1)


def _name(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("name") or value.get("url")
    return str(value).strip() if value else None


def claim_from_review(review: Mapping[str, Any], *, where: str) -> ImportedClaim:
    text = _text(review.get("claimReviewed"), "claimReviewed")
    if not text:
        raise RowError("claimReviewed", "missing (the claim a ClaimReview reviews)")
    rating = review.get("reviewRating")
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    verdict = None
    if isinstance(rating, Mapping):
        verdict = _name(rating.get("alternateName")) or (
            str(rating["ratingValue"]) if rating.get("ratingValue") is not None else None
        )
    url = _text(review.get("url"), "url", 4000)
    if url and not url.lower().startswith(("http://", "https://")):
        raise RowError("url", f"not an http(s) URL: {url[:80]!r}")
    published = _date(review.get("datePublished"), "datePublished", None)
    item = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), Mapping) else {}
    assert isinstance(item, Mapping)
    links: list[str] = []
    outlets: list[dict[str, Any]] = []
    for key in ("appearance", "firstAppearance"):
        apps = item.get(key)
        for app in apps if isinstance(apps, list) else [apps]:
            if isinstance(app, Mapping) and isinstance(app.get("url"), str):
                if app["url"] not in links:
                    links.append(app["url"])
            elif isinstance(app, str) and app.startswith("http") and app not in links:
                links.append(app)
    claimant = _name(item.get("author"))
    if claimant:
        outlets.append({"name": claimant})
    lang = review.get("inLanguage")
    language = language_code(_name(lang) or "") if lang else None
    reviewer = _name(review.get("author")) or "ClaimReview"
    keywords = _split(review.get("keywords"))
    return ImportedClaim(
        claim=Claim(
            text=text,
            title=_text(review.get("headline") or review.get("name"), "headline", 5000),
            language=language,
            verdict=verdict,
            debunk=_text(review.get("reviewBody") or review.get("description"), "reviewBody"),
            debunk_url=url,
            published_at=published,
            keywords=keywords,
        ),
        outlets=outlets,
        links=links,
        provenance=[
            {"by": reviewer, "where": url or where, "when": published.date().isoformat() if published else ""}
        ],
    )


def read_claimreview(path: Path) -> Iterator[ImportedClaim | Rejection]:
    """A DataFeed / JSON-LD file, or an HTML page with ``<script type="application/ld+json">``.

    Records are numbered by ClaimReview in file order; a block that is not JSON is rejected.
    """
    data = _read_bytes(path)
    blocks: list[str]
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        blocks = [data.decode("utf-8", errors="replace")]
    else:
        page = data.decode("utf-8", errors="replace")
        blocks = [html.unescape(b) if "&quot;" in b else b for b in _LD_SCRIPT.findall(page)]
        if not blocks:
            raise InvalidInput(f"{path}: no JSON-LD (<script type=\"application/ld+json\">) found")
    n = 0
    for b_index, block in enumerate(blocks, start=1):
        try:
            obj = orjson.loads(block.strip().encode())
        except orjson.JSONDecodeError as exc:
            yield Rejection(b_index, f"JSON-LD block {b_index} is not valid JSON: {exc}")
            continue
        for review in find_claim_reviews(obj):
            n += 1
            try:
                yield claim_from_review(review, where=path.name)
            except RowError as exc:
                yield Rejection(n, exc.reason, exc.field)


def read_claims(
    fmt: str, path: Path, mapping_pairs: list[str] | None = None
) -> Iterator[ImportedClaim | Rejection]:
    """Read claims of ``fmt`` (one of FORMATS) from ``path``."""
    pairs = mapping_pairs or []
    if fmt == "euvsdisinfo":
        mapping = parse_mapping(pairs, EUVSDISINFO_MAPPING)
        return read_mapped_csv(path, mapping, by="EUvsDisinfo", date_format="%m/%d/%y")
    if fmt == "csv":
        return read_mapped_csv(path, parse_mapping(pairs, GENERIC_MAPPING), by=path.name)
    if fmt == "json":
        return read_mapped_json(path, parse_mapping(pairs, GENERIC_MAPPING), by=path.name)
    if fmt == "claimreview":
        if pairs:
            raise InvalidInput("--map applies to csv, json and euvsdisinfo, not to claimreview")
        return read_claimreview(path)
    raise InvalidInput(f"unknown claim format {fmt!r}; use one of {', '.join(FORMATS)}")
