"""Language identification, and the pipeline stage that fills it in where a source did not."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from fimiscope.core.model import Document
from fimiscope.pipeline import DocumentStage, register
from fimiscope.store import Store
from fimiscope.store import documents as document_store

_MIN_CHARS = 20  # below this a guess is noise; leave the language unknown


def identify(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when it is too short to tell."""
    sample = text[:2000]
    if len(sample.strip()) < _MIN_CHARS:
        return None
    import py3langid

    lang, _score = py3langid.classify(sample)
    return str(lang)


@register
class LanguageStage(DocumentStage):
    name = "extract.language"
    order = 10
    description = "identify the language of documents that arrived without one"
    parallel = True  # one document at a time: batches may run in several workers at once

    def process(self, store: Store, docs: Sequence[Document], conn: Connection) -> int:
        for doc in docs:
            if doc.language:
                continue
            lang = identify(f"{doc.title or ''}\n{doc.text}")
            if lang and doc.id:
                document_store.update_document_fields(conn, doc.id, language=lang)
        return 0
