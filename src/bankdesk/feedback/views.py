"""The survey page a customer opens from their invitation: no login, phone-sized first, in
the survey's language. A link that cannot be answered (forged, expired, used) gets a page that
says so and stores nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from bankdesk.feedback.choices import QuestionKind
from bankdesk.feedback.errors import SurveyAnswered, SurveyLinkInvalid
from bankdesk.feedback.models import Survey
from bankdesk.feedback.surveys import (
    SCALES,
    LinkProblem,
    survey_answer,
    survey_link_open,
    survey_opt_out,
)
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import Language, active_language

# What the customer reads when the link cannot be answered, and the status it is served with.
PROBLEMS: dict[str, tuple[Any, Any, int]] = {
    LinkProblem.FORGED: (
        gettext_lazy("This link does not work"),
        gettext_lazy("It may be mistyped or cut short. Please open it again from our message."),
        404,
    ),
    LinkProblem.EXPIRED: (
        gettext_lazy("This survey has closed"),
        gettext_lazy("Its link was valid for a limited time. Thank you all the same."),
        410,
    ),
    LinkProblem.USED: (
        gettext_lazy("This survey has been answered"),
        gettext_lazy("We have your answer already: a survey can be answered once. Thank you."),
        409,
    ),
}
CSAT_WORDS = {
    1: pgettext_lazy("satisfaction scale", "Very unhappy"),
    2: pgettext_lazy("satisfaction scale", "Unhappy"),
    3: pgettext_lazy("satisfaction scale", "Neutral"),
    4: pgettext_lazy("satisfaction scale", "Satisfied"),
    5: pgettext_lazy("satisfaction scale", "Very satisfied"),
}


def _language(survey: Survey | None) -> str:
    return survey.language if survey is not None else active_language()


def _questions(survey: Survey, given: dict[str, str]) -> list[dict[str, Any]]:
    language = survey.language
    shown = []
    for question in survey.template.question_list():
        texts = question.get("text") or {}
        kind = question["kind"]
        item = {
            "key": question["key"],
            "kind": kind,
            "required": bool(question.get("required")),
            "text": texts.get(language) or texts.get(Language.ZH_HANS) or question["key"],
            "given": given.get(question["key"], ""),
        }
        if kind in SCALES:
            low, high = SCALES[kind]
            words = CSAT_WORDS if kind == QuestionKind.CSAT else {}
            item["scale"] = [
                {"value": str(v), "word": words.get(v, "")} for v in range(low, high + 1)
            ]
        shown.append(item)
    return shown


def _closed(request: HttpRequest, problem: str) -> HttpResponse:
    title, text, status = PROBLEMS[problem]
    return render(
        request,
        "feedback/survey_closed.html",
        {"title": title, "text": text, "problem": problem},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    state = survey_link_open(token)
    with translation.override(_language(state.survey)):
        if state.problem is not None or state.survey is None:
            return _closed(request, state.problem or LinkProblem.FORGED)
        survey = state.survey
        given = {
            q["key"]: request.POST.get(q["key"], "")[:4000] for q in survey.template.question_list()
        }
        error: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            try:
                survey_answer(token=token, given=dict(given))
            except SurveyLinkInvalid as exc:
                return _closed(request, str(exc))
            except SurveyAnswered:
                return _closed(request, LinkProblem.USED)
            except InvalidInput as exc:
                error = {"field": exc.field or "", "text": _field_error(exc)}
                status = 400
            else:
                return render(request, "feedback/survey_thanks.html", {"token": token})
        context = {
            "survey": survey,
            "questions": _questions(survey, given if request.method == "POST" else {}),
            "error": error,
            "token": token,
        }
        return render(request, "feedback/survey.html", context, status=status)


def _field_error(exc: InvalidInput) -> str:
    if exc.code == "out_of_range":
        return _("Please choose one of the numbers shown.")
    if exc.code == "too_long":
        return _("Please shorten your answer.")
    return _("Please answer this question.")


@require_POST
def survey_opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    state = survey_link_open(token)
    with translation.override(_language(state.survey)):
        try:
            survey_opt_out(token=token)
        except SurveyLinkInvalid:
            return _closed(request, LinkProblem.FORGED)
        return render(request, "feedback/survey_opted_out.html")
