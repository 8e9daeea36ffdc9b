"""Readers of narrative lists: the SemEval-2025 Task 10 taxonomy (Ukraine war and climate change
narratives with sub-narratives) and EUvsDisinfo's case keywords.

Each yields ``ImportedNarrative`` or ``Rejection`` (bad lines are reported, never fatal). The
store side (``store/narratives.py``) creates what is new and leaves what exists alone, so an
import can be repeated.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fimiscope.collect.generic import Rejection
from fimiscope.core.errors import InvalidInput

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_EXAMPLE_CHARS = 20_000
OTHER = "Other"
DOMAINS = {"URW": "Ukraine-Russia war", "CC": "climate change"}


@dataclass(slots=True)
class ImportedNarrative:
    name: str
    description: str = ""
    parent: str | None = None  # the parent narrative's name
    keywords: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    debunked: bool = False
    origin: str = "import"


def _read_text(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is over {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return path.read_text(encoding="utf-8", errors="replace")


# -- SemEval-2025 Task 10 ------------------------------------------------------------------------


def _semeval_name(label: str) -> tuple[str, str | None]:
    """'URW: Discrediting Ukraine: Ukraine is a puppet' -> (that, 'URW: Discrediting Ukraine')."""
    parts = [p.strip() for p in label.split(": ")]
    if len(parts) >= 3:
        return label.strip(), ": ".join(parts[:2])
    return label.strip(), None


def _description(name: str, parent: str | None) -> str:
    domain = DOMAINS.get(name.split(":", 1)[0].strip(), "")
    what = "sub-narrative" if parent else "narrative"
    return f"SemEval-2025 Task 10 {what}" + (f" ({domain})" if domain else "") + f": {name.split(': ')[-1]}."


def read_semeval(path: Path, *, examples_per_label: int = 0) -> Iterator[ImportedNarrative | Rejection]:
    """The taxonomy from a taxonomy JSON (``{"URW": {"narrative": ["sub-narrative", ...]}}``), an
    annotations file (file, narratives, sub-narratives, tab-separated), or a folder holding
    annotations (``<LANG>/subtask-2-annotations.txt`` or ``subtask-2-annotations.txt``). With
    ``examples_per_label`` the labelled articles (``raw-documents/``) become examples."""
    if not path.exists():
        raise InvalidInput(f"{path} does not exist")
    if path.is_file() and path.suffix.lower() == ".json":
        yield from _semeval_json(path)
        return
    files = [path] if path.is_file() else sorted(path.glob("*/subtask-2-annotations.txt")) + sorted(
        path.glob("subtask-2-annotations.txt"))
    if not files:
        raise InvalidInput(f"{path}: no subtask-2-annotations.txt (nor <LANG>/subtask-2-annotations.txt) found")
    examples: dict[str, list[str]] = {}
    labels: Counter[str] = Counter()
    for ann in files:
        for line_no, line in enumerate(_read_text(ann).splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 3:
                yield Rejection(line_no, f"{ann.name}: expected 3 tab-separated fields, got {len(parts)}")
                continue
            found = [x.strip() for x in (parts[1] + ";" + parts[2]).split(";") if x.strip()]
            found = [x for x in found if x != OTHER and not x.endswith(": Other")]
            for lab in found:
                if ":" not in lab:
                    yield Rejection(line_no, f"{ann.name}: {lab!r} is not a 'DOMAIN: narrative' label", "labels")
                    continue
                labels[lab] += 1
                if examples_per_label and len(examples.get(lab, [])) < examples_per_label:
                    doc = ann.parent / "raw-documents" / parts[0].strip()
                    if doc.is_file() and doc.resolve().parent == (ann.parent / "raw-documents").resolve():
                        examples.setdefault(lab, []).append(_read_text(doc)[:MAX_EXAMPLE_CHARS])
    names = sorted(labels)
    parents = {p for n in names if (p := _semeval_name(n)[1])}
    for name in sorted(set(names) | parents, key=lambda n: (n.count(": "), n)):
        _, parent = _semeval_name(name)
        short = name.split(": ")[-1]
        yield ImportedNarrative(
            name=name, description=_description(name, parent), parent=parent, keywords=[short],
            examples=examples.get(name, []), origin="semeval-2025-t10",
        )


def _semeval_json(path: Path) -> Iterator[ImportedNarrative | Rejection]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: expected an object of domains, e.g. {{\"URW\": {{\"narrative\": [...]}}}}")
    for i, (domain, narratives) in enumerate(data.items(), start=1):
        if not isinstance(narratives, dict):
            yield Rejection(i, f"domain {domain!r}: expected an object of narratives")
            continue
        for narrative, subs in narratives.items():
            if narrative == OTHER:
                continue
            name = f"{domain}: {narrative}"
            yield ImportedNarrative(name=name, description=_description(name, None), keywords=[narrative],
                                    origin="semeval-2025-t10")
            for sub in subs if isinstance(subs, list) else []:
                if not isinstance(sub, str) or sub == OTHER:
                    continue
                child = f"{name}: {sub}"
                yield ImportedNarrative(name=child, description=_description(child, name), parent=name,
                                        keywords=[sub], origin="semeval-2025-t10")


# -- EUvsDisinfo ---------------------------------------------------------------------------------


def _case_date(value: str) -> datetime | None:
    for fmt in ("%m/%d/%y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def read_euvsdisinfo(
    path: Path, *, min_cases: int = 10, examples_per_keyword: int = 20
) -> Iterator[ImportedNarrative | Rejection]:
    """A narrative per EUvsDisinfo keyword used by at least ``min_cases`` cases, marked debunked
    (every case is a debunked disinformation message); its newest cases' titles and summaries
    are its examples. Columns: keywords, title, summary (and date); a scraped export or the
    database's CSV."""
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    csv.field_size_limit(MAX_EXAMPLE_CHARS * 50)
    reader = csv.DictReader(io.StringIO(_read_text(path)))
    cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    missing = {"keywords", "summary"} - set(cols)
    if missing:
        raise InvalidInput(f"{path}: missing column(s) {', '.join(sorted(missing))}; columns are "
                           f"{', '.join(cols) or 'none'}")
    cases: dict[str, list[tuple[datetime, str]]] = {}
    for line_no, row in enumerate(reader, start=2):
        keywords = [k.strip() for k in (row.get(cols["keywords"]) or "").replace(";", ",").split(",") if k.strip()]
        summary = (row.get(cols["summary"]) or "").strip()
        if not keywords or not summary:
            yield Rejection(line_no, "no keywords or no summary", "keywords" if not keywords else "summary")
            continue
        title = (row.get(cols.get("title", ""), "") or "").strip() if "title" in cols else ""
        when = _case_date(row.get(cols["date"], "") or "") if "date" in cols else None
        text = f"{title}. {summary}" if title and title not in summary else summary
        for k in keywords:
            cases.setdefault(k, []).append((when or datetime.min, text[:MAX_EXAMPLE_CHARS]))
    for keyword in sorted(cases, key=lambda k: (-len(cases[k]), k)):
        found = cases[keyword]
        if len(found) < min_cases:
            continue
        newest = [t for _, t in sorted(found, key=lambda x: x[0], reverse=True)[:examples_per_keyword]]
        yield ImportedNarrative(
            name=f"EUvsDisinfo: {keyword}",
            description=f"Disinformation cases EUvsDisinfo tagged {keyword!r} ({len(found)} cases in this file).",
            keywords=[keyword], examples=newest, debunked=True, origin="euvsdisinfo",
        )
