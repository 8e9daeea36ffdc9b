"""Full-text search across inflection: exact forms vs lemmas, SQLite and PostgreSQL side by side.

    python eval/search.py DATA [--test DIR] [--postgres URL] [--per-language N] [--queries N]

DATA is the shared data folder. Documents are sentences in cs, sk, pl, uk, ru, bg, de and en:
the Universal Declaration of Human Rights (``languages/udhr``, the same text in every
language) and, where a language has them, the SemEval-2025 Task 10 articles (bg, ru, en) and
the SemEval-2023 Task 3 articles (pl, ru, de, en), split into sentences, up to
``--per-language`` each, all in one store (the query's language is not given, as a user
would not give it).

For a sample of sentences in each language, a query is two content words of the sentence,
each replaced by **another inflected form of the same lemma** that the sentence does not use
(``obilím`` for ``obilí``); the hit is the sentence itself in the top 10. Searched as exact
forms (each word in quotes: the behaviour before lemmas) and lemmatised (plain words). A
control row asks with the sentence's own forms, to show what lemmas cost in precision.

The other forms are drawn from simplemma's own dictionary, the same dictionary that lemmatises
the index: this measures what exact-form search loses and that the lemma path works end to
end through the store, not simplemma's coverage of real text.

Also: import speed (documents/s through ``upsert_documents``, and the share of it spent
lemmatising) and the size of the store with the lemma column and without it.

--test DIR: a folder of the same layout to score instead (nothing here is tuned). Prints a
table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sqlalchemy as sa
from lxml import html as lxml_html

from fimiscope.core.model import Document
from fimiscope.index.lemmas import lemmatize
from fimiscope.index.sentences import split_sentences
from fimiscope.store import Store
from fimiscope.store import documents as document_store
from fimiscope.store import search as search_store

LANGS = ["cs", "sk", "pl", "uk", "ru", "bg", "de", "en"]
UDHR = {"cs": "ces", "sk": "slk", "pl": "pol", "uk": "ukr", "ru": "rus", "bg": "bul", "de": "deu_1996", "en": "eng"}
NARRATIVES = {"bg": "BG", "ru": "RU", "en": "EN"}
PERSUASION = {"pl": "po", "ru": "ru", "de": "ge", "en": "en"}
_WORD = re.compile(r"\w+", re.UNICODE)


def udhr_sentences(data: Path, lang: str) -> list[str]:
    path = data / "languages" / "udhr" / f"{UDHR[lang]}.html"
    if not path.exists():
        return []
    tree = lxml_html.fromstring(path.read_text(encoding="utf-8"))
    out = []
    for p in tree.iter("p"):
        out.extend(s.text for s in split_sentences(p.text_content()))
    return out


def article_sentences(data: Path, lang: str) -> list[str]:
    files: list[Path] = []
    if lang in NARRATIVES:
        files += sorted((data / "narratives" / "semeval2025-t10" / NARRATIVES[lang] / "raw-documents").glob("*.txt"))
    if lang in PERSUASION:
        files += sorted((data / "persuasion" / "semeval2023-t3" / PERSUASION[lang] / "train-articles").glob("*.txt"))
    out = []
    for f in files:
        out.extend(s.text for s in split_sentences(f.read_text(encoding="utf-8", errors="replace")))
    return out


def corpus(data: Path, per_language: int) -> dict[str, list[str]]:
    out = {}
    for lang in LANGS:
        seen, kept = set(), []
        for s in udhr_sentences(data, lang) + article_sentences(data, lang):
            s = " ".join(s.replace("\x00", " ").split())  # one article has NUL bytes; PostgreSQL refuses them
            if 40 <= len(s) <= 600 and s not in seen:
                seen.add(s)
                kept.append(s)
        out[lang] = kept[:per_language]
    return out


def other_forms(lang: str) -> dict[str, list[str]]:
    """lemma -> the lower-case forms simplemma's dictionary maps to it."""
    from simplemma.strategies.dictionaries import DefaultDictionaryFactory

    forms: dict[str, list[str]] = defaultdict(list)
    for form, lemma in DefaultDictionaryFactory().get_dictionary(lang).items():
        if form.isalpha() and form.islower():
            forms[str(lemma).lower()].append(form)
    return forms


def make_queries(sentences: list[str], lang: str, n: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """(sentence index, query in other forms, query in the sentence's own forms)."""
    forms = other_forms(lang)
    order = list(range(len(sentences)))
    rng.shuffle(order)
    out = []
    for i in order:
        words = [w for w in _WORD.findall(sentences[i]) if w.isalpha() and len(w) >= 5]
        used = {w.lower() for w in _WORD.findall(sentences[i])}
        picks: list[tuple[str, str]] = []
        for w in rng.sample(words, len(words)):
            lemma = lemmatize(w, lang)
            others = sorted(f for f in forms.get(lemma, []) if f not in used and lemmatize(f, lang) == lemma)
            if others and all(lemma != lemmatize(p, lang) for p, _ in picks):
                picks.append((w, rng.choice(others)))
            if len(picks) == 2:
                break
        if len(picks) == 2:
            out.append((i, " ".join(o for _, o in picks), " ".join(w for w, _ in picks)))
        if len(out) == n:
            break
    return out


def quoted(query: str) -> str:
    return " ".join(f'"{w}"' for w in query.split())


def load(store: Store, docs: list[Document]) -> dict[str, float]:
    t0 = time.perf_counter()
    ids: list[str] = []
    for start in range(0, len(docs), 1000):
        ids += store.write(document_store.upsert_documents, docs[start : start + 1000]).ids
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    for d in docs:
        document_store.lemma_column(d.title, d.text, d.language)
    lemma_s = time.perf_counter() - t1
    for d, i in zip(docs, ids, strict=True):
        d.id = i
    return {"import_s": total, "lemma_s": lemma_s, "docs_per_s": len(docs) / total,
            "docs_per_s_without_lemmas": len(docs) / max(total - lemma_s, 1e-9)}


def recall(store: Store, cases: list[tuple[str, str]], mode: Callable[[str], str]) -> float:
    hits = 0
    with store.connect() as conn:
        for doc_id, query in cases:
            found = [d.id for d, _ in search_store.search(conn, mode(query), limit=10)]
            hits += doc_id in found
    return hits / max(len(cases), 1)


def size_bytes(store: Store, path: Path | None) -> int:
    """The store's size after compaction: the SQLite file, or PostgreSQL's documents table
    with its indexes and TOAST."""
    if store.dialect == "sqlite":
        import sqlite3

        assert path is not None
        raw = sqlite3.connect(path, isolation_level=None)
        raw.execute("INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')")  # drop deleted postings
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # under WAL, VACUUM's result is in the log
        raw.close()
        return path.stat().st_size
    raw_pg = store.engine.raw_connection()
    try:
        driver = raw_pg.driver_connection
        driver.autocommit = True  # type: ignore[union-attr]
        driver.execute("VACUUM FULL documents")  # type: ignore[union-attr]
        row = driver.execute("SELECT pg_total_relation_size('documents')").fetchone()  # type: ignore[union-attr]
        return int(row[0])
    finally:
        raw_pg.close()


def drop_lemmas(store: Store) -> None:
    with store.transaction() as c:
        c.execute(sa.text("UPDATE documents SET lemmas = NULL"))


def run_backend(name: str, url: str, path: Path | None, docs: list[Document],
                queries: dict[str, list[tuple[int, str, str]]], offsets: dict[str, int]) -> dict[str, object]:
    store = Store.open(url)
    speed = load(store, [Document(text=d.text, url=d.url, language=d.language) for d in docs])
    stored = store.read(lambda c: {r[0]: r[1] for r in c.execute(sa.text("SELECT key, id FROM documents"))})
    out: dict[str, object] = {"backend": name, **speed, "by_language": {}}
    totals: dict[str, list[float]] = defaultdict(list)
    for lang, qs in queries.items():
        other = [(stored[docs[offsets[lang] + i].key], q) for i, q, _own in qs]
        own = [(stored[docs[offsets[lang] + i].key], o) for i, _q, o in qs]
        row = {
            "queries": len(qs),
            "other_forms_exact": recall(store, other, quoted),
            "other_forms_lemmas": recall(store, other, lambda q: q),
            "own_forms_exact": recall(store, own, quoted),
            "own_forms_lemmas": recall(store, own, lambda q: q),
        }
        out["by_language"][lang] = row  # type: ignore[index]
        for k, v in row.items():
            if k != "queries":
                totals[k] += [v] * len(qs)
    out["all"] = {k: sum(v) / len(v) for k, v in totals.items()}
    out["size_with_lemmas"] = size_bytes(store, path)
    drop_lemmas(store)
    out["size_without_lemmas"] = size_bytes(store, path)
    store.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--test", type=Path, help="score this folder (same layout) instead")
    ap.add_argument("--postgres", default=os.environ.get("FIMISCOPE_TEST_DATABASE_URL"),
                    help="PostgreSQL URL (a fresh schema is made and dropped); default FIMISCOPE_TEST_DATABASE_URL")
    ap.add_argument("--per-language", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=150, help="queries per language")
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args()
    data = args.test or args.data
    sentences = corpus(data, args.per_language)
    rng = random.Random(args.seed)
    docs: list[Document] = []
    offsets: dict[str, int] = {}
    queries: dict[str, list[tuple[int, str, str]]] = {}
    for lang in LANGS:
        offsets[lang] = len(docs)
        docs += [Document(text=s, url=f"https://eval.example/{lang}/{i}", language=lang)
                 for i, s in enumerate(sentences[lang])]
        queries[lang] = make_queries(sentences[lang], lang, args.queries, rng)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eval.sqlite3"
        results.append(run_backend("sqlite", f"sqlite:///{path}", path, docs, queries, offsets))
    if args.postgres:
        schema = f"eval_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            sep = "&" if "?" in args.postgres else "?"
            url = f"{args.postgres}{sep}options={quote(f'-csearch_path={schema}')}"
            results.append(run_backend("postgresql", url, None, docs, queries, offsets))
        finally:
            with admin.begin() as c:
                c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()

    print(f"{len(docs)} sentences in {len(LANGS)} languages, one store; recall@10 (the sentence in the top 10)")
    print(f"{'lang':5} {'docs':>5} {'q':>4} | " + " | ".join(
        f"{r['backend'][:6]:>6} other-forms exact  lemmas | own-forms exact  lemmas" for r in results))
    for lang in LANGS:
        n_docs = len(sentences[lang])
        cells = []
        for r in results:
            row = r["by_language"][lang]  # type: ignore[index]
            cells.append(f"{'':>6} {row['other_forms_exact']:>17.3f} {row['other_forms_lemmas']:>7.3f} | "
                         f"{row['own_forms_exact']:>15.3f} {row['own_forms_lemmas']:>7.3f}")
        print(f"{lang:5} {n_docs:>5} {len(queries[lang]):>4} | " + " | ".join(cells))
    for r in results:
        a = r["all"]
        print(f"{r['backend']}: all other-forms exact {a['other_forms_exact']:.3f} lemmas {a['other_forms_lemmas']:.3f}; "  # type: ignore[index]
              f"own-forms exact {a['own_forms_exact']:.3f} lemmas {a['own_forms_lemmas']:.3f}; "  # type: ignore[index]
              f"import {r['docs_per_s']:.0f} docs/s ({r['lemma_s'] / r['import_s']:.0%} of it lemmatising, "  # type: ignore[operator]
              f"~{r['docs_per_s_without_lemmas']:.0f} docs/s without); size {r['size_with_lemmas'] / 1e6:.1f} MB with "  # type: ignore[operator]
              f"lemmas, {r['size_without_lemmas'] / 1e6:.1f} MB without")  # type: ignore[operator]
    print(json.dumps({"eval": "search", "documents": len(docs), "results": results}))


if __name__ == "__main__":
    main()
