"""Knowledge search: BM25 over the published versions, in every language at once.

The index lives in each process's memory and is rebuilt when the set of published versions
changes (their count or latest update moves), which one cheap aggregate query tells: a
publication on one web node reaches the others on their next search. Title and questions
count twice as much as the body: a customer's words match how questions are asked.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Max

from bankdesk.knowledge.choices import VersionStatus
from bankdesk.knowledge.models import ArticleVersion
from bankdesk.knowledge.text import search_words

K1, B = 1.2, 0.75
# The version shown for an asked language: the other Chinese script comes next, converted
# with OpenCC when shown.
PREFERENCE = {
    "zh-hans": ("zh-hans", "zh-hant"),
    "zh-hant": ("zh-hant", "zh-hans"),
    "en": ("en",),
}


@dataclass(frozen=True)
class Hit:
    version_id: int
    article_id: int
    language: str
    score: float


@dataclass
class _Document:
    version_id: int
    article_id: int
    language: str
    terms: Counter[str]
    length: int


class Index:
    """Postings per word, so a query touches only the versions sharing one of its words."""

    def __init__(self, documents: list[_Document]) -> None:
        self.documents = documents
        self.average = sum(d.length for d in documents) / len(documents) if documents else 1.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        self.by_article: dict[int, dict[str, int]] = {}
        for position, document in enumerate(documents):
            for word, tf in document.terms.items():
                self.postings.setdefault(word, []).append((position, tf))
            self.by_article.setdefault(document.article_id, {})[document.language] = position
        n = len(documents)
        self.idf = {
            w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()
        }

    def search(self, words: list[str], *, language: str | None, limit: int) -> list[Hit]:
        scores: dict[int, float] = {}
        for word in dict.fromkeys(words):
            idf = self.idf.get(word)
            if idf is None:
                continue
            for position, tf in self.postings[word]:
                length = self.documents[position].length
                norm = tf + K1 * (1 - B + B * length / self.average)
                scores[position] = scores.get(position, 0.0) + idf * tf * (K1 + 1) / norm
        # One hit per article, scored by its best-matching language version, and shown in the
        # asked language when the article has it.
        best: dict[int, float] = {}
        for position, score in scores.items():
            article_id = self.documents[position].article_id
            best[article_id] = max(best.get(article_id, 0.0), score)
        ranked = sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
        hits = []
        for article_id, score in ranked:
            versions = self.by_article[article_id]
            wanted = [v for v in PREFERENCE.get(language or "", ()) if v in versions]
            if wanted:
                position = versions[wanted[0]]
            else:
                position = max(
                    (p for p in versions.values() if p in scores), key=lambda p: scores[p]
                )
            document = self.documents[position]
            hits.append(Hit(document.version_id, article_id, document.language, round(score, 4)))
        return hits


_lock = threading.Lock()
_cache: tuple[tuple[int, object, object], Index] | None = None


def _published_state() -> tuple[int, object, object]:
    state = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED).aggregate(
        n=Count("id"), latest=Max("updated_at"), top=Max("id")
    )
    return (state["n"], state["latest"], state["top"])


def current_index() -> Index:
    global _cache
    key = _published_state()
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        rows = ArticleVersion.objects.filter(status=VersionStatus.PUBLISHED).values_list(
            "id", "article_id", "language", "search_terms"
        )
        documents = []
        for version_id, article_id, language, terms_text in rows:
            terms = Counter(terms_text.split())
            documents.append(
                _Document(version_id, article_id, language, terms, sum(terms.values()))
            )
        index = Index(documents)
        _cache = (key, index)
        return index


def index_terms(title: str, questions: list[str], body: str) -> str:
    """What a version is found by: its title and questions twice, its body once."""
    heading = search_words(" ".join([title, *questions]))
    return " ".join([*heading, *heading, *search_words(body)])


def search(text: str, *, language: str | None = None, limit: int = 10) -> list[Hit]:
    return current_index().search(search_words(text), language=language, limit=limit)
