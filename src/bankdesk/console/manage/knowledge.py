"""Knowledge-base management in the console at /manage/knowledge/: articles for staff and FAQ
entries customers are answered from, written as drafts, sent for review and published by
somebody else (the four eyes of `knowledge/rules.py` and `knowledge/services.py`).

Every write goes through the knowledge services; who may write, review and publish is what the
`knowledge.*` permissions say, and the services refuse the rest (nobody approves their own text,
a version moves only from the state the page showed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankdesk.console.manage.knowledge_forms import (
    SLUG_TAKEN,
    ArticleForm,
    FilterForm,
    NewVersionForm,
    PublishForm,
    ReturnForm,
)
from bankdesk.console.words import error_text
from bankdesk.knowledge.choices import VersionStatus
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.services import (
    article_create,
    version_draft,
    version_publish,
    version_return,
    version_submit,
)
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.lib.languages import Language, active_language
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User

VIEW, WRITE, PUBLISH = (
    "knowledge.view_article",
    "knowledge.add_article",
    "knowledge.publish_article",
)
PAGE_SIZE = 50
# What the list needs of each version (not the bodies, which may be long).
LISTED = ("id", "article_id", "language", "number", "status", "title", "updated_at")


# -- refusals in the reader's words ------------------------------------------------------------


def _refusal(exc: BankdeskError, version: ArticleVersion | None = None) -> str:
    """A knowledge service's refusal, said for this screen (the shared words are about cases)."""
    if exc.code == "wrong_status" and version is not None:
        version.refresh_from_db(fields=["status"])
        return _moved_on(version)
    if exc.code == "slug_taken":
        return str(SLUG_TAKEN)
    if exc.code == "forbidden":
        return _("Nobody approves their own text: another reviewer must publish it.")
    if isinstance(exc, InvalidInput):
        return _("The text was refused: check every field and save again.")
    return error_text(exc)


def _moved_on(version: ArticleVersion) -> str:
    return _(
        "Someone else moved this version on since you opened the page: it is now "
        "“%(status)s”. Check it below before doing anything more."
    ) % {"status": version.get_status_display()}


# -- what the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class LanguageState:
    """One language of an article in the list: its newest version and what is published."""

    language: str
    label: str
    latest: ArticleVersion
    published: ArticleVersion | None


@dataclass(frozen=True)
class Row:
    article: Article
    title: str
    languages: list[LanguageState]


def _newest_by_language(versions: list[ArticleVersion]) -> dict[str, list[ArticleVersion]]:
    """Versions per language, newest first, languages in the order of `Language`."""
    found: dict[str, list[ArticleVersion]] = {}
    for version in sorted(versions, key=lambda v: -v.number):
        found.setdefault(version.language, []).append(version)
    return {code: found[code] for code in Language.values if code in found}


def _row(article: Article, reader: str) -> Row:
    by_language = _newest_by_language(list(article.versions.all()))
    states = [
        LanguageState(
            language=code,
            label=str(Language(code).label),
            latest=versions[0],
            published=next((v for v in versions if v.status == VersionStatus.PUBLISHED), None),
        )
        for code, versions in by_language.items()
    ]
    shown = by_language.get(reader) or next(iter(by_language.values()), None)
    return Row(article=article, title=shown[0].title if shown else article.slug, languages=states)


def _articles(filters: dict[str, str]) -> QuerySet[Article]:
    articles = Article.objects.all()
    if filters.get("kind"):
        articles = articles.filter(kind=filters["kind"])
    if filters.get("status"):
        articles = articles.filter(
            pk__in=ArticleVersion.objects.filter(status=filters["status"]).values("article_id")
        )
    return (
        articles.annotate(changed_at=Max("versions__updated_at"))
        .order_by("-changed_at", "slug")
        .prefetch_related(Prefetch("versions", queryset=ArticleVersion.objects.only(*LISTED)))
    )


def _staff_with(request: HttpRequest, perm: str) -> User:
    """The member of staff, if their role has `perm` (403 otherwise, as the API answers)."""
    user = request_staff(request)
    if not user.has_perm(perm):
        raise PermissionDenied
    return user


def _article(article_id: int) -> Article:
    article = Article.objects.select_related("category", "created_by").filter(pk=article_id).first()
    if article is None:
        raise Http404
    return article


def _version(version_id: int) -> ArticleVersion:
    version = ArticleVersion.objects.select_related("article").filter(pk=version_id).first()
    if version is None:
        raise Http404
    return version


def _article_link(article_id: int, language: str | None = None) -> str:
    link = reverse("console:manage_knowledge_article", args=[article_id])
    return f"{link}#language-{language}" if language else link


# -- the screens -------------------------------------------------------------------------------


@require_GET
@mfa_required
def knowledge_list(request: HttpRequest) -> HttpResponse:
    """Every article and FAQ entry, newest change first, with each language's state."""
    user = _staff_with(request, VIEW)
    form = FilterForm(request.GET)
    status = 200
    filters: dict[str, str] = {}
    if form.is_valid():
        filters = {name: value for name, value in form.cleaned_data.items() if value}
    else:
        status = 400
    page = Paginator(_articles(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    reader = active_language()
    return render(
        request,
        "console/manage/knowledge.html",
        {
            "form": form,
            "rows": [_row(article, reader) for article in page.object_list],
            "page": page,
            "filter_query": urlencode(filters),
            "may_write": user.has_perm(WRITE),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def knowledge_create(request: HttpRequest) -> HttpResponse:
    """A new article or FAQ entry; its first text is a draft until reviewed and published."""
    user = _staff_with(request, WRITE)
    if request.method != "POST":
        return _form_page(request, ArticleForm(), article=None)
    form = ArticleForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, article=None, status=400)
    data = form.cleaned_data
    try:
        version = article_create(
            slug=data["slug"],
            kind=data["kind"],
            language=data["language"],
            title=data["title"],
            body=data["body"],
            questions=data["questions"],
            intent=data["intent"],
            category=data["category"],
            actor=user,
        )
    except BankdeskError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, _refusal(exc))
        return _form_page(request, form, article=None, status=400 if field else _http_status(exc))
    messages.success(request, _("Saved as a draft. Send it for review when it is ready."))
    return HttpResponseRedirect(_article_link(version.article_id, version.language))


@require_http_methods(["GET", "POST"])
@mfa_required
def knowledge_version_create(request: HttpRequest, article_id: int, language: str) -> HttpResponse:
    """A new version of one language's text (a translation starts here too), as a draft."""
    user = _staff_with(request, WRITE)
    article = _article(article_id)
    if language not in Language.values:
        raise Http404
    newest = article.versions.filter(language=language).order_by("-number").first()
    if request.method != "POST":
        initial: dict[str, Any] = {"based_on": newest.number if newest else 0}
        if newest is not None:
            initial |= {
                "title": newest.title,
                "questions": "\n".join(newest.questions),
                "body": newest.body,
            }
        form = NewVersionForm(initial=initial, kind=article.kind)
        return _form_page(request, form, article=article, language=language, newest=newest)
    form = NewVersionForm(request.POST, kind=article.kind)
    if not form.is_valid():
        return _form_page(
            request, form, article=article, language=language, newest=newest, status=400
        )
    data = form.cleaned_data
    if data["based_on"] != (newest.number if newest else 0):
        # Keep what the user wrote, now based on the newest version: saving again is a choice
        # made knowing it, which the page links to.
        again = request.POST.copy()
        again["based_on"] = str(newest.number if newest else 0)
        form = NewVersionForm(again, kind=article.kind)
        form.is_valid()
        form.add_error(
            None,
            _(
                "Someone else wrote a newer version of this text since you opened it. Your text "
                "is kept below: read the newer version, then save again to make yours the newest."
            ),
        )
        return _form_page(
            request, form, article=article, language=language, newest=newest, status=409
        )
    try:
        version = version_draft(
            article=article,
            language=language,
            title=data["title"],
            body=data["body"],
            questions=data["questions"],
            actor=user,
        )
    except BankdeskError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, _refusal(exc))
        return _form_page(
            request,
            form,
            article=article,
            language=language,
            newest=newest,
            status=_http_status(exc),
        )
    messages.success(
        request,
        _("Version %(number)d saved as a draft. Send it for review when it is ready.")
        % {"number": version.number},
    )
    return HttpResponseRedirect(_article_link(article.pk, language))


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    article: Article | None,
    language: str | None = None,
    newest: ArticleVersion | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "console/manage/knowledge_form.html",
        {
            "form": form,
            "article": article,
            "language_label": Language(language).label if language else "",
            "newest": newest,
        },
        status=status,
    )


@require_GET
@mfa_required
def knowledge_article(request: HttpRequest, article_id: int) -> HttpResponse:
    """An article: each language's versions, their text, and what the reader may do next."""
    _staff_with(request, VIEW)
    return _article_page(request, _article(article_id))


@dataclass
class Review:
    """The forms for deciding on one version in review, bound when a decision came back."""

    publish: PublishForm
    back: ReturnForm


@dataclass(frozen=True)
class Problem:
    """A refusal about one version, said beside it, with the note the reviewer typed kept."""

    version_id: int
    text: str
    note: str = ""


def _article_page(
    request: HttpRequest,
    article: Article,
    *,
    review: tuple[int, Review] | None = None,
    problem: Problem | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_staff(request)
    by_language = _newest_by_language(list(article.versions.select_related("author", "reviewer")))
    chosen = request.GET.get("version", "")
    texts = []
    for code, history in by_language.items():
        reviews = []
        for version in history:
            if version.status == VersionStatus.REVIEW:
                forms_for = review[1] if review and review[0] == version.pk else None
                reviews.append((version, forms_for or Review(PublishForm(), ReturnForm())))
        texts.append(
            {
                "code": code,
                "label": Language(code).label,
                "shown": next((v for v in history if str(v.pk) == chosen), history[0]),
                "history": history,
                "reviews": reviews,
            }
        )
    missing = [(code, label) for code, label in Language.choices if code not in by_language]
    return render(
        request,
        "console/manage/knowledge_article.html",
        {
            "article": article,
            "texts": texts,
            "missing": missing,
            "may_write": user.has_perm(WRITE),
            "may_publish": user.has_perm(PUBLISH),
            "problem": problem,
        },
        status=status,
    )


def _http_status(exc: BankdeskError) -> int:
    """Bad input is 400 on a form (422 is the API's); conflicts and refusals keep theirs."""
    return 400 if isinstance(exc, InvalidInput) else exc.status


@require_POST
@mfa_required
def knowledge_submit(request: HttpRequest, version_id: int) -> HttpResponse:
    """Send a draft for review (409 if someone moved it on since the page was read)."""
    user = _staff_with(request, WRITE)
    version = _version(version_id)
    try:
        version_submit(version=version, actor=user)
    except BankdeskError as exc:
        problem = Problem(version.pk, _refusal(exc, version))
        return _article_page(request, version.article, problem=problem, status=_http_status(exc))
    messages.success(request, _("Version %(number)d sent for review.") % {"number": version.number})
    return HttpResponseRedirect(_article_link(version.article_id, version.language))


@require_POST
@mfa_required
def knowledge_publish(request: HttpRequest, version_id: int) -> HttpResponse:
    """Approve a version in review: customers and staff are shown it from now on."""
    user = _staff_with(request, PUBLISH)
    version = _version(version_id)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _decided(request, version, Review(form, ReturnForm()), status=400)
    try:
        version_publish(version=version, actor=user, note=form.cleaned_data["note"])
    except BankdeskError as exc:
        review = Review(form, ReturnForm())
        return _decided(request, version, review, _refusal(exc, version), _http_status(exc))
    messages.success(request, _("Version %(number)d published.") % {"number": version.number})
    return HttpResponseRedirect(_article_link(version.article_id, version.language))


@require_POST
@mfa_required
def knowledge_return(request: HttpRequest, version_id: int) -> HttpResponse:
    """Send a version in review back to draft, saying what to change."""
    user = _staff_with(request, PUBLISH)
    version = _version(version_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _decided(request, version, Review(PublishForm(), form), status=400)
    try:
        version_return(version=version, actor=user, note=form.cleaned_data["note"])
    except BankdeskError as exc:
        review = Review(PublishForm(), form)
        return _decided(request, version, review, _refusal(exc, version), _http_status(exc))
    messages.success(
        request, _("Version %(number)d returned to its author.") % {"number": version.number}
    )
    return HttpResponseRedirect(_article_link(version.article_id, version.language))


def _decided(
    request: HttpRequest,
    version: ArticleVersion,
    review: Review,
    refusal: str = "",
    status: int = 400,
) -> HttpResponse:
    """The article page again with the reviewer's note as typed. A refusal is said beside the
    version with the note kept there too: the forms it came from may be gone (the version left
    review meanwhile) or never shown (nobody publishes their own text)."""
    version.refresh_from_db(fields=["status"])
    if version.status != VersionStatus.REVIEW and not refusal:
        refusal, status = _moved_on(version), 409
    typed = str(review.publish.data.get("note", "") or review.back.data.get("note", ""))
    problem = Problem(version.pk, refusal, typed) if refusal else None
    return _article_page(
        request, version.article, review=(version.pk, review), problem=problem, status=status
    )


urlpatterns: list[URLPattern] = [
    path("manage/knowledge/", knowledge_list, name="manage_knowledge"),
    path("manage/knowledge/new/", knowledge_create, name="manage_knowledge_create"),
    path(
        "manage/knowledge/<int:article_id>/",
        knowledge_article,
        name="manage_knowledge_article",
    ),
    path(
        "manage/knowledge/<int:article_id>/versions/<str:language>/new/",
        knowledge_version_create,
        name="manage_knowledge_version_create",
    ),
    path(
        "manage/knowledge/versions/<int:version_id>/submit/",
        knowledge_submit,
        name="manage_knowledge_submit",
    ),
    path(
        "manage/knowledge/versions/<int:version_id>/publish/",
        knowledge_publish,
        name="manage_knowledge_publish",
    ),
    path(
        "manage/knowledge/versions/<int:version_id>/return/",
        knowledge_return,
        name="manage_knowledge_return",
    ),
]
