"""The customer help centre at /help/: the bank's published answers, searched in the page's
language (简体, 繁體 or English, converted between the Chinese scripts where an answer exists in
only one), and the chat window to reach a person. Only FAQ answers are shown: articles may be
staff procedures, which customers never see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bankdesk.knowledge.choices import ArticleKind
from bankdesk.knowledge.selectors import knowledge_search
from bankdesk.lib.languages import active_language

QUERY_MAX = 100
SHOWN = 10


@require_GET
def help_centre(request: HttpRequest) -> HttpResponse:
    text = " ".join(request.GET.get("q", "").split())[:QUERY_MAX]
    answers = (
        knowledge_search(text, language=active_language(), kind=ArticleKind.FAQ, limit=SHOWN)
        if text
        else []
    )
    return render(request, "knowledge/help.html", {"query": text, "answers": answers})
