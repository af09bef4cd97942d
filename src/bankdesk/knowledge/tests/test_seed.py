"""The knowledge and examples bankdesk ships: complete, consistent, and found by search."""

from __future__ import annotations

import pytest

from bankdesk.assistant.choices import OUT_OF_SCOPE
from bankdesk.assistant.models import Intent, IntentExample
from bankdesk.assistant.seed import RISK_INTENTS, assistant_seed, seed_examples
from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.seed import knowledge_seed
from bankdesk.knowledge.selectors import faq_for_intent, knowledge_search
from bankdesk.lib.chinese import script_language


@pytest.fixture
def seeded(db: None) -> None:
    knowledge_seed()
    assistant_seed()


def test_every_intent_has_examples_in_both_languages_and_an_answer(seeded: None) -> None:
    intents = set(Intent.objects.values_list("code", flat=True))
    # BANKING77's 77, a complaint, and four credit-card matters BANKING77 lacks.
    assert len(intents) == 82 and {"complaint", "credit_card_annual_fee"} <= intents
    assert set(Intent.objects.filter(is_risk=True).values_list("code", flat=True)) == RISK_INTENTS
    by_language: dict[str, set[str]] = {"en": set(), "zh": set()}
    for text, label in seed_examples():
        by_language["en" if script_language(text) == "en" else "zh"].add(label)
    assert by_language["en"] == by_language["zh"] == intents | {OUT_OF_SCOPE}
    for code in intents:
        for language in ("en", "zh-hans", "zh-hant"):
            entry = faq_for_intent(code, language)
            assert entry is not None and entry.language == language, (code, language)
    assert IntentExample.objects.count() == len(set(seed_examples()))


def test_seeding_twice_changes_nothing_and_keeps_edits(seeded: None) -> None:
    Intent.objects.filter(code="exchange_rate").update(title_en="FX rates")
    before = (
        Article.objects.count(),
        ArticleVersion.objects.count(),
        IntentExample.objects.count(),
    )
    assert knowledge_seed() == 0
    assert assistant_seed().added == 0
    after = (Article.objects.count(), ArticleVersion.objects.count(), IntentExample.objects.count())
    assert before == after
    assert Intent.objects.get(code="exchange_rate").title_en == "FX rates"
    assert not ArticleVersion.objects.exclude(status=VersionStatus.PUBLISHED).exists()


@pytest.mark.parametrize(
    ("query", "language", "intent"),
    [
        ("I lost my card", "en", "lost_or_stolen_card"),
        ("银行卡丢了怎么办", "zh-hans", "lost_or_stolen_card"),
        ("匯率是多少", "zh-hant", "exchange_rate"),
    ],
)
def test_search_over_the_shipped_faq(seeded: None, query: str, language: str, intent: str) -> None:
    found = knowledge_search(query, language=language, kind=ArticleKind.FAQ, limit=3)
    assert intent in [entry.intent for entry in found]
