"""The intake classifier against a plain baseline, on an honest split of the CFPB dev sample.

    python benchmarks/complaint_classifier.py [--file complaints_dev.csv] [--seeds 0 1 2]
    python benchmarks/complaint_classifier.py --inner   # how the settings were chosen

Split rule: the rows with a narrative and a known product (products mapped onto the bank's
taxonomy as the import maps them, issues as their `issue-cfpb-…` codes). Narratives that are
the same once folded (lower case, redactions and non-letters dropped), or near-duplicates
(cosine ≥ 0.9 between their word TF-IDF vectors), form one group; a seeded stratified group
split (StratifiedGroupKFold, 4 folds, first fold held out) puts a quarter of the rows, whole
groups at a time, in the evaluation part. Nothing is tuned on it: `--inner` splits the
training part again the same way and reports the candidates' figures on that inner part.
The project's own test split is never read.

Baseline: TF-IDF word 1–2-grams and LogisticRegression, every other setting left at its
default. Both are trained on the same training part and measured on the same evaluation part.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402

from bankdesk.complaints.cfpb import cfpb_examples, read_cfpb  # noqa: E402
from bankdesk.complaints.classifier import Example, Settings, measure, train  # noqa: E402

DEFAULT_FILE = Path("/work/shared/data/cfpb_complaints/complaints_dev.csv")
NEAR_DUPLICATE = 0.9
_NOT_LETTERS = re.compile(r"[^a-z\u4e00-\u9fff]+")


def groups_of(texts: list[str]) -> np.ndarray:
    """Group number per text: exact (folded) and near duplicates share one."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    folded: dict[str, int] = {}
    for i, text in enumerate(texts):
        key = _NOT_LETTERS.sub(" ", re.sub(r"x{2,}", " ", text.lower())).strip()
        if key in folded:
            parent[root(i)] = root(folded[key])
        else:
            folded[key] = i
    vectors = TfidfVectorizer().fit_transform(texts)
    similar = (vectors @ vectors.T).tocoo()
    for i, j, value in zip(similar.row, similar.col, similar.data, strict=True):
        if i < j and value >= NEAR_DUPLICATE:
            parent[root(i)] = root(j)
    return np.array([root(i) for i in range(len(texts))])


def split(examples: list[Example], seed: int) -> tuple[list[Example], list[Example]]:
    texts = [example.text for example in examples]
    labels = [example.product for example in examples]
    folds = StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=seed)
    kept, held = next(folds.split(texts, labels, groups_of(texts)))
    return [examples[i] for i in kept], [examples[i] for i in held]


def baseline(training: list[Example], evaluation: list[Example]) -> dict[str, float]:
    def one(truth_of: str) -> tuple[float, float]:
        rows = [e for e in training if getattr(e, truth_of)]
        vectoriser = TfidfVectorizer(ngram_range=(1, 2))
        model = LogisticRegression()
        model.fit(
            vectoriser.fit_transform([e.text for e in rows]), [getattr(e, truth_of) for e in rows]
        )
        tested = [e for e in evaluation if getattr(e, truth_of)]
        guess = model.predict(vectoriser.transform([e.text for e in tested]))
        truth = [getattr(e, truth_of) for e in tested]
        return (
            round(float(accuracy_score(truth, guess)), 4),
            round(float(f1_score(truth, guess, average="macro", zero_division=0)), 4),
        )

    product, issue = one("product"), one("issue")
    return {
        "product_accuracy": product[0],
        "product_macro_f1": product[1],
        "issue_accuracy": issue[0],
        "issue_macro_f1": issue[1],
    }


CANDIDATES = {
    "chosen": Settings(),
    "C=3": Settings(c=3.0),
    "C=30": Settings(c=30.0),
    "no pairs": Settings(use_pairs=False),
    "fewer char n-grams": Settings(char_features=60_000),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--inner", action="store_true", help="compare settings, inner split")
    args = parser.parse_args()
    examples = cfpb_examples(read_cfpb(args.file).rows)
    print(f"{len(examples)} narratives with a known product", file=sys.stderr)
    for seed in args.seeds:
        training, evaluation = split(examples, seed)
        if args.inner:
            inner_training, inner_validation = split(training, 100 + seed)
            figures = {"baseline": baseline(inner_training, inner_validation)}
            for name, options in CANDIDATES.items():
                figures[name] = measure(train(inner_training, options), inner_validation)
            print(json.dumps({"seed": seed, "part": "inner validation", **figures}))
            continue
        started = time.monotonic()
        model = train(training)
        seconds = round(time.monotonic() - started, 1)
        print(
            json.dumps(
                {
                    "seed": seed,
                    "train": len(training),
                    "evaluate": len(evaluation),
                    "baseline": baseline(training, evaluation),
                    "bankdesk": measure(model, evaluation),
                    "train_seconds": seconds,
                }
            )
        )


if __name__ == "__main__":
    main()
