"""Knowledge reads: search, the answer for an intent, suggestions for a case."""

from __future__ import annotations

from dataclasses import dataclass

from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.knowledge.models import ArticleVersion
from bankdesk.knowledge.search import PREFERENCE, search
from bankdesk.lib.chinese import to_simplified, to_traditional
from bankdesk.lib.languages import Language
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Case, Message

SUGGESTION_MESSAGES = 3


@dataclass(frozen=True)
class Entry:
    """A published version as shown to someone asking in `language`: Chinese in the other
    script is converted with OpenCC, and says so."""

    article_id: int
    version_id: int
    slug: str
    kind: str
    intent: str
    language: str
    title: str
    questions: list[str]
    body: str
    converted: bool
    score: float = 0.0


def _shown(version: ArticleVersion, language: str | None, score: float = 0.0) -> Entry:
    convert = None
    if language == Language.ZH_HANT and version.language == Language.ZH_HANS:
        convert = to_traditional
    elif language == Language.ZH_HANS and version.language == Language.ZH_HANT:
        convert = to_simplified
    title, questions, body = version.title, list(version.questions), version.body
    if convert is not None:
        title, body = convert(title), convert(body)
        questions = [convert(q) for q in questions]
    return Entry(
        article_id=version.article_id,
        version_id=version.pk,
        slug=version.article.slug,
        kind=version.article.kind,
        intent=version.article.intent,
        language=language if convert is not None and language else version.language,
        title=title,
        questions=questions,
        body=body,
        converted=convert is not None,
        score=score,
    )


def knowledge_search(
    text: str, *, language: str | None = None, kind: str | None = None, limit: int = 10
) -> list[Entry]:
    hits = search(text, language=language, limit=limit * 3 if kind else limit)
    versions = ArticleVersion.objects.select_related("article").in_bulk(
        [hit.version_id for hit in hits]
    )
    entries = []
    for hit in hits:
        version = versions.get(hit.version_id)
        if version is None or (kind and version.article.kind != kind):
            continue
        entries.append(_shown(version, language, hit.score))
    return entries[:limit]


def published_faqs(intent: str | None = None) -> dict[str, dict[str, ArticleVersion]]:
    """Published FAQ versions by intent, then by language (one query)."""
    versions = ArticleVersion.objects.select_related("article").filter(
        article__kind=ArticleKind.FAQ, status=VersionStatus.PUBLISHED
    )
    if intent is not None:
        versions = versions.filter(article__intent=intent)
    found: dict[str, dict[str, ArticleVersion]] = {}
    for version in versions:
        found.setdefault(version.article.intent, {})[version.language] = version
    return found


def faq_choose(versions: dict[str, ArticleVersion], language: str) -> Entry | None:
    """The answer to show in `language`: written in it, else the other Chinese script
    converted, else English, else Simplified Chinese."""
    for wanted in (*PREFERENCE.get(language, ()), Language.EN, Language.ZH_HANS):
        if wanted in versions:
            return _shown(versions[wanted], language)
    return None


def faq_for_intent(intent: str, language: str) -> Entry | None:
    """The published FAQ answer for an assistant intent, in the customer's language."""
    return faq_choose(published_faqs(intent).get(intent, {}), language)


def case_suggestions(case: Case, *, limit: int = 5) -> list[Entry]:
    """What the agent on a case may want to read or send: searched with the case's subject
    and the customer's latest messages, in the case's language."""
    latest = Message.objects.filter(case=case, direction=Direction.INBOUND).order_by("-id")
    texts = [case.subject, *latest.values_list("text", flat=True)[:SUGGESTION_MESSAGES]]
    return knowledge_search(" ".join(texts), language=case.language, limit=limit)
