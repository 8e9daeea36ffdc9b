"""A real laundering cluster and a real claim match, made by running the detectors on seeded
documents (shared by the API and browser tests; a module, not conftest)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.detect.test_laundering import STORY, STORY_RU

from fimiscope import pipeline
from fimiscope.core.model import Affiliation, Claim, Document, Provenance, Source
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import laundering as db
from fimiscope.store import signals as signal_store
from fimiscope.store import sources as source_store
from fimiscope.store.claims import add_claim

FILLER = [
    "A new bakery opened in the old town on Saturday, drawing long queues of customers who waited patiently "
    "for sourdough bread and cinnamon rolls made according to a recipe handed down for three generations.",
    "Farmers in the south of the country are worried about the drought that has lasted for almost three "
    "months, and many of them say the harvest of wheat and barley will be the worst in a decade this year.",
]
CLAIM = Claim(
    text="The explosions in the munitions depot in Vinnitsa were organized by the Ukrainian soldiers "
    "themselves to cover up the theft of weapons.",
    title="Explosions in Vinnitsa were organized by Ukrainian soldiers",
    debunk="Investigators named sabotage as the likely cause; no evidence of a cover-up was found.",
    debunk_url="https://debunk.example/vinnitsa",
    verdict="false",
    language="en",
)
ARTICLE = (
    "Kyiv, 4 October. The weather was mild this week and markets were calm. "
    "According to local bloggers, Ukrainian soldiers themselves organized the explosions at the Vinnitsa "
    "munitions depot, hoping to cover up stolen weapons. "
    "The city council met on Tuesday to discuss road repairs. Dr. Ivanenko opened a new clinic."
)
MATCHED = "According to local bloggers"


WORDS = sorted(set(" ".join(FILLER).lower().replace(",", "").replace(".", "").split()))


def _unrelated(doc: Any) -> list[Document]:
    """150 unrelated short texts with numbers of their own: a translation's anchors (numbers,
    names) count only when rare (in at most 2% of the documents that have anchors), so the
    story needs a crowd to stand out from."""
    rng = random.Random(7)
    return [
        doc("daily-news.example", f"f{i}",
            [f"On {1000 + i} sites {2000 + i} people said " + " ".join(rng.choice(WORDS) for _ in range(40))],
            1 + i / 100,
            title=f"Local news {i}")
        for i in range(150)
    ]


@dataclass
class Made:
    cluster_id: str
    origin_id: str
    copy_id: str  # the verbatim copy, attribution stripped
    translation_id: str
    laundering_signal_id: str  # raised on copy_id
    claim_id: str
    claim_signal_id: str
    article_id: str


def make_cluster_and_claim(store: Store, now: datetime | None = None) -> Made:
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    t0 = now - timedelta(days=2)
    with store.transaction() as c:
        source_store.add_source(
            c, Source(name="rt.example", domain="rt.example", display_name="RT",
                      affiliation=Affiliation.STATE_CONTROLLED, provenance=[Provenance(by="test list")]),
            replace=True,
        )
        source_store.add_source(c, Source(name="daily-news.example", affiliation=Affiliation.INDEPENDENT), replace=True)
        source_store.add_source(c, Source(name="novosti.example", affiliation=Affiliation.UNKNOWN), replace=True)

    def doc(source: str, ext: str, paras: list[str], hours: float, lang: str = "en", title: str = "") -> Document:
        return Document(text="\n\n".join(paras), source=source, external_id=ext, url=f"https://{source}/{ext}",
                        title=title, language=lang, published_at=t0 + timedelta(hours=hours))

    ids = store.write(document_store.upsert_documents, [
        doc("rt.example", "a1", ["Moscow, 1 March.", *STORY], 0, title="Troops to join border exercise"),
        doc("daily-news.example", "b1", ["BREAKING", *STORY, "Share this article."], 3, title="Troops mass at border"),
        doc("novosti.example", "r1", STORY_RU, 6, lang="ru", title="Учения у границы"),
        *_unrelated(doc),
    ]).ids
    claim = add_claim(store, CLAIM)
    article = Document(text=ARTICLE, url="https://daily-news.example/vinnitsa", source="daily-news.example",
                       title="Vinnitsa depot", language="en", published_at=t0 + timedelta(hours=8))
    article_id = store.write(document_store.upsert_documents, [article]).ids[0]
    pipeline.run(store, only=["detect.laundering", "detect.claims"])

    with store.connect() as c:
        cluster_id = db.clusters_of(c, [ids[0]])[ids[0]]
        assert db.get_cluster(c, cluster_id)["origin_document_id"] == ids[0]
    launder = {s.key: s.id for s in store.read(signal_store.list_signals, type="laundering", limit=1000)}
    claim_sig = {s.key: s.id for s in store.read(signal_store.list_signals, type="claim_match", limit=1000)}
    return Made(
        cluster_id=cluster_id, origin_id=ids[0], copy_id=ids[1], translation_id=ids[2],
        laundering_signal_id=str(launder[f"laundering:{ids[1]}"]), claim_id=claim.id,
        claim_signal_id=str(claim_sig[f"claim:{article_id}:{claim.id}"]), article_id=article_id,
    )
