"""The overview's volumes tell the truth about a historical import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fimiscope.core.model import Document
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import workbench as wb


def test_volume_by_day_ends_at_the_latest_publication_of_an_old_import(store: Store) -> None:
    t0 = datetime(2019, 5, 1, 12, 0, tzinfo=UTC)
    store.write(document_store.upsert_documents, [
        Document(text=f"story {i} about the harbour", source="archive.example", external_id=f"a{i}",
                 published_at=t0 + timedelta(days=i % 5))
        for i in range(20)
    ])
    data = wb.overview(store, days=30)
    assert data["until"] == "2019-05-05" and data["recent"] is False
    assert sum(data["documents_by_day"].values()) == 20
    assert data["documents_by_day"]["2019-05-05"] == 4
