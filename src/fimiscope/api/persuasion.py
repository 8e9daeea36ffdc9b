"""REST API of the persuasion room: a document's paragraphs with techniques, scores and spans
(``/api/persuasion/documents/{id}``), technique profiles per week of a source or a narrative,
the taxonomy with its DISARM mapping and thresholds, and classification of a posted text."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field

from fimiscope.api.auth import require
from fimiscope.config import Settings
from fimiscope.core.errors import NotFound
from fimiscope.detect.persuasion import DISARM, classify_text
from fimiscope.index.persuasion import GROUP_OF, shipped_model, technique_label
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import persuasion as db
from fimiscope.store.users import User

MAX_TEXT = 200_000


class ClassifyBody(BaseModel):
    text: str = Field(..., max_length=MAX_TEXT, description="Paragraphs separated by line breaks.")
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code.")


def with_text(text: str, result: dict[str, Any]) -> dict[str, Any]:
    for p in result["paragraphs"]:
        p["text"] = text[p["start"]:p["end"]]
        for sp in p["spans"]:
            sp["text"] = text[sp["start"]:sp["end"]]
    return result


def document_result(store: Store, doc_id: str) -> dict[str, Any]:
    doc = store.read(document_store.get_document, doc_id)
    stored = store.read(db.document_paragraphs, doc_id)
    if stored is None:
        raise NotFound(f"{doc_id} has not been classified yet; run `fimiscope detect persuasion`")
    return with_text(doc.text, {"title": doc.title, "language": doc.language, **stored})


def techniques_json() -> list[dict[str, Any]]:
    model = shipped_model()
    return [{"technique": t, "label": technique_label(t), "group": GROUP_OF[t], "disarm": list(DISARM[t]),
             "decision_threshold": round(float(model.thresholds[i]), 3),
             "signal_threshold": round(float(model.signal_thresholds[i]), 3) if model.signal_thresholds[i] <= 1
             else None}
            for i, t in enumerate(model.labels)]


def mount(app: FastAPI, store: Store, settings: Settings) -> None:
    router = APIRouter(prefix="/api/persuasion", tags=["persuasion"])
    viewer = require("viewer")

    @router.get("/techniques", summary="The 23 techniques: group, DISARM techniques, thresholds")
    def techniques(_u: User = viewer) -> dict[str, Any]:
        model = shipped_model()
        return {"model_version": model.version, "signal_precision": model.signal_precision,
                "items": techniques_json()}

    @router.get("/documents/{doc_id}", summary="A document's paragraphs with techniques, scores and spans")
    def document(doc_id: str, _u: User = viewer) -> dict[str, Any]:
        return document_result(store, doc_id)

    @router.get("/sources/{name_or_id}/profile", summary="A source's technique rates per week")
    def source_profile(name_or_id: str, weeks: int = Query(26, ge=1, le=520), _u: User = viewer) -> dict[str, Any]:
        with store.connect() as conn:
            return db.source_profile(conn, db.source_id_for(conn, name_or_id), weeks=weeks)

    @router.get("/narratives/{narrative_id}/profile", summary="A narrative's technique rates per week")
    def narrative_profile(narrative_id: str, weeks: int = Query(26, ge=1, le=520),
                          _u: User = viewer) -> dict[str, Any]:
        return store.read(db.narrative_profile, narrative_id, weeks=weeks)

    @router.post("/classify", summary="Classify a text (not stored)")
    def classify(body: ClassifyBody, _u: User = viewer) -> dict[str, Any]:
        model = shipped_model()
        n, rows = classify_text(model, body.text, body.language)
        return with_text(body.text, {
            "language": body.language, "model_version": model.version, "n_paragraphs": n,
            "n_with_techniques": len(rows),
            "paragraphs": [{"index": r["para_index"], "start": r["span_start"], "end": r["span_end"],
                            "techniques": r["techniques"], "scores": r["scores"], "spans": r["spans"]}
                           for r in rows]})

    app.include_router(router)
