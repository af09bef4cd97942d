"""The intent model: what a customer wants, or that the question is not one the bank bot handles.

How it decides, in product terms:

1. The message is folded to one canonical form (:mod:`.text`): Traditional Chinese becomes
   Simplified, full-width becomes half-width, everything lower case.
2. It is described three ways at once (:mod:`.features`): which words it uses, which
   character sequences it contains, and a multilingual sentence embedding of its meaning.
3. Three judges vote, each scoring every intent plus the special intent ``oos`` ("out of
   scope": small talk, mortgages, weather …), which is learnt from examples like any other
   intent:

   * a linear support-vector machine that weighs words, character sequences and meaning
     together (the strongest judge, half of the vote);
   * a logistic regression on the meaning (sentence embedding) alone;
   * a nearest-neighbour judge: how close the message is in meaning to the closest
     *prototype* of each intent — the centres of a k-means clustering of the intent's example
     embeddings (24 per intent, 256 for out-of-scope), stored as 8-bit numbers. Centres, not
     the examples, keep a prediction fast and store no example's own embedding, except for
     an intent taught with fewer examples than it has centres.

   The votes are averaged as log-probabilities.
4. The average becomes probabilities with a *temperature* fitted on examples the model did
   not see (a tenth of the training data is held back once for this), so that "0.8" means
   roughly "right four times out of five".
5. The message is rejected as out of scope when the ``oos`` probability reaches a threshold.
   The threshold is chosen on the same held-back tenth so that as many out-of-scope
   examples as possible are caught while in-scope questions keep their answer; it is stored
   with the model.

The saved model is two plain files (``model.json`` and ``model.npz``, loaded without pickle).
It holds numbers only — hashed n-gram buckets, weights and quantised prototypes — never the
training texts.
"""

from __future__ import annotations

import json
import math
import pathlib
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .features import HashedTfidf, SentenceEncoder
from .text import detect_language, embed_prefix, normalise

OUT_OF_SCOPE = "oos"
FORMAT_VERSION = 1
TOP_K = 5

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Prediction:
    """What the model thinks one message is about.

    ``ranked`` holds the five most likely in-scope intents with their probabilities (they sum
    to at most 1: the rest is the out-of-scope probability and the long tail).
    ``out_of_scope`` is the model's decision to hand the message to a person;
    ``oos_score`` the probability behind it.
    """

    ranked: tuple[tuple[str, float], ...]
    out_of_scope: bool
    oos_score: float
    language: str


@dataclass(frozen=True)
class Settings:
    """Training knobs, chosen on the BANKING77 / Chinese dev splits."""

    embed_weight: float = 1.0  # scale of the sentence embedding next to the n-gram features
    svm_c: float = 0.5
    word_min_df: int = 1
    char_min_df: int = 2
    holdout_share: float = 0.1
    min_for_holdout: int = 200  # below this many examples use default temperature/threshold
    default_temperature: float = 1.0
    default_threshold: float = 0.5
    svm_temperature: float = 10.0  # turns SVM scores into a vote (log-probabilities)
    lr_weight: float = 0.3  # share of the embedding-only logistic regression in the vote
    lr_c: float = 10.0
    knn_weight: float = 0.35  # share of the nearest-neighbour judge in the vote
    knn_temperature: float = 30.0
    knn_candidates: int = 10  # classes the nearest-neighbour judge searches per message
    # The judge compares with k-means centres of each intent's examples (this many per intent,
    # more for the varied out-of-scope), not the examples: faster, and no example's own
    # embedding is stored for an intent with more examples than centres.
    knn_prototypes: int = 24
    knn_oos_prototypes: int = 256


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _has_content(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


class IntentModel:
    """A trained intent classifier; see the module docstring for how it decides."""

    def __init__(
        self,
        *,
        classes: list[str],
        word: HashedTfidf,
        char: HashedTfidf,
        arrays: dict[str, np.ndarray],
        temperature: float,
        threshold: float,
        settings: Settings,
        meta: dict | None = None,
    ) -> None:
        self.classes = classes
        self.labels = [c for c in classes if c != OUT_OF_SCOPE]
        self._label_idx = np.array([i for i, c in enumerate(classes) if c != OUT_OF_SCOPE])
        self._oos_idx = classes.index(OUT_OF_SCOPE) if OUT_OF_SCOPE in classes else None
        self.word, self.char = word, char
        self.arrays = arrays  # coef, intercept, [lr_coef, lr_intercept], [knn_q, knn_scale, …]
        self.temperature = float(temperature)
        self.threshold = float(threshold)
        self.settings = settings
        self.meta = meta or {}
        self.coef = np.ascontiguousarray(arrays["coef"], dtype=np.float32)  # (features, classes)
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float32)
        self._knn: np.ndarray | None = None
        if "knn_q" in arrays:
            self._knn = np.ascontiguousarray(
                arrays["knn_q"].astype(np.float32) * np.float32(arrays["knn_scale"])
            )
            self._knn_starts = np.asarray(arrays["knn_starts"], dtype=np.int64)

    # ------------------------------------------------------------------ scoring
    def _scores(self, norm_texts: Sequence[str], emb: np.ndarray) -> np.ndarray:
        """Linear SVM scores per class, computed row by row straight from the kept n-gram
        columns (much faster than building sparse matrices for one short message)."""
        n_word, n_char = self.word.n_features, self.char.n_features
        w_word = self.coef[:n_word]
        w_char = self.coef[n_word : n_word + n_char]
        w_emb = self.coef[n_word + n_char :]
        scores = (emb * self.settings.embed_weight) @ w_emb + self.intercept
        for i, ((wc, wv), (cc, cv)) in enumerate(
            zip(self.word.rows(norm_texts), self.char.rows(norm_texts), strict=True)
        ):
            scores[i] += wv @ w_word[wc] + cv @ w_char[cc]
        return scores

    def _vote(self, norm_texts: Sequence[str], emb: np.ndarray) -> np.ndarray:
        """Weighted average of the judges' log-probabilities (before the final temperature)."""
        cfg = self.settings
        svm = _log_softmax(self._scores(norm_texts, emb) * cfg.svm_temperature)
        vote = svm
        if "lr_coef" in self.arrays and cfg.lr_weight > 0:
            lr = _log_softmax(emb @ self.arrays["lr_coef"] + self.arrays["lr_intercept"])
            vote = vote + cfg.lr_weight * (lr - svm)
        if self._knn is not None and cfg.knn_weight > 0:
            nearest = self._nearest(emb, vote)
            vote = vote + cfg.knn_weight * (_log_softmax(nearest * cfg.knn_temperature) - svm)
        return vote

    def _nearest(self, emb: np.ndarray, vote: np.ndarray) -> np.ndarray:
        """Cosine similarity to the closest stored example of each class.

        Only the classes the other judges already rank highest (plus ``oos``) are searched —
        the neighbour judge can only reorder those — which keeps one prediction fast; the
        other classes get the lowest similarity found."""
        assert self._knn is not None
        starts = self._knn_starts
        ends = np.append(starts[1:], self._knn.shape[0])
        n_cand = min(self.settings.knn_candidates, vote.shape[1])
        order = np.argpartition(-vote, n_cand - 1, axis=1)[:, :n_cand]
        out = np.empty_like(vote, dtype=np.float32)
        for i in range(emb.shape[0]):
            cands = set(order[i].tolist())
            if self._oos_idx is not None:
                cands.add(self._oos_idx)
            found = {c: float((self._knn[starts[c] : ends[c]] @ emb[i]).max()) for c in cands}
            out[i] = min(found.values())
            for c, sim in found.items():
                out[i, c] = sim
        return out

    def _probabilities(self, norm_texts: Sequence[str], emb: np.ndarray) -> np.ndarray:
        return _softmax(self._vote(norm_texts, emb) * self.temperature)

    def _oos_scores(self, probs: np.ndarray) -> np.ndarray:
        if self._oos_idx is not None:
            return probs[:, self._oos_idx]
        return 1.0 - probs.max(axis=1)

    def _decide(self, texts: Sequence[str]) -> list[Prediction]:
        norm = [normalise(t) for t in texts]
        emb = SentenceEncoder.encode([embed_prefix(t) for t in norm])
        probs = self._probabilities(norm, emb)
        oos = self._oos_scores(probs)
        out = []
        for i, text in enumerate(texts):
            inscope = probs[i, self._label_idx]
            top = np.argsort(-inscope, kind="stable")[:TOP_K]
            ranked = tuple((self.labels[j], round(float(inscope[j]), 6)) for j in top)
            score = round(float(oos[i]), 6)
            rejected = bool(score >= self.threshold) or not _has_content(norm[i])
            out.append(Prediction(ranked, rejected, score, detect_language(text)))
        return out

    # ------------------------------------------------------------------ public API
    def predict(self, text: str) -> Prediction:
        """Classify one customer message.  Never raises: on any problem the message is out of
        scope (so it goes to a person)."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str], batch: int = 256) -> list[Prediction]:
        """Classify many messages; gives the same answers as :meth:`predict` one by one."""
        out: list[Prediction] = []
        for start in range(0, len(texts), batch):
            chunk = [t if isinstance(t, str) else "" for t in texts[start : start + batch]]
            try:
                out.extend(self._decide(chunk))
            except Exception:  # a reply must never fail on odd input
                out.extend(self._fallback(t) for t in chunk)
        return out

    def _fallback(self, text: str) -> Prediction:
        try:
            return self._decide([text])[0]
        except Exception:
            try:
                language = detect_language(text)
            except Exception:
                language = "en"
            return Prediction((), True, 1.0, language)

    # ------------------------------------------------------------------ persistence
    def save(self, directory: pathlib.Path) -> None:
        """Write ``model.json`` and ``model.npz`` into ``directory`` (created if needed)."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            **self.word.arrays("word"),
            **self.char.arrays("char"),
            **self.arrays,
            "coef": self.coef.astype(np.float16),
        }
        np.savez_compressed(directory / "model.npz", **arrays)  # type: ignore[arg-type]
        info = {
            "format": FORMAT_VERSION,
            "classes": self.classes,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "settings": self.settings.__dict__,
            "meta": self.meta,
        }
        (directory / "model.json").write_text(
            json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: pathlib.Path) -> IntentModel:
        directory = pathlib.Path(directory)
        info = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        if info.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported model format {info.get('format')!r}")
        with np.load(directory / "model.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        word = HashedTfidf("word", arrays.pop("word_buckets"), arrays.pop("word_idf"))
        char = HashedTfidf("char", arrays.pop("char_buckets"), arrays.pop("char_idf"))
        arrays["coef"] = arrays["coef"].astype(np.float32)
        return cls(
            classes=list(info["classes"]),
            word=word,
            char=char,
            arrays=arrays,
            temperature=info["temperature"],
            threshold=info["threshold"],
            settings=Settings(**info["settings"]),
            meta=info.get("meta", {}),
        )


# ---------------------------------------------------------------------- training
def _fit_linear(
    x: sp.csr_matrix, y: np.ndarray, n_classes: int, c: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest linear SVM; returns (coef (n_features, n_classes), intercept)."""
    from sklearn.svm import LinearSVC

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svm = LinearSVC(C=c, random_state=seed, max_iter=2000).fit(x, y)
    coef = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    intercept = np.full(n_classes, -10.0, dtype=np.float32)
    if len(svm.classes_) == 2:  # binary problem: sklearn keeps one row
        coef[:, svm.classes_[1]] = svm.coef_[0]
        coef[:, svm.classes_[0]] = -svm.coef_[0]
        intercept[svm.classes_[1]], intercept[svm.classes_[0]] = (
            svm.intercept_[0],
            -svm.intercept_[0],
        )
    else:
        coef[:, svm.classes_] = svm.coef_.T
        intercept[svm.classes_] = svm.intercept_
    return coef, intercept


def _fit_lr(
    emb: np.ndarray, y: np.ndarray, n_classes: int, c: float
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = LogisticRegression(C=c, max_iter=1000).fit(emb, y)
    coef = np.zeros((emb.shape[1], n_classes), dtype=np.float32)
    intercept = np.full(n_classes, -30.0, dtype=np.float32)
    coef[:, lr.classes_] = lr.coef_.T
    intercept[lr.classes_] = lr.intercept_
    return coef, intercept


def _prototypes(
    emb: np.ndarray,
    y: np.ndarray,
    counts: dict[int, int],
    seed: int,
    step_done: Callable[[], None],
) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the centres of k-means clusters of its example embeddings (unit length), or
    the examples themselves for a class with no more examples than centres."""
    from sklearn.cluster import KMeans

    vectors, labels = [], []
    for label in np.unique(y).tolist():
        block = emb[y == label]
        k = counts[label]
        if block.shape[0] > k:
            centres = KMeans(n_clusters=k, n_init=1, random_state=seed).fit(block).cluster_centers_
            block = (centres / (np.linalg.norm(centres, axis=1, keepdims=True) + 1e-12)).astype(
                np.float32
            )
        vectors.append(block)
        labels.append(np.full(block.shape[0], label))
        step_done()
    return np.concatenate(vectors), np.concatenate(labels)


def _knn_arrays(
    emb: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    oos_idx: int | None,
    cfg: Settings,
    seed: int,
    step_done: Callable[[], None],
) -> dict[str, np.ndarray]:
    """What the nearest-neighbour judge compares a message with, grouped by class, as int8:
    prototypes (k-means centres) of each class's examples."""
    counts = dict.fromkeys(range(n_classes), cfg.knn_prototypes)
    if oos_idx is not None:
        counts[oos_idx] = cfg.knn_oos_prototypes
    # Grouped by class, in class order.
    vectors, labels = _prototypes(emb, y, counts, seed, step_done)
    present = np.bincount(labels, minlength=n_classes) > 0
    if not present.all():  # every class needs at least one row: use a zero vector
        missing = np.flatnonzero(~present)
        vectors = np.concatenate([vectors, np.zeros((missing.size, emb.shape[1]), emb.dtype)])
        labels = np.concatenate([labels, missing])
        order = np.argsort(labels, kind="stable")
        vectors, labels = vectors[order], labels[order]
    starts = np.searchsorted(labels, np.arange(n_classes))
    scale = float(np.abs(vectors).max()) / 127.0 or 1.0
    q = np.round(vectors / scale).astype(np.int8)
    return {
        "knn_q": q,
        "knn_scale": np.array(scale, dtype=np.float32),
        "knn_starts": starts.astype(np.int64),
    }


def _holdout(y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Boolean mask of a stratified held-back share (at least one example kept per class)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    mask = np.zeros(len(y), dtype=bool)
    for label in sorted(set(y.tolist())):
        idx = np.flatnonzero(y == label).tolist()
        rng.shuffle(idx)
        take = min(round(len(idx) * share), len(idx) - 1)
        mask[idx[:take]] = True
    return mask


def _fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the held-out negative log-likelihood (grid search)."""
    best, best_t = math.inf, 1.0
    for t in np.exp(np.linspace(np.log(0.1), np.log(100.0), 80)):
        p = _softmax(scores * t)
        nll = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
        if nll < best:
            best, best_t = nll, float(t)
    return best_t


def _choose_threshold(
    oos_score: np.ndarray, is_oos: np.ndarray, correct: np.ndarray, default: float
) -> float:
    """Threshold on the oos probability maximising in-scope accuracy + oos recall.

    Ties go to the threshold closest to 0.5 (the plain "most likely class" rule)."""
    if not is_oos.any() or is_oos.all():
        return default
    best, best_t = -math.inf, default
    for t in np.linspace(0.05, 0.95, 91):
        rejected = oos_score >= t
        value = float(np.mean(correct[~is_oos] & ~rejected[~is_oos])) + float(
            np.mean(rejected[is_oos])
        )
        if value > best + 1e-9 or (abs(value - best) <= 1e-9 and abs(t - 0.5) < abs(best_t - 0.5)):
            best, best_t = value, float(t)
    return best_t


def train(
    examples: Sequence[tuple[str, str]],
    *,
    seed: int = 0,
    progress: Progress | None = None,
    settings: Settings | None = None,
) -> IntentModel:
    """Train an :class:`IntentModel` on ``(text, label)`` pairs; label ``'oos'`` marks
    out-of-scope examples.  ``progress(stage, done, total)`` is called as work advances
    (stages: ``embed``, ``calibrate``, ``fit``, ``done``); within ``calibrate`` and ``fit``
    after each of their steps (features, each judge, each intent's prototypes), so that no
    long stretch of training goes without a sign of life."""
    cfg = settings or Settings()
    report: Progress = progress or (lambda stage, done, total: None)
    started = time.monotonic()
    pairs = [(normalise(t), lab.strip()) for t, lab in examples if t and lab and lab.strip()]
    if not pairs:
        raise ValueError("no training examples")
    classes = sorted({lab for _, lab in pairs})
    if len([c for c in classes if c != OUT_OF_SCOPE]) < 1:
        raise ValueError("at least one in-scope intent is needed")
    index = {c: i for i, c in enumerate(classes)}
    texts = [t for t, _ in pairs]
    y = np.array([index[lab] for _, lab in pairs])

    emb = SentenceEncoder.encode(
        [embed_prefix(t) for t in texts], progress=lambda d, n: report("embed", d, n)
    )

    oos_idx = index.get(OUT_OF_SCOPE)

    def fit(mask: np.ndarray, stage: str) -> tuple[HashedTfidf, HashedTfidf, dict[str, np.ndarray]]:
        # Steps: features, the SVM, the regression, then one per class present for prototypes.
        steps = 3 + (len(np.unique(y[mask])) if cfg.knn_weight > 0 else 0)
        done = 0

        def step_done() -> None:
            nonlocal done
            done += 1
            report(stage, done, steps)

        report(stage, 0, steps)
        sub = [texts[i] for i in np.flatnonzero(mask)]
        word = HashedTfidf.fit("word", sub, cfg.word_min_df)
        char = HashedTfidf.fit("char", sub, cfg.char_min_df)
        x = sp.hstack(
            [word.transform(sub), char.transform(sub), sp.csr_matrix(emb[mask] * cfg.embed_weight)],
            format="csr",
        )
        step_done()
        coef, intercept = _fit_linear(x, y[mask], len(classes), cfg.svm_c, seed)
        arrays = {"coef": coef, "intercept": intercept}
        step_done()
        if cfg.lr_weight > 0:
            arrays["lr_coef"], arrays["lr_intercept"] = _fit_lr(
                emb[mask], y[mask], len(classes), cfg.lr_c
            )
        step_done()
        if cfg.knn_weight > 0:
            arrays.update(
                _knn_arrays(emb[mask], y[mask], len(classes), oos_idx, cfg, seed, step_done)
            )
        return word, char, arrays

    temperature, threshold = cfg.default_temperature, cfg.default_threshold
    calibration: dict = {}
    if len(pairs) >= cfg.min_for_holdout and len(classes) > 1:
        held = _holdout(y, cfg.holdout_share, seed)
        word, char, arrays = fit(~held, "calibrate")
        probe = IntentModel(
            classes=classes,
            word=word,
            char=char,
            arrays=arrays,
            temperature=1.0,
            threshold=0.5,
            settings=cfg,
        )
        held_texts = [texts[i] for i in np.flatnonzero(held)]
        vote = probe._vote(held_texts, emb[held])
        temperature = _fit_temperature(vote, y[held])
        probs = _softmax(vote * temperature)
        is_oos = y[held] == oos_idx if oos_idx is not None else np.zeros(held.sum(), bool)
        inscope = probs.copy()
        if oos_idx is not None:
            inscope[:, oos_idx] = -1.0
        correct = inscope.argmax(axis=1) == y[held]
        threshold = _choose_threshold(
            probe._oos_scores(probs), is_oos, correct, cfg.default_threshold
        )
        calibration = {
            "held_out": int(held.sum()),
            "held_out_inscope_accuracy": round(float(np.mean(correct[~is_oos])), 4),
        }

    word, char, arrays = fit(np.ones(len(y), dtype=bool), "fit")
    meta = {
        "examples": len(pairs),
        "seed": seed,
        "calibration": calibration,
        "train_seconds": round(time.monotonic() - started, 1),
    }
    model = IntentModel(
        classes=classes,
        word=word,
        char=char,
        arrays=arrays,
        temperature=temperature,
        threshold=threshold,
        settings=cfg,
        meta=meta,
    )
    report("done", 1, 1)
    return model
