"""Counts of what the store holds, for ``fimiscope stats`` and the demo's summary."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from fimiscope.store.tables import document_versions, documents, raw_blobs, signals, sources, watermarks


def stats(c: Connection) -> dict[str, Any]:
    """Documents, versions, raw blobs, sources and signals, with breakdowns and watermarks."""

    def count(table: sa.Table) -> int:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

    by_lang = {
        (r[0] or "unknown"): int(r[1])
        for r in c.execute(
            sa.select(documents.c.language, sa.func.count()).group_by(documents.c.language)
        )
    }
    by_type = {
        r[0]: int(r[1])
        for r in c.execute(sa.select(signals.c.type, sa.func.count()).group_by(signals.c.type))
    }
    by_aff = {
        r[0]: int(r[1])
        for r in c.execute(sa.select(sources.c.affiliation, sa.func.count()).group_by(sources.c.affiliation))
    }
    return {
        "database": c.dialect.name,
        "documents": count(documents),
        "document_versions": count(document_versions),
        "raw_blobs": count(raw_blobs),
        "sources": count(sources),
        "signals": count(signals),
        "documents_by_language": dict(sorted(by_lang.items())),
        "signals_by_type": dict(sorted(by_type.items())),
        "sources_by_affiliation": dict(sorted(by_aff.items())),
        "watermarks": {
            r[0]: int(r[1]) for r in c.execute(sa.select(watermarks.c.stage, watermarks.c.position))
        },
    }
