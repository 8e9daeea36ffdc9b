"""Domain types, ids, clocks and errors. No I/O; imports nothing else of ours."""

from fimiscope.core.errors import ConfigError, FimiscopeError, InvalidInput, NotFound, Refused, Unavailable
from fimiscope.core.ids import new_id
from fimiscope.core.model import (
    Actor,
    Affiliation,
    Claim,
    Document,
    Evidence,
    Incident,
    Narrative,
    Provenance,
    Reliability,
    Signal,
    SignalStatus,
    Source,
)

__all__ = [
    "Actor",
    "Affiliation",
    "Claim",
    "ConfigError",
    "Document",
    "Evidence",
    "FimiscopeError",
    "Incident",
    "InvalidInput",
    "Narrative",
    "NotFound",
    "Provenance",
    "Refused",
    "Reliability",
    "Signal",
    "SignalStatus",
    "Source",
    "Unavailable",
    "new_id",
]
