"""detect.claims on a real store: sentence spans, no false match, incremental, re-match on new claims."""

from __future__ import annotations

import json

from fimiscope import pipeline
from fimiscope.core.model import Claim, Document
from fimiscope.detect.claims import ClaimMatcher, split_sentences
from fimiscope.store import Store
from fimiscope.store.claims import add_claim

CLAIMS = [
    Claim(
        text="The explosions in the munitions depot in Vinnitsa were organized by the Ukrainian soldiers "
        "themselves to cover up the theft of weapons.",
        title="Explosions in Vinnitsa were organized by Ukrainian soldiers",
        debunk="Investigators named sabotage as the likely cause.",
        debunk_url="https://debunk.example/vinnitsa",
        verdict="false",
    ),
    Claim(text="The European Union wants to ban Christmas celebrations in all member states."),
    Claim(text="Vaccines against COVID-19 contain microchips that track people."),
]

ARTICLE = (
    "Kyiv, 4 October. The weather was mild this week and markets were calm. "
    "According to local bloggers, Ukrainian soldiers themselves organized the explosions at the Vinnitsa "
    "munitions depot, hoping to cover up stolen weapons. "
    "The city council met on Tuesday to discuss road repairs. Dr. Ivanenko opened a new clinic."
)
UNRELATED = (
    "The football season starts next week. Fans hope the new coach brings better results. "
    "Tickets go on sale on Monday at the stadium."
)


def _doc(key: str, text: str) -> Document:
    return Document(text=text, url=f"https://news.example/{key}", title=key, language="en")


def _claim_signals(store: Store) -> list:  # type: ignore[type-arg]
    return [store.get_signal(s.id) for s in store.list_signals(type="claim_match", limit=100) if s.id]


def test_matches_reworded_claim_with_sentence_span(store: Store) -> None:
    for c in CLAIMS:
        add_claim(store, Claim(**{f: getattr(c, f) for f in ("text", "title", "debunk", "debunk_url", "verdict")}))
    res = store.upsert_documents([_doc("article", ARTICLE), _doc("sports", UNRELATED)])
    (report,) = pipeline.run(store, only=["detect.claims"])
    assert report.processed == 2 and report.signals == 1
    (sig,) = _claim_signals(store)
    article_id = res.ids[0]
    assert sig.type == "claim_match"
    assert sig.key.startswith(f"claim:{article_id}:clm_")
    assert 0.5 <= sig.score <= 1
    assert sig.details["debunk_url"] == "https://debunk.example/vinnitsa"
    assert sig.details["claim_text"].startswith("The explosions in the munitions depot")
    assert set(sig.details["components"]) >= {"bm25", "query_coverage", "claim_coverage", "calibrated"}
    (ev,) = sig.evidence  # one sentence, not the pair around it
    assert ev.document_id == article_id
    assert ARTICLE[ev.span_start : ev.span_end].startswith("According to local bloggers")
    assert ARTICLE[ev.span_start : ev.span_end].endswith("stolen weapons.")

    # Incremental: nothing new, nothing written twice.
    (again,) = pipeline.run(store, only=["detect.claims"])
    assert again.processed == 0 and again.signals == 0
    assert len(_claim_signals(store)) == 1


def test_new_claims_rematch_old_documents(store: Store) -> None:
    store.upsert_documents([_doc("article", ARTICLE), _doc("sports", UNRELATED)])
    (first,) = pipeline.run(store, only=["detect.claims"])
    assert first.processed == 2 and first.signals == 0  # no claims yet
    add_claim(store, CLAIMS[0])
    (second,) = pipeline.run(store, only=["detect.claims"])
    assert second.processed == 2 and second.signals == 1
    (third,) = pipeline.run(store, only=["detect.claims"])
    assert third.processed == 0


def test_unrelated_text_sharing_words_is_not_matched() -> None:
    matcher = ClaimMatcher([(f"c{i}", c.text) for i, c in enumerate(CLAIMS)])
    assert matcher.match_text(UNRELATED) == []
    # Shares "Christmas" and "European" but says something else.
    assert matcher.match_text("The European choir sang at the Christmas market in Prague on Sunday.") == []
    hits = matcher.match_text("Brussels plans to ban Christmas celebrations in every member state of the Union.")
    assert [h.claim_id for h in hits] == ["c1"]


def test_sentence_splitting_czech_russian_english() -> None:
    cs = "Podle tzv. expertů je to pravda. Mgr. Novák to potvrdil např. v rozhovoru. Premiér A. Babiš mlčel!"
    assert [s.text for s in split_sentences(cs)] == [
        "Podle tzv. expertů je to pravda.",
        "Mgr. Novák to potvrdil např. v rozhovoru.",
        "Premiér A. Babiš mlčel!",
    ]
    ru = "Об этом сообщил проф. Иванов, т.е. эксперт. В 2017 г. Запад ввёл санкции. «Это ложь», — сказал он."
    assert [s.text for s in split_sentences(ru)] == [
        "Об этом сообщил проф. Иванов, т.е. эксперт.",
        "В 2017 г. Запад ввёл санкции.",
        "«Это ложь», — сказал он.",
    ]
    en = "Mr. Smith met Dr. Jones in the U.S. yesterday. They talked.\n\nA new paragraph"
    spans = split_sentences(en)
    assert [s.text for s in spans] == [
        "Mr. Smith met Dr. Jones in the U.S. yesterday.",
        "They talked.",
        "A new paragraph",
    ]
    assert all(en[s.start : s.end] == s.text for s in spans)


def test_cli_detect_claims_and_pairs(cli, store: Store) -> None:  # type: ignore[no-untyped-def]
    cli("claims", "add", CLAIMS[0].text, "--debunk-url", "https://debunk.example/vinnitsa", "--verdict", "false")
    store.upsert_documents([_doc("article", ARTICLE)])
    out = json.loads(cli("detect", "claims", "--format", "json").stdout)
    assert out["stage"] == "detect.claims" and out["signals"] == 1
    sig_id = json.loads(cli("signals", "list", "--type", "claim_match", "--format", "json").stdout)[0]["id"]
    assert json.loads(cli("claims", "pairs", "--format", "json").stdout) == []
    cli("signals", "set-status", "confirmed", sig_id)
    (pair,) = json.loads(cli("claims", "pairs", "--format", "json").stdout)
    assert pair["verdict"] == "confirmed"
    assert pair["sentence"].startswith("According to local bloggers")
    assert pair["claim_text"] == CLAIMS[0].text
