"""Search words: Chinese segmented with jieba, English stemmed with Snowball, one folded form.

`search_words("信用卡被盜刷了")` and `search_words("信用卡被盗刷")` give the same words, as do
"cards declined" and "card was declining": Traditional is folded to Simplified first, and
stop words on either side are dropped.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba
import snowballstemmer

from bankdesk.lib.chinese import HAN, fold

jieba.setLogLevel(logging.WARNING)

# Runs of Han characters, or English words (a folded text is lower case).
RUNS = re.compile(rf"{HAN.pattern}+|[a-z0-9]+(?:'[a-z]+)?")

EN_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "i'm",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
ZH_STOP = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "我",
        "我的",
        "你",
        "你们",
        "您",
        "是",
        "在",
        "有",
        "和",
        "与",
        "就",
        "都",
        "也",
        "还",
        "要",
        "想",
        "请问",
        "请",
        "一下",
        "怎么",
        "什么",
        "如何",
        "为什么",
        "可以",
        "能",
        "能不能",
        "可不可以",
        "这个",
        "那个",
        "一个",
        "么",
        "嘛",
        "哦",
        "喔",
    ]
)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("english")


def search_words(text: str) -> list[str]:
    words: list[str] = []
    for run in RUNS.findall(fold(text)):
        if HAN.match(run):
            words.extend(w for w in jieba.lcut_for_search(run) if w not in ZH_STOP)
            # Single characters too, so 丢了 still meets 丢失 when the words are cut apart.
            words.extend(char for char in run if char not in ZH_STOP and len(run) > 1)
        elif run not in EN_STOP:
            words.append(_stemmer().stemWord(run))
    return words
