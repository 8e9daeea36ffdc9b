"""Source registries: files that say which outlets and accounts exist and who flags them.

Readers register by format name (``@registry_format("csv")``); ``read_registry`` picks one.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fimiscope.core.errors import InvalidInput
from fimiscope.core.model import Affiliation, Provenance, Reliability, Source


@dataclass(slots=True)
class RegistryRejection:
    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


Reader = Callable[[Path], tuple[list[Source], list[RegistryRejection]]]
_FORMATS: dict[str, Reader] = {}
_SUFFIX_DEFAULTS = {".csv": "csv", ".json": "json", ".jsonl": "json"}


def registry_format(name: str) -> Callable[[Reader], Reader]:
    def wrap(fn: Reader) -> Reader:
        _FORMATS[name] = fn
        return fn

    return wrap


Detector = Callable[[Path], "str | None"]
_DETECTORS: list[Detector] = []


def registry_detector(fn: Detector) -> Detector:
    """Register a guess of the format from a file or folder name (``auto``); None = not mine."""
    _DETECTORS.append(fn)
    return fn


def _load_readers() -> None:
    # Readers of published lists live in collect/registry_*.py and register on import.
    import importlib
    import pkgutil

    import fimiscope.collect as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("registry_"):
            importlib.import_module(f"fimiscope.collect.{info.name}")


def formats() -> list[str]:
    _load_readers()
    return sorted(_FORMATS)


def read_registry(path: Path, fmt: str = "auto") -> tuple[list[Source], list[RegistryRejection]]:
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    _load_readers()
    if fmt == "auto":
        fmt = next((f for f in (d(path) for d in _DETECTORS) if f), "") or _SUFFIX_DEFAULTS.get(
            path.suffix.lower(), ""
        )
        if not fmt:
            raise InvalidInput(f"cannot tell the registry format of {path.name}; pass --registry-format")
    reader = _FORMATS.get(fmt)
    if reader is None:
        raise InvalidInput(f"unknown registry format {fmt!r}; known: {', '.join(formats())}")
    return reader(path)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in str(value).replace("|", ";").split(";") if p.strip()]


def source_from_mapping(row: Mapping[str, Any]) -> Source:
    """One registry row in our own columns (docs/formats.md)."""
    name = str(row.get("name") or row.get("domain") or "").strip()
    if not name:
        raise InvalidInput("needs a name or a domain")
    is_account = ":" in name and not name.startswith(("http:", "https:"))
    provenance: list[Provenance] = []
    raw_prov = row.get("provenance")
    if isinstance(raw_prov, list):
        for p in raw_prov:
            if not isinstance(p, Mapping) or not p.get("by"):
                raise InvalidInput("each provenance entry needs 'by'")
            provenance.append(Provenance(by=str(p["by"]), where=str(p.get("where", "")), when=str(p.get("when", ""))))
    elif row.get("provenance_by"):
        provenance.append(
            Provenance(
                by=str(row["provenance_by"]),
                where=str(row.get("provenance_where") or ""),
                when=str(row.get("provenance_when") or ""),
            )
        )
    affiliation = Affiliation.parse(row.get("affiliation"))
    if affiliation.flagged and not provenance:
        raise InvalidInput(f"affiliation {affiliation.value} needs provenance (provenance_by)")
    country = row.get("country")
    return Source(
        name=name,
        platform=str(row.get("platform") or (name.split(":", 1)[0] if is_account else "web")),
        domain=str(row.get("domain") or ("" if is_account else name)) or None,
        handle=str(row.get("handle") or (name.split(":", 1)[1] if is_account else "")) or None,
        display_name=row.get("display_name") or None,
        country=str(country).upper() if country else None,
        language=row.get("language") or None,
        affiliation=affiliation,
        provenance=provenance,
        reliability=Reliability.parse(row.get("reliability")),
        lists=_split(row.get("lists")),
    )


def _rows_to_sources(rows: list[tuple[int, Mapping[str, Any]]]) -> tuple[list[Source], list[RegistryRejection]]:
    items: dict[str, Source] = {}
    rejections: list[RegistryRejection] = []
    for number, row in rows:
        try:
            src = source_from_mapping(row)
        except InvalidInput as exc:
            rejections.append(RegistryRejection(number, str(exc)))
            continue
        items[src.name] = src  # a later row for the same name wins within one file
    return list(items.values()), rejections


@registry_format("csv")
def read_csv_registry(path: Path) -> tuple[list[Source], list[RegistryRejection]]:
    with path.open(encoding="utf-8-sig", newline="", errors="replace") as f:
        reader = csv.DictReader(f)
        return _rows_to_sources([(i + 2, row) for i, row in enumerate(reader)])


@registry_format("json")
def read_json_registry(path: Path) -> tuple[list[Source], list[RegistryRejection]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        data = data.get("sources", [])
    if not isinstance(data, list):
        raise InvalidInput(f"{path.name}: expected a list of sources or {{'sources': [...]}}")
    rows: list[tuple[int, Mapping[str, Any]]] = []
    rejections: list[RegistryRejection] = []
    for i, obj in enumerate(data, start=1):
        if isinstance(obj, Mapping):
            rows.append((i, obj))
        else:
            rejections.append(RegistryRejection(i, "not an object"))
    items, more = _rows_to_sources(rows)
    return items, rejections + more
