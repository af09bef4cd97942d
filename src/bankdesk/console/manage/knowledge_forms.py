"""The forms of the knowledge-base screens (`knowledge.py`): a new article or FAQ entry with its
first text, a new version of one language's text, a reviewer's decision, and the list's filter.

Each form checks the text as the knowledge services will, so a refusal is said beside the field
rather than after a round trip; the services remain the ones who decide.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankdesk.assistant.models import Intent
from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.knowledge.models import Article
from bankdesk.knowledge.services import BODY_MAX, QUESTION_MAX, QUESTIONS_MAX, TITLE_MAX
from bankdesk.lib.languages import Language, active_language
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.tickets.models import Category

NOTE_MAX = 500
SLUG_MAX = 80
TEXTAREA = {"rows": 10, "maxlength": BODY_MAX}
SLUG_TAKEN = gettext_lazy("An article with this identifier exists already. Choose another.")


def _text(value: str, limit: int) -> str:
    """What the service will store, checked as it will check it, so a refusal is said here."""
    if is_unusable(value):
        raise forms.ValidationError(_("This contains characters that cannot be stored."))
    value = clean_text(value)
    if not value:
        raise forms.ValidationError(_("This field is required."))
    if len(value) > limit:
        raise forms.ValidationError(
            _("Write at most %(count)d characters here.") % {"count": limit}
        )
    return value


class VersionForm(forms.Form):
    """One language's text of an article: title, the ways customers ask it, and the answer."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX)
    questions = forms.CharField(
        label=gettext_lazy("Questions customers ask"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One a line, the usual wording first. An FAQ entry needs at least one."
        ),
    )
    body = forms.CharField(label=gettext_lazy("Text"), widget=forms.Textarea(attrs=TEXTAREA))

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.article_kind = kind

    def clean_title(self) -> str:
        return _text(self.cleaned_data["title"], TITLE_MAX)

    def clean_body(self) -> str:
        return _text(self.cleaned_data["body"], BODY_MAX)

    def clean_questions(self) -> list[str]:
        lines = [line for line in self.cleaned_data["questions"].splitlines() if line.strip()]
        if len(lines) > QUESTIONS_MAX:
            raise forms.ValidationError(
                _("Give at most %(count)d questions.") % {"count": QUESTIONS_MAX}
            )
        return list(dict.fromkeys(_text(line, QUESTION_MAX) for line in lines))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind", self.article_kind)
        if kind == ArticleKind.FAQ and "questions" in cleaned and not cleaned["questions"]:
            self.add_error(
                "questions", _("An FAQ entry needs at least one question customers ask.")
            )
        return cleaned


def _intent_choices() -> list[tuple[str, str]]:
    language = active_language()
    return [("", "—")] + [
        (intent.code, f"{intent.title(language)} ({intent.code})")
        for intent in Intent.objects.filter(is_active=True).order_by("code")
    ]


class CategoryField(forms.ModelChoiceField[Category]):
    """Categories named in the reader's language (English where one is given)."""

    def label_from_instance(self, obj: Category) -> str:
        return obj.name_en or obj.name if active_language() == Language.EN else obj.name


class ArticleForm(VersionForm):
    """A new article or FAQ entry with its first text, which becomes a draft."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Audience"),
        choices=ArticleKind.choices,
        initial=ArticleKind.FAQ,
        help_text=gettext_lazy(
            "FAQ entries are shown to customers in the help centre and answered by the "
            "assistant; articles are read by staff only."
        ),
    )
    slug = forms.CharField(
        label=gettext_lazy("Identifier"),
        max_length=SLUG_MAX,
        validators=[
            RegexValidator(
                r"^[-a-z0-9_]+$",
                gettext_lazy("Use lower-case letters, digits, hyphens and underscores only."),
            )
        ],
        help_text=gettext_lazy("Used in links and never changed, e.g. card-lost."),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Language"), choices=Language.choices, initial=Language.ZH_HANS
    )
    intent = forms.ChoiceField(
        label=gettext_lazy("Assistant intent it answers"), choices=(), required=False
    )
    category = CategoryField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label="—",
    )
    field_order = ["kind", "slug", "language", "title", "questions", "body", "intent", "category"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        intent = self.fields["intent"]
        assert isinstance(intent, forms.ChoiceField)
        intent.choices = _intent_choices()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The assistant answers from FAQ entries only; an intent on a staff article is a slip.
        if cleaned.get("kind") == ArticleKind.ARTICLE and cleaned.get("intent"):
            self.add_error("intent", _("Only an FAQ entry answers an assistant intent."))
        return cleaned

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if Article.objects.filter(slug=slug).exists():
            raise forms.ValidationError(SLUG_TAKEN)
        return slug


class NewVersionForm(VersionForm):
    """A new version of one language's text, with the number of the newest version when the
    form was read: a version written meanwhile by someone else is a conflict, not buried."""

    based_on = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class PublishForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note to the author (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX}),
    )


class ReturnForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("What to change"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX}),
        error_messages={
            "required": gettext_lazy("Say what to change: the note goes back to the author.")
        },
    )

    def clean_note(self) -> str:
        return _text(self.cleaned_data["note"], NOTE_MAX)


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("State"),
        choices=[("", gettext_lazy("Any state")), *VersionStatus.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Audience"),
        choices=[("", gettext_lazy("Customers and staff")), *ArticleKind.choices],
        required=False,
    )
