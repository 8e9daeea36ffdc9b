"""Traffic Light Protocol 2.0: the five labels, their order, and parsing what people type."""

from __future__ import annotations

from fimiscope.core.errors import InvalidInput

TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
TLP_RANK = {name: rank for rank, name in enumerate(TLP_LEVELS)}

_ALIASES = {"white": "clear", "amber-strict": "amber+strict", "amber_strict": "amber+strict"}


def parse_tlp(value: str | None, default: str = "amber") -> str:
    """'TLP:AMBER+STRICT', 'amber+strict', 'white' (TLP 1.0) -> the TLP 2.0 label."""
    if value is None or not str(value).strip():
        return default
    key = str(value).strip().lower().removeprefix("tlp:")
    key = _ALIASES.get(key, key)
    if key not in TLP_RANK:
        raise InvalidInput(f"unknown TLP {value!r}; use one of: {', '.join(TLP_LEVELS)}")
    return key


def tlp_rank(value: str) -> int:
    return TLP_RANK[parse_tlp(value)]
