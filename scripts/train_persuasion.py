"""Train the persuasion model that ships with fimiscope.

    python scripts/train_persuasion.py DATA [--out src/fimiscope/index/persuasion_model.json.gz]

DATA is the SemEval-2023 Task 3 folder (``<lang>/train-articles``,
``<lang>/train-labels-subtask-3.txt``). The articles are cut 80/20 by a hash of their id
(``persuasion_train.split_articles``, the same cut as ``eval/persuasion.py``): the model is
trained on the 80 %, its decision thresholds by cross-validation inside it, its signal
thresholds (precision >= 0.6 per technique) on the 20 %. Deterministic: the same data gives
the same file. Needs scikit-learn (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fimiscope.index import persuasion_train as pt

MODEL_VERSION = "1"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/fimiscope/index/persuasion_model.json.gz"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--precision", type=float, default=0.6, help="precision the signal thresholds must reach on dev")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    examples = pt.load_semeval(args.data)
    train, dev = pt.split_articles(examples)
    print(f"{len(examples)} paragraphs: {len(train)} train, {len(dev)} dev", file=sys.stderr)
    model = pt.train(train, dev=dev, signal_precision=args.precision, version=MODEL_VERSION,
                     log=lambda m: print(m, file=sys.stderr))
    model.meta["data"] = "SemEval-2023 Task 3 subtask 3 train split (en fr de it pl ru), 80% of articles"
    model.save(args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes) in {time.monotonic() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
