"""Confidence scales: estimative language for assessments, the Admiralty code for sources.

Estimative language follows the probability yardstick used by UK Defence Intelligence and the
ICD 203 wording (seven bands from "almost no chance" to "almost certain"). The Admiralty (NATO
AJP-2.1) code grades a source's reliability (A-F) and the information's credibility (1-6).
"""

from __future__ import annotations

from fimiscope.core.errors import InvalidInput

# label -> (lowest, highest) probability in percent
ESTIMATIVE = {
    "almost no chance": (1, 5),
    "very unlikely": (5, 20),
    "unlikely": (20, 45),
    "roughly even chance": (45, 55),
    "likely": (55, 80),
    "very likely": (80, 95),
    "almost certain": (95, 99),
}

_ESTIMATIVE_ALIASES = {
    "remote": "almost no chance",
    "highly unlikely": "very unlikely",
    "improbable": "unlikely",
    "even chance": "roughly even chance",
    "realistic possibility": "roughly even chance",
    "probable": "likely",
    "probably": "likely",
    "highly likely": "very likely",
    "almost certainly": "almost certain",
    "nearly certain": "almost certain",
}

SOURCE_RELIABILITY = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}

INFORMATION_CREDIBILITY = {
    "1": "confirmed by other sources",
    "2": "probably true",
    "3": "possibly true",
    "4": "doubtful",
    "5": "improbable",
    "6": "truth cannot be judged",
}


def parse_estimative(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    key = " ".join(value.strip().lower().replace("-", " ").replace("_", " ").split())
    key = _ESTIMATIVE_ALIASES.get(key, key)
    if key not in ESTIMATIVE:
        raise InvalidInput(f"confidence {value!r} is not on the estimative scale; use one of: {', '.join(ESTIMATIVE)}")
    return key


def estimative_to_stix(label: str) -> int:
    """STIX ``confidence`` (0-100): the middle of the band."""
    low, high = ESTIMATIVE[label]
    return (low + high) // 2


def stix_to_estimative(value: int) -> str:
    for label, (_low, high) in ESTIMATIVE.items():
        if value <= high:
            return label
    return "almost certain"


def parse_reliability(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    key = value.strip().upper()[:1]
    if key not in SOURCE_RELIABILITY:
        raise InvalidInput(f"source reliability {value!r} is not an Admiralty grade A-F")
    return key


def parse_credibility(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    key = str(value).strip()[:1]
    if key not in INFORMATION_CREDIBILITY:
        raise InvalidInput(f"information credibility {value!r} is not an Admiralty grade 1-6")
    return key


def admiralty(reliability: str | None, credibility: str | None) -> str | None:
    """'B2' style code, or None when neither is graded."""
    if not reliability and not credibility:
        return None
    return f"{reliability or 'F'}{credibility or '6'}"
