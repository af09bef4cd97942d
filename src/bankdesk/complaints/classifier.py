"""The intake classifier: a suggested product and issue for a new complaint, from what the
customer wrote, for the complaint officer to confirm or correct.

It learns from narratives whose product and issue are known: complaints loaded from the CFPB's
register (`bankdesk complaints train --data FILE.csv`) and the officers' own confirmations and
corrections (`ClassificationExample`). A narrative is folded (NFKC, lower case, Traditional to
Simplified, Chinese cut into words by jieba, the CFPB's XXXX redactions dropped) and turned into
TF-IDF word 1–2-grams and character 2–5-grams. The n-grams are hashed, so the stored model
holds numbers only, never a vocabulary taken from customers' words. Two logistic regressions
with balanced class weights, one for the product and one for the issue, read them: balanced,
because the register is dominated by a few products (two thirds of the CFPB's are credit
reporting) and a suggestion that only ever names those helps nobody. The issue is chosen
together with the product, among the issues seen under the products the narrative likely
concerns.

The model is one `.npz` file under BANKDESK_HOME (no pickle: it is read with
`allow_pickle=False`), replaced atomically by training, loaded by the first suggestion a
process makes and loaded again when the file changes. With no model, nothing is suggested.
Suggesting is cheap (a few milliseconds); training never happens at intake.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jieba
import numpy as np
import scipy.sparse as sp
from django.db import transaction
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import normalize

from bankdesk.complaints.choices import ClassKind, ExampleSource
from bankdesk.complaints.models import ClassificationExample, Complaint, ComplaintClass
from bankdesk.complaints.suggestion import model_path
from bankdesk.lib.chinese import HAN, to_simplified
from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Case, Message

logger = logging.getLogger("bankdesk.complaints")
jieba.setLogLevel(logging.WARNING)

FORMAT = "bankdesk-complaint-classifier/1"
N_HASH = 2**21
# The opening of a narrative says what it is about; a pasted letter of 20,000 characters
# must not make intake slow.
TEXT_MAX = 5000
# An issue never seen under a product keeps this share of its score: unlikely, not impossible
# (the bank's taxonomy lets an officer file any issue under any product).
UNSEEN_PAIR_WEIGHT = 0.05

_REDACTION = re.compile(r"\b[x]{2,}(?:[/-][x]{2,})*\b")
_AMOUNT = re.compile(r"\{\$[\d,.]+\}")
_HAN_RUN = re.compile(rf"{HAN.pattern}+")
_SPACE = re.compile(r"\s+")


def prepare(text: str) -> str:
    """A narrative in the one form features are computed on."""
    text = unicodedata.normalize("NFKC", text[: TEXT_MAX * 2])[:TEXT_MAX].lower()
    text = to_simplified(text)
    text = _AMOUNT.sub(" amount ", _REDACTION.sub(" ", text))
    text = _HAN_RUN.sub(lambda run: " " + " ".join(jieba.lcut(run.group())) + " ", text)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Settings:
    """What training may vary; the defaults were chosen on an inner validation split of the
    training part of the CFPB development sample (see benchmarks/complaint_classifier.py)."""

    c: float = 10.0
    min_df: int = 2
    word_features: int = 60_000
    char_features: int = 150_000
    use_pairs: bool = True


def _hasher(kind: str) -> HashingVectorizer:
    if kind == "word":
        return HashingVectorizer(
            analyzer="word",
            token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a pattern, not a password
            ngram_range=(1, 2),
            n_features=N_HASH,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        )
    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        n_features=N_HASH,
        alternate_sign=False,
        norm=None,
        lowercase=False,
    )


class HashedTfidf:
    """Sub-linear TF-IDF over the hashed n-grams of one kind that training kept: the most
    frequent buckets seen in at least `min_df` narratives."""

    def __init__(self, kind: str, buckets: np.ndarray, idf: np.ndarray) -> None:
        self.kind = kind
        self.buckets = np.asarray(buckets, dtype=np.int64)
        self.idf = np.asarray(idf, dtype=np.float32)
        self._hasher = _hasher(kind)

    @classmethod
    def fit(cls, kind: str, texts: Sequence[str], min_df: int, most: int) -> HashedTfidf:
        counts = _hasher(kind).transform(texts).tocsc()
        df = np.diff(counts.indptr)
        buckets = np.flatnonzero(df >= min_df)
        if buckets.size > most:
            buckets = np.sort(buckets[np.argsort(-df[buckets], kind="stable")[:most]])
        idf = np.log((1.0 + len(texts)) / (1.0 + df[buckets])) + 1.0
        return cls(kind, buckets, idf)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        counts = self._hasher.transform(texts).tocsr()[:, self.buckets].astype(np.float32)
        counts.data = np.log1p(counts.data)
        return normalize(counts @ sp.diags(self.idf))


@dataclass(frozen=True)
class Suggestion:
    product: str
    issue: str  # "" when the model knows no issues
    score: float  # the product's probability


class ClassifierModel:
    """Product and issue from a narrative; pure numpy at prediction time."""

    def __init__(self, features: list[HashedTfidf], arrays: dict[str, np.ndarray]) -> None:
        self.features = features
        self.products: list[str] = [str(code) for code in arrays["products"]]
        self.issues: list[str] = [str(code) for code in arrays["issues"]]
        self.product_weights = arrays["product_weights"].astype(np.float32)
        self.product_bias = arrays["product_bias"].astype(np.float32)
        self.issue_weights = arrays["issue_weights"].astype(np.float32)
        self.issue_bias = arrays["issue_bias"].astype(np.float32)
        # pairs[i, p]: how the issue's score is kept when the narrative is about product p.
        self.pairs = arrays["pairs"].astype(np.float32)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        prepared = [prepare(text) for text in texts]
        return sp.hstack([feature.transform(prepared) for feature in self.features]).tocsr()

    def suggest_many(self, texts: Sequence[str]) -> list[Suggestion]:
        if not texts:
            return []
        x = self.matrix(texts)
        products = _softmax(x @ self.product_weights.T + self.product_bias)
        best = products.argmax(axis=1)
        issue_codes: list[str] = [""] * len(texts)
        if self.issues:
            issues = _softmax(x @ self.issue_weights.T + self.issue_bias)
            issues *= products @ self.pairs.T
            issue_codes = [self.issues[i] for i in issues.argmax(axis=1)]
        return [
            Suggestion(self.products[p], issue_codes[row], round(float(products[row, p]), 4))
            for row, p in enumerate(best)
        ]

    def save(self, path: Path) -> None:
        """Write the model to `path` atomically: a reader sees the old file or the new one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {
            "format": np.array(FORMAT),
            "products": np.array(self.products, dtype=str),
            "issues": np.array(self.issues, dtype=str),
            "product_weights": self.product_weights.astype(np.float16),
            "product_bias": self.product_bias,
            "issue_weights": self.issue_weights.astype(np.float16),
            "issue_bias": self.issue_bias,
            "pairs": self.pairs,
        }
        for feature in self.features:
            arrays[f"{feature.kind}_buckets"] = feature.buckets
            arrays[f"{feature.kind}_idf"] = feature.idf
        handle, name = tempfile.mkstemp(prefix=".classifier-", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as sink:
                np.savez_compressed(sink, **arrays)
            os.replace(name, path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> ClassifierModel:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if str(arrays.get("format")) != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} model")
        features = [
            HashedTfidf(kind, arrays[f"{kind}_buckets"], arrays[f"{kind}_idf"])
            for kind in ("word", "char")
        ]
        return cls(features, arrays)


def _softmax(scores: Any) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    return scores / scores.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Example:
    text: str
    product: str
    issue: str = ""


def _linear(x: sp.csr_matrix, labels: list[str], c: float) -> tuple[list[str], Any, Any]:
    """Classes, weights and biases of a balanced logistic regression (one class: constant)."""
    classes = sorted(set(labels))
    if len(classes) == 1:
        return classes, np.zeros((1, x.shape[1]), np.float32), np.zeros(1, np.float32)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(x, labels)
    weights, bias = model.coef_, model.intercept_
    if len(classes) == 2:  # one row for the second class: a softmax over (0, score) is the same
        weights = np.vstack([np.zeros_like(weights), weights])
        bias = np.concatenate([np.zeros_like(bias), bias])
    return [str(code) for code in model.classes_], weights, bias


def train(examples: Sequence[Example], options: Settings | None = None) -> ClassifierModel:
    """A model learnt from narratives with their product (and issue, where known)."""
    options = options or Settings()
    if len({example.product for example in examples}) < 2:
        raise InvalidInput("training needs narratives of at least two products", field="data")
    prepared = [prepare(example.text) for example in examples]
    features = [
        HashedTfidf.fit("word", prepared, options.min_df, options.word_features),
        HashedTfidf.fit("char", prepared, options.min_df, options.char_features),
    ]
    x = sp.hstack([feature.transform(prepared) for feature in features]).tocsr()
    products, product_weights, product_bias = _linear(
        x, [example.product for example in examples], options.c
    )
    with_issue = [row for row, example in enumerate(examples) if example.issue]
    issues: list[str] = []
    issue_weights = np.zeros((0, x.shape[1]), np.float32)
    issue_bias = np.zeros(0, np.float32)
    if with_issue:
        issues, issue_weights, issue_bias = _linear(
            x[with_issue], [examples[row].issue for row in with_issue], options.c
        )
    pairs = np.full((len(issues), len(products)), 1.0, np.float32)
    if options.use_pairs and issues:
        pairs[:] = UNSEEN_PAIR_WEIGHT
        for row in with_issue:
            pairs[issues.index(examples[row].issue), products.index(examples[row].product)] = 1.0
    return ClassifierModel(
        features,
        {
            "products": np.array(products, dtype=str),
            "issues": np.array(issues, dtype=str),
            "product_weights": np.asarray(product_weights),
            "product_bias": np.asarray(product_bias),
            "issue_weights": np.asarray(issue_weights),
            "issue_bias": np.asarray(issue_bias),
            "pairs": pairs,
        },
    )


def measure(model: ClassifierModel, examples: Sequence[Example]) -> dict[str, float | int]:
    """Accuracy and macro-F1 of the product, and of the issue over the rows that have one."""
    suggestions = model.suggest_many([example.text for example in examples])
    products = ([e.product for e in examples], [s.product for s in suggestions])
    issued = [(e.issue, s.issue) for e, s in zip(examples, suggestions, strict=True) if e.issue]
    issues = ([truth for truth, _ in issued], [guess for _, guess in issued])

    def figures(truth: list[str], guess: list[str]) -> tuple[float, float]:
        if not truth:
            return 0.0, 0.0
        accuracy = accuracy_score(truth, guess)
        macro = f1_score(truth, guess, average="macro", zero_division=0)
        return round(float(accuracy), 4), round(float(macro), 4)

    product_accuracy, product_f1 = figures(*products)
    issue_accuracy, issue_f1 = figures(*issues)
    return {
        "n": len(examples),
        "product_accuracy": product_accuracy,
        "product_macro_f1": product_f1,
        "issue_accuracy": issue_accuracy,
        "issue_macro_f1": issue_f1,
    }


# -- the model in service ---------------------------------------------------------------------


_lock = threading.Lock()
_cached: tuple[tuple[int, int, int], ClassifierModel] | None = None


def current_classifier() -> ClassifierModel | None:
    """The trained model, loaded once per process and again when training replaces it; None
    when there is none or it cannot be read (logged: intake goes on without suggestions)."""
    global _cached
    path = model_path()
    try:
        status = path.stat()
    except OSError:
        return None
    key = (status.st_mtime_ns, status.st_size, status.st_ino)
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        try:
            model = ClassifierModel.load(path)
        except Exception:
            logger.exception("the complaint classifier at %s cannot be loaded", path)
            return None
        _cached = (key, model)
        return model


def complaint_narrative(case: Case) -> str:
    """What the customer wrote: the case's first inbound message."""
    text = (
        Message.objects.filter(case=case, direction=Direction.INBOUND)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return text or ""


def _active_class(code: str, kind: str) -> ComplaintClass | None:
    if not code:
        return None
    return ComplaintClass.objects.filter(code=code, kind=kind, is_active=True).first()


def complaint_suggest(complaint: Complaint) -> Complaint:
    """Fill the suggested product and issue of a complaint nobody has classified yet, from
    its narrative (or, without one, its subject). Never raises: a complaint is received
    whether or not a suggestion can be made."""
    try:
        model = current_classifier()
        if model is None or complaint.product_id is not None:
            return complaint
        text = complaint_narrative(complaint.case) or complaint.case.subject
        if not text.strip():
            return complaint
        suggestion = model.suggest_many([text])[0]
        product = _active_class(suggestion.product, ClassKind.PRODUCT)
        if product is None:
            return complaint
        issue = _active_class(suggestion.issue, ClassKind.ISSUE)
        Complaint.objects.filter(pk=complaint.pk, product__isnull=True).update(
            suggested_product=product, suggested_issue=issue, suggestion_score=suggestion.score
        )
        complaint.suggested_product, complaint.suggested_issue = product, issue
        complaint.suggestion_score = suggestion.score
    except Exception:
        logger.exception("no suggestion for complaint %s", complaint.pk)
    return complaint


def complaint_suggest_on_commit(complaint: Complaint) -> None:
    """Suggest once the opening transaction has committed: a case opened as a complaint gets
    its record before its first message, which the suggestion reads."""
    transaction.on_commit(lambda: complaint_suggest(complaint), robust=True)


def classification_example_record(
    *, complaint: Complaint, product: ComplaintClass | None, issue: ComplaintClass | None
) -> ClassificationExample | None:
    """An officer classified a complaint the classifier had made a suggestion for: keep the
    narrative with what the officer chose, as a confirmation or a correction, for the next
    training. One per complaint: classifying again replaces it."""
    if complaint.suggested_product_id is None or product is None:
        return None
    text = complaint_narrative(complaint.case)
    if not text:
        return None
    issue_id = issue.pk if issue else None
    agreed = (product.pk, issue_id) == (
        complaint.suggested_product_id,
        complaint.suggested_issue_id,
    )
    officers = (ExampleSource.CORRECTION, ExampleSource.CONFIRMATION)
    ClassificationExample.objects.filter(complaint=complaint, source__in=officers).delete()
    return ClassificationExample.objects.create(
        text=text,
        product=product,
        issue=issue,
        source=ExampleSource.CONFIRMATION if agreed else ExampleSource.CORRECTION,
        complaint=complaint,
    )


# -- training and measuring, for the command ----------------------------------------------------


def stored_examples() -> list[Example]:
    """The examples kept in the database: officers' confirmations and corrections, and any
    imported ones, under products still in use."""
    return [
        Example(text, product, issue or "")
        for text, product, issue in ClassificationExample.objects.filter(
            product__is_active=True
        ).values_list("text", "product__code", "issue__code")
    ]


def classifier_train(*, files: Sequence[Path], options: Settings | None = None) -> dict[str, Any]:
    """Train on the CFPB files' narratives and the stored examples; the new model serves from
    the next suggestion on. Taxonomy nodes the files need are added first."""
    from bankdesk.complaints.cfpb import cfpb_examples, read_cfpb, taxonomy_for_rows

    examples: list[Example] = []
    for path in files:
        rows = read_cfpb(path).rows
        taxonomy_for_rows(rows)
        examples.extend(cfpb_examples(rows))
    examples.extend(stored_examples())
    if not examples:
        raise InvalidInput("there is nothing to learn from: give --data FILE.csv", field="data")
    model = train(examples, options)
    model.save(model_path())
    return {
        "examples": len(examples),
        "products": len(model.products),
        "issues": len(model.issues),
        "path": str(model_path()),
    }


def classifier_evaluate(path: Path) -> dict[str, float | int]:
    """Figures for the model in service on a CFPB-format file's narratives."""
    from bankdesk.complaints.cfpb import cfpb_examples, read_cfpb

    model = current_classifier()
    if model is None:
        raise InvalidInput("no classifier has been trained yet: run bankdesk complaints train")
    examples = cfpb_examples(read_cfpb(path).rows)
    if not examples:
        raise InvalidInput(f"{path} has no rows with a narrative and a known product")
    return measure(model, examples)
