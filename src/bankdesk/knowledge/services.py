"""Knowledge writes: articles, their versions and the approval flow, each audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.search import index_terms
from bankdesk.lib.errors import Conflict, InvalidInput, PermissionDenied
from bankdesk.lib.languages import Language
from bankdesk.lib.text import clean_text
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.models import Category

TITLE_MAX, BODY_MAX, QUESTION_MAX, QUESTIONS_MAX = 200, 20_000, 300, 30


def _text(value: str, field: str, limit: int) -> str:
    value = clean_text(value or "")
    if not value:
        raise InvalidInput(f"{field} must not be blank", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} may be at most {limit} characters", field=field)
    return value


def _questions(values: Sequence[str]) -> list[str]:
    if len(values) > QUESTIONS_MAX:
        raise InvalidInput(f"at most {QUESTIONS_MAX} questions", field="questions")
    cleaned = [_text(v, "questions", QUESTION_MAX) for v in values]
    return list(dict.fromkeys(cleaned))


def _version(
    article: Article,
    *,
    language: str,
    title: str,
    body: str,
    questions: Sequence[str],
    actor: User | None,
) -> ArticleVersion:
    if language not in Language.values:
        raise InvalidInput("unknown language", field="language")
    title = _text(title, "title", TITLE_MAX)
    body = _text(body, "body", BODY_MAX)
    asked = _questions(questions)
    if article.kind == ArticleKind.FAQ and not asked:
        raise InvalidInput("an FAQ entry needs at least one question", field="questions")
    number = (article.versions.filter(language=language).aggregate(n=Max("number"))["n"] or 0) + 1
    return ArticleVersion.objects.create(
        article=article,
        language=language,
        number=number,
        title=title,
        body=body,
        questions=asked,
        search_terms=index_terms(title, asked, body),
        author=actor,
    )


@transaction.atomic
def article_create(
    *,
    slug: str,
    kind: str,
    language: str,
    title: str,
    body: str,
    actor: User | None,
    questions: Sequence[str] = (),
    intent: str = "",
    category: Category | None = None,
) -> ArticleVersion:
    """A new article with its first draft."""
    if kind not in ArticleKind.values:
        raise InvalidInput("unknown kind", field="kind")
    if Article.objects.filter(slug=slug).exists():
        raise Conflict("an article with this slug exists", code="slug_taken", field="slug")
    try:
        with transaction.atomic():
            article = Article.objects.create(
                slug=slug, kind=kind, intent=intent, category=category, created_by=actor
            )
    except IntegrityError as exc:
        raise Conflict("an article with this slug exists", code="slug_taken") from exc
    version = _version(
        article, language=language, title=title, body=body, questions=questions, actor=actor
    )
    audit_record(actor=actor, action="knowledge.article_create", target=article, fields=["slug"])
    return version


@transaction.atomic
def version_draft(
    *,
    article: Article,
    language: str,
    title: str,
    body: str,
    actor: User | None,
    questions: Sequence[str] = (),
) -> ArticleVersion:
    """A new draft of an article in one language (a translation is a first draft too)."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    version = _version(
        article, language=language, title=title, body=body, questions=questions, actor=actor
    )
    audit_record(
        actor=actor, action="knowledge.version_draft", target=version, fields=["title", "body"]
    )
    return version


def _locked(version: ArticleVersion, expected: str) -> ArticleVersion:
    version = ArticleVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != expected:
        raise Conflict(f"this version is {version.status}, not {expected}", code="wrong_status")
    return version


@transaction.atomic
def version_submit(*, version: ArticleVersion, actor: User | None) -> ArticleVersion:
    version = _locked(version, VersionStatus.DRAFT)
    version.status = VersionStatus.REVIEW
    version.submitted_at = version.updated_at = timezone.now()
    version.save(update_fields=["status", "submitted_at", "updated_at"])
    audit_record(actor=actor, action="knowledge.version_submit", target=version)
    return version


@transaction.atomic
def version_publish(
    *, version: ArticleVersion, actor: User | None, note: str = ""
) -> ArticleVersion:
    """Approve a version in review: it becomes what customers and staff are shown, and the
    version it replaces is retired. Nobody approves their own text."""
    version = _locked(version, VersionStatus.REVIEW)
    if actor is not None and version.author_id == actor.pk:
        raise PermissionDenied("a version is approved by someone other than its author")
    now = timezone.now()
    ArticleVersion.objects.select_for_update().filter(
        article_id=version.article_id, language=version.language, status=VersionStatus.PUBLISHED
    ).update(status=VersionStatus.RETIRED, updated_at=now)
    version.status = VersionStatus.PUBLISHED
    version.reviewer = actor
    version.review_note = clean_text(note)[:500]
    version.published_at = version.updated_at = now
    version.save(update_fields=["status", "reviewer", "review_note", "published_at", "updated_at"])
    audit_record(actor=actor, action="knowledge.version_publish", target=version)
    return version


@transaction.atomic
def version_return(*, version: ArticleVersion, actor: User, note: str) -> ArticleVersion:
    """Send a version in review back to its author as a draft, saying what to change."""
    version = _locked(version, VersionStatus.REVIEW)
    note = _text(note, "note", 500)
    version.status = VersionStatus.DRAFT
    version.reviewer = actor
    version.review_note = note
    version.updated_at = timezone.now()
    version.save(update_fields=["status", "reviewer", "review_note", "updated_at"])
    audit_record(actor=actor, action="knowledge.version_return", target=version, reason=note)
    return version
