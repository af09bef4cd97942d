"""The knowledge base: articles for staff and FAQ entries the assistant answers from.

An article holds versions per language. A version is written as a draft, sent for review,
and published by somebody other than its author; publishing retires the version it replaces,
so each article has at most one published text per language and every earlier text is kept.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.lib.languages import Language
from bankdesk.tickets.models import Category


class Article(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=10, choices=ArticleKind.choices, default=ArticleKind.FAQ)
    # The assistant intent this entry answers (an FAQ entry), blank for reference articles.
    intent = models.CharField(max_length=80, blank=True, db_index=True)
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(max_length=10, choices=Language.choices)
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    title = models.CharField(_("title"), max_length=200)
    # FAQ entries: the ways customers ask it, the canonical question first.
    questions = models.JSONField(default=list, blank=True)
    body = models.TextField(_("body"))
    # Folded, segmented and stemmed words of title, questions and body, for search.
    search_terms = models.TextField(blank=True, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article_id", "language", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language", "number"], name="article_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["article", "language"],
                condition=models.Q(status=VersionStatus.PUBLISHED),
                name="article_one_published_per_language",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="article_version_status")]

    def __str__(self) -> str:
        return f"{self.article.slug} {self.language} v{self.number}"
