from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleKind(models.TextChoices):
    FAQ = "faq", _("FAQ entry")
    ARTICLE = "article", _("Article")


class VersionStatus(models.TextChoices):
    """draft → review → published; a newer publication retires the one before it."""

    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")
