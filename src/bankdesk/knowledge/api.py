"""Knowledge API: search, articles and their approval flow, suggestions on a case."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from bankdesk.knowledge.choices import ArticleKind
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.selectors import Entry, case_suggestions, knowledge_search
from bankdesk.knowledge.services import (
    article_create,
    version_draft,
    version_publish,
    version_return,
    version_submit,
)
from bankdesk.lib.api import Id, RequiredText, Text, error_responses
from bankdesk.lib.errors import NotFound
from bankdesk.lib.languages import Language
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.lookups import category_by_id

router = Router(tags=["knowledge"])
case_router = Router(tags=["knowledge"])

Slug = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[-a-z0-9_]+$")]
IntentCode = Annotated[str, StringConstraints(max_length=80, pattern=r"^[A-Za-z0-9_]*$")]


class EntryOut(Schema):
    article_id: int
    version_id: int
    slug: str
    kind: str
    intent: str
    language: str
    title: str
    questions: list[str]
    body: str
    converted: bool = Field(description="Shown in the other Chinese script, converted by OpenCC")
    score: float


class SearchQuery(Schema):
    q: RequiredText(500)  # type: ignore[valid-type]
    language: Language | None = None
    kind: ArticleKind | None = None
    limit: int = Field(default=10, ge=1, le=50)


def _entries(entries: list[Entry]) -> list[dict[str, Any]]:
    return [entry.__dict__ for entry in entries]


@router.get(
    "/search",
    response={200: list[EntryOut], **error_responses()},
    summary="Published knowledge matching a text, in any of the three languages",
)
def search(request: HttpRequest, query: Query[SearchQuery]) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "knowledge.view_article")
    return _entries(
        knowledge_search(query.q, language=query.language, kind=query.kind, limit=query.limit)
    )


class VersionIn(Schema):
    language: Language
    title: RequiredText(200)  # type: ignore[valid-type]
    body: RequiredText(20_000)  # type: ignore[valid-type]
    questions: list[RequiredText(300)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=30
    )


class ArticleIn(VersionIn):
    slug: Slug
    kind: ArticleKind = ArticleKind.FAQ
    intent: IntentCode = ""
    category_id: Id | None = None


class VersionOut(Schema):
    id: int
    article_id: int
    language: str
    number: int
    status: str
    title: str
    questions: list[str]
    body: str
    author: str | None
    reviewer: str | None
    review_note: str
    created_at: str
    published_at: str | None


class ArticleOut(Schema):
    id: int
    slug: str
    kind: str
    intent: str
    category_id: int | None
    versions: list[VersionOut]


def _version_out(version: ArticleVersion) -> dict[str, Any]:
    return {
        "id": version.pk,
        "article_id": version.article_id,
        "language": version.language,
        "number": version.number,
        "status": version.status,
        "title": version.title,
        "questions": version.questions,
        "body": version.body,
        "author": version.author.username if version.author else None,
        "reviewer": version.reviewer.username if version.reviewer else None,
        "review_note": version.review_note,
        "created_at": version.created_at.isoformat(),
        "published_at": version.published_at.isoformat() if version.published_at else None,
    }


def _article_out(article: Article) -> dict[str, Any]:
    versions = article.versions.select_related("author", "reviewer").order_by("language", "-number")
    return {
        "id": article.pk,
        "slug": article.slug,
        "kind": article.kind,
        "intent": article.intent,
        "category_id": article.category_id,
        "versions": [_version_out(v) for v in versions],
    }


@router.post(
    "/articles",
    response={201: ArticleOut, **error_responses(404, 409)},
    summary="Write a new article or FAQ entry; its first version is a draft",
)
def article_post(request: HttpRequest, payload: ArticleIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "knowledge.add_article")
    category = category_by_id(payload.category_id) if payload.category_id else None
    version = article_create(
        slug=payload.slug,
        kind=payload.kind,
        intent=payload.intent,
        category=category,
        language=payload.language,
        title=payload.title,
        body=payload.body,
        questions=payload.questions,
        actor=user,
    )
    return Status(201, _article_out(version.article))


def _article(article_id: int) -> Article:
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        raise NotFound(f"article {article_id} not found", field="article_id")
    return article


def _version(version_id: int) -> ArticleVersion:
    version = ArticleVersion.objects.select_related("article").filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"version {version_id} not found", field="version_id")
    return version


@router.get(
    "/articles/{article_id}",
    response={200: ArticleOut, **error_responses(404)},
    summary="An article with every version: drafts, in review, published and retired",
)
def article_get(request: HttpRequest, article_id: Id) -> dict[str, Any]:
    require_perm(request_staff(request), "knowledge.view_article")
    return _article_out(_article(article_id))


@router.post(
    "/articles/{article_id}/versions",
    response={201: VersionOut, **error_responses(404)},
    summary="A new draft of the article in a language (a translation starts here too)",
)
def version_post(
    request: HttpRequest, article_id: Id, payload: VersionIn
) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "knowledge.add_article")
    version = version_draft(
        article=_article(article_id),
        language=payload.language,
        title=payload.title,
        body=payload.body,
        questions=payload.questions,
        actor=user,
    )
    return Status(201, _version_out(version))


class ReviewIn(Schema):
    note: Text(500) = ""  # type: ignore[valid-type]


@router.post(
    "/versions/{version_id}/submit",
    response={200: VersionOut, **error_responses(404, 409)},
    summary="Send a draft for review",
)
def version_submit_post(request: HttpRequest, version_id: Id) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "knowledge.add_article")
    return _version_out(version_submit(version=_version(version_id), actor=user))


@router.post(
    "/versions/{version_id}/publish",
    response={200: VersionOut, **error_responses(404, 409)},
    summary="Approve a version in review: it replaces the published one (not by its author)",
)
def version_publish_post(request: HttpRequest, version_id: Id, payload: ReviewIn) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "knowledge.publish_article")
    return _version_out(
        version_publish(version=_version(version_id), actor=user, note=payload.note)
    )


class ReturnIn(Schema):
    note: RequiredText(500)  # type: ignore[valid-type]


@router.post(
    "/versions/{version_id}/return",
    response={200: VersionOut, **error_responses(404, 409)},
    summary="Send a version in review back to draft, saying what to change",
)
def version_return_post(request: HttpRequest, version_id: Id, payload: ReturnIn) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "knowledge.publish_article")
    return _version_out(version_return(version=_version(version_id), actor=user, note=payload.note))


@case_router.get(
    "/{case_id}/knowledge",
    response={200: list[EntryOut], **error_responses(404)},
    summary="Knowledge suggested for the agent on a case, from what the customer wrote",
)
def case_knowledge(request: HttpRequest, case_id: Id) -> list[dict[str, Any]]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id)
    require_perm(user, "knowledge.view_article")
    return _entries(case_suggestions(case))
