"""What complainants wrote, grouped: TF-IDF over the words of each complaint's first message
(Chinese cut by jieba, English as words) and k-means with a fixed seed, each group named by
its heaviest terms.

A cluster's key names the window its model was fitted on and its terms, so the same key finds
the same complaints again: the drill-down to the register, and the recurrence of a root cause
found on a cluster, fit the same window again (the same data and seed give the same model;
it is cached) and assign complaints to the nearest centre, exactly as the counts did.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jieba
from django.db.models import Min, QuerySet

from bankdesk.complaints.models import Complaint
from bankdesk.knowledge.text import EN_STOP, ZH_STOP
from bankdesk.lib.chinese import HAN, fold
from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Message

jieba.setLogLevel(logging.WARNING)

SEED = 0
# Fewer narratives than this make no clusters worth naming.
CLUSTER_MIN = 6
CLUSTERS_MAX = 10
# The fit reads at most this many narratives (an even sample by id), each cut at TEXT_MAX
# characters, so a page stays quick on a large register; every narrative is then assigned.
FIT_MAX = 4000
TEXT_MAX = 1500
NAME_TERMS = 3

RUNS = re.compile(rf"{HAN.pattern}+|[a-z][a-z']+")
# Words every complaint uses, and the CFPB's redaction marks (XXXX).
EN_MORE_STOP = frozenset(
    [
        "about",
        "after",
        "again",
        "all",
        "also",
        "am",
        "any",
        "because",
        "been",
        "before",
        "being",
        "both",
        "bank",
        "called",
        "did",
        "didn't",
        "don't",
        "each",
        "even",
        "get",
        "got",
        "had",
        "he",
        "her",
        "him",
        "his",
        "just",
        "more",
        "never",
        "no",
        "not",
        "now",
        "only",
        "other",
        "out",
        "over",
        "said",
        "same",
        "she",
        "some",
        "still",
        "than",
        "told",
        "until",
        "very",
        "us",
        "up",
        "one",
        "two",
        "three",
        "would",
        "which",
        "while",
        "since",
        "without",
        "within",
        "however",
        "day",
        "days",
        "time",
        "times",
        "year",
        "years",
        "month",
        "months",
        "back",
        "made",
        "make",
        "call",
        "asked",
    ]
)
ZH_MORE_STOP = frozenset(["银行", "你们", "我们", "他们", "没有", "已经", "但是", "因为", "所以"])
EN_SKIP = EN_STOP | EN_MORE_STOP
ZH_SKIP = ZH_STOP | ZH_MORE_STOP
REDACTED = re.compile(r"^x{2,}$")


def narrative_words(text: str) -> list[str]:
    """The words a narrative is clustered by: Chinese words of two or more characters, English
    words of three or more letters, without stop words or redaction marks."""
    words: list[str] = []
    for run in RUNS.findall(fold(text[:TEXT_MAX])):
        if HAN.match(run):
            words.extend(w for w in jieba.lcut(run) if len(w) > 1 and w not in ZH_SKIP)
        elif len(run) > 2 and run not in EN_SKIP and not REDACTED.match(run):
            words.append(run.strip("'"))
    return words


def narratives(complaints: QuerySet[Complaint]) -> dict[int, str]:
    """Complaint id → the customer's first message on its case, read in two queries."""
    case_to_complaint = dict(complaints.values_list("case_id", "id"))
    if not case_to_complaint:
        return {}
    first_ids = (
        Message.objects.filter(
            case_id__in=complaints.values("case_id"), direction=Direction.INBOUND
        )
        .values("case_id")
        .annotate(first=Min("id"))
        .values_list("first", flat=True)
    )
    return {
        case_to_complaint[case_id]: text
        for case_id, text in Message.objects.filter(pk__in=first_ids).values_list("case_id", "text")
        if text.strip()
    }


@dataclass(frozen=True)
class ClusterModel:
    """A fitted clustering of one window's narratives: names and keys of its clusters."""

    start: datetime
    end: datetime
    names: tuple[tuple[str, ...], ...]
    vectorizer: Any
    kmeans: Any

    def key(self, index: int) -> str:
        return f"{window_text(self.start, self.end)}|{' '.join(self.names[index])}"

    def assign(self, texts: dict[int, str]) -> dict[int, int]:
        """Complaint id → cluster index (the nearest centre), for each narrative given that has
        any of the model's words."""
        if not texts:
            return {}
        ids = sorted(texts)
        matrix = self.vectorizer.transform([texts[i] for i in ids])
        labels = self.kmeans.predict(matrix)
        # A narrative with none of the model's words belongs to no cluster: nearest to nothing.
        words = matrix.getnnz(axis=1)
        return {
            complaint_id: int(label)
            for complaint_id, label, found in zip(ids, labels, words, strict=True)
            if found
        }

    def index_of(self, key: str) -> int:
        """The cluster a key names: by its terms; if the window's data changed since, the one
        sharing most terms with it."""
        terms = set(key.partition("|")[2].split())
        overlaps = [len(terms & set(name)) for name in self.names]
        best = max(range(len(overlaps)), key=lambda i: (overlaps[i], -i))
        if overlaps[best] == 0:
            raise InvalidInput("no such group of what customers wrote", field="key")
        return best


def window_text(start: datetime, end: datetime) -> str:
    return f"{int(start.timestamp())}-{int(end.timestamp())}"


def window_of(key: str) -> tuple[datetime, datetime]:
    """The fit window a cluster key names."""
    window = key.partition("|")[0]
    try:
        start, end = (datetime.fromtimestamp(int(part), tz=UTC) for part in window.split("-"))
    except ValueError as exc:
        raise InvalidInput("not a key of a group of what customers wrote", field="key") from exc
    if not start < end:
        raise InvalidInput("not a key of a group of what customers wrote", field="key")
    return start, end


def cluster_count(size: int) -> int:
    """k from the data size: about √(n/2), between 2 and 10."""
    return min(CLUSTERS_MAX, max(2, round(math.sqrt(size / 2))))


def cluster_model(start: datetime, end: datetime) -> ClusterModel | None:
    """The model of every complaint's narrative received in [start, end), or None when there
    are too few to cluster. Fitted once per window and data: cached by a digest of the texts."""
    texts = narratives(Complaint.objects.filter(received_at__gte=start, received_at__lt=end))
    ids = sorted(texts)
    if len(ids) > FIT_MAX:
        step = len(ids) / FIT_MAX
        ids = [ids[int(i * step)] for i in range(FIT_MAX)]
    if len(ids) < CLUSTER_MIN:
        return None
    sample = tuple(texts[i] for i in ids)
    digest = hashlib.sha256("\x00".join(sample).encode()).hexdigest()
    return _fitted(start, end, digest, sample)


@lru_cache(maxsize=8)
def _fitted(
    start: datetime, end: datetime, _digest: str, sample: tuple[str, ...]
) -> ClusterModel | None:
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=narrative_words,
        min_df=2,
        max_df=0.6,
        max_features=6000,
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(sample)
    except ValueError:  # no word is in two narratives
        return None
    k = min(cluster_count(len(sample)), matrix.shape[1])
    if k < 2:
        return None
    kmeans = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(matrix)
    terms = vectorizer.get_feature_names_out()
    return ClusterModel(
        start=start,
        end=end,
        names=_names(kmeans.cluster_centers_, terms),
        vectorizer=vectorizer,
        kmeans=kmeans,
    )


def _names(centres: Any, terms: Any) -> tuple[tuple[str, ...], ...]:
    """Each cluster's heaviest terms; more of them where two clusters would read the same."""
    order = centres.argsort(axis=1)[:, ::-1]
    names: list[tuple[str, ...]] = []
    for row in order:
        size = NAME_TERMS
        name = tuple(str(terms[i]) for i in row[:size])
        while name in names and size < len(row):
            size += 1
            name = tuple(str(terms[i]) for i in row[:size])
        names.append(name)
    return tuple(names)


def cluster_members(model: ClusterModel, index: int, texts: dict[int, str]) -> list[int]:
    """The complaints among `texts` that fall in cluster `index`."""
    return sorted(i for i, label in model.assign(texts).items() if label == index)


def cluster_sizes(model: ClusterModel, texts: Iterable[dict[int, str]]) -> list[list[int]]:
    """For each batch of narratives, how many fall in each cluster."""
    sizes = []
    for batch in texts:
        counts = [0] * len(model.names)
        for label in model.assign(batch).values():
            counts[label] += 1
        sizes.append(counts)
    return sizes
