"""The knowledge bankdesk ships: an FAQ entry per assistant intent and a few staff articles,
in English and Simplified Chinese (Traditional is converted on the way out), published as
approved starting content. Entries already present are left alone, so admins' edits stay."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from bankdesk.knowledge.choices import ArticleKind
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.services import (
    article_create,
    version_draft,
    version_publish,
    version_submit,
)
from bankdesk.lib.languages import Language


def _load(name: str) -> list[dict[str, Any]]:
    text = resources.files("bankdesk.knowledge").joinpath("data", name).read_text("utf-8")
    data: list[dict[str, Any]] = json.loads(text)
    return data


def _publish(version: ArticleVersion) -> None:
    version_publish(version=version_submit(version=version, actor=None), actor=None)


def _seed_one(
    *, slug: str, kind: str, intent: str, texts: dict[str, tuple[str, list[str], str]]
) -> None:
    """One article, published in each language: the first language creates it."""
    (language, (title, questions, body)), *translations = texts.items()
    first = article_create(
        slug=slug,
        kind=kind,
        intent=intent,
        language=language,
        title=title,
        body=body,
        questions=questions,
        actor=None,
    )
    _publish(first)
    for language, (title, questions, body) in translations:
        _publish(
            version_draft(
                article=first.article,
                language=language,
                title=title,
                body=body,
                questions=questions,
                actor=None,
            )
        )


@transaction.atomic
def knowledge_seed() -> int:
    """Publish the shipped FAQ entries and articles that are not there yet; returns how many
    articles were added."""
    existing = set(Article.objects.values_list("slug", flat=True))
    added = 0
    for entry in _load("faq.json"):
        slug = "faq-" + entry["intent"].lower().replace("_", "-")
        if slug in existing:
            continue
        _seed_one(
            slug=slug,
            kind=ArticleKind.FAQ,
            intent=entry["intent"],
            texts={
                Language.EN: (
                    entry["title_en"],
                    [entry["question_en"], *entry.get("variants_en", [])],
                    entry["answer_en"],
                ),
                Language.ZH_HANS: (
                    entry["title_zh"],
                    [entry["question_zh"], *entry.get("variants_zh", [])],
                    entry["answer_zh"],
                ),
            },
        )
        added += 1
    for entry in _load("articles.json"):
        if entry["slug"] in existing:
            continue
        _seed_one(
            slug=entry["slug"],
            kind=ArticleKind.ARTICLE,
            intent="",
            texts={
                Language.EN: (entry["title_en"], [], entry["body_en"]),
                Language.ZH_HANS: (entry["title_zh"], [], entry["body_zh"]),
            },
        )
        added += 1
    return added
