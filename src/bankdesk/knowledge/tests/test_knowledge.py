"""The knowledge base: approval flow, search in three scripts, suggestions on a case, API."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bankdesk.conftest import ApiClient
from bankdesk.knowledge.choices import ArticleKind, VersionStatus
from bankdesk.knowledge.models import ArticleVersion
from bankdesk.knowledge.selectors import case_suggestions, faq_for_intent, knowledge_search
from bankdesk.knowledge.services import (
    article_create,
    version_draft,
    version_publish,
    version_return,
    version_submit,
)
from bankdesk.knowledge.text import search_words
from bankdesk.lib.errors import Conflict, InvalidInput, PermissionDenied
from bankdesk.security.audit import audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.staff.models import User
from bankdesk.tickets.services import case_create


def _published(**fields: object) -> ArticleVersion:
    version = article_create(actor=None, **fields)  # type: ignore[arg-type]
    return version_publish(version=version_submit(version=version, actor=None), actor=None)


@pytest.fixture
def kb(db: None) -> dict[str, ArticleVersion]:
    lost = _published(
        slug="faq-lost-card",
        kind=ArticleKind.FAQ,
        intent="lost_or_stolen_card",
        language="zh-hans",
        title="银行卡丢失",
        questions=["我的银行卡丢了怎么办", "卡被偷了"],
        body="请立即在手机银行 App 中冻结银行卡，我们的同事会尽快联系您。",
    )
    lost_en = version_draft(
        article=lost.article,
        language="en",
        title="Lost or stolen card",
        questions=["I lost my card", "My card was stolen"],
        body="Freeze the card in the app straight away; a colleague will contact you.",
        actor=None,
    )
    lost_en = version_publish(version=version_submit(version=lost_en, actor=None), actor=None)
    rate = _published(
        slug="faq-exchange-rate",
        kind=ArticleKind.FAQ,
        intent="exchange_rate",
        language="en",
        title="Exchange rates",
        questions=["What exchange rate do you use?", "How are currencies converted?"],
        body="Card payments abroad are converted at the card scheme's daily rate.",
    )
    return {"lost": lost, "lost_en": lost_en, "rate": rate}


def test_words_fold_scripts_and_stem_english() -> None:
    assert search_words("信用卡被盜刷了") == search_words("信用卡被盗刷了")
    assert "信用卡" in search_words("我的信用卡被盗刷了")
    assert search_words("cards declined") == search_words("card declining")
    assert search_words("the and of") == []


def test_search_finds_chinese_in_either_script_and_english(kb: dict[str, ArticleVersion]) -> None:
    simplified = knowledge_search("银行卡丢了", language="zh-hans")
    assert simplified[0].slug == "faq-lost-card"
    assert simplified[0].language == "zh-hans" and not simplified[0].converted

    traditional = knowledge_search("銀行卡丟了怎麼辦", language="zh-hant")
    assert traditional[0].slug == "faq-lost-card"
    # No 繁體 text was written: the 简体 one is converted for the customer, and says so.
    assert traditional[0].converted and traditional[0].language == "zh-hant"
    assert "凍結" in traditional[0].body

    english = knowledge_search("my card was stolen", language="en")
    assert english[0].slug == "faq-lost-card" and english[0].language == "en"
    assert knowledge_search("currency conversion rate")[0].slug == "faq-exchange-rate"
    assert knowledge_search("天气预报") == []


def test_only_published_versions_are_found(kb: dict[str, ArticleVersion]) -> None:
    draft = version_draft(
        article=kb["rate"].article,
        language="en",
        title="Exchange rates",
        questions=["Which rate?"],
        body="Zebra crossings are converted daily.",
        actor=None,
    )
    assert knowledge_search("zebra") == []
    version_publish(version=version_submit(version=draft, actor=None), actor=None)
    assert knowledge_search("zebra")[0].version_id == draft.pk
    kb["rate"].refresh_from_db()
    assert kb["rate"].status == VersionStatus.RETIRED
    assert knowledge_search("card scheme daily rate") == [] or all(
        e.version_id != kb["rate"].pk for e in knowledge_search("card scheme daily rate")
    )


def test_approval_flow_and_four_eyes(
    db: None, agent: User, supervisor: User, admin_user: User
) -> None:
    version = article_create(
        slug="faq-pin",
        kind=ArticleKind.FAQ,
        language="en",
        title="PIN",
        questions=["How do I change my PIN?"],
        body="At any of our cash machines.",
        actor=agent,
    )
    with pytest.raises(Conflict):
        version_publish(version=version, actor=supervisor)  # not yet in review
    version_submit(version=version, actor=agent)
    with pytest.raises(PermissionDenied):
        version_publish(version=version, actor=agent)  # nobody approves their own text
    version_return(version=version, actor=supervisor, note="Mention the app too.")
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.review_note == "Mention the app too."
    version_submit(version=version, actor=agent)
    version_publish(version=version, actor=supervisor)
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.reviewer == supervisor
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert actions.count("knowledge.version_submit") == 2
    assert "knowledge.version_return" in actions and "knowledge.version_publish" in actions
    assert audit_verify().is_intact


def test_bad_input_is_refused_and_stores_nothing(db: None) -> None:
    with pytest.raises(InvalidInput):
        article_create(slug="x", kind="faq", language="en", title="T", body="B", actor=None)
    with pytest.raises(InvalidInput):
        article_create(slug="y", kind="article", language="fr", title="T", body="B", actor=None)
    with pytest.raises(InvalidInput):
        article_create(slug="z", kind="article", language="en", title=" ", body="B", actor=None)
    assert not ArticleVersion.objects.exists()


def test_faq_for_intent_prefers_the_language_then_converts(kb: dict[str, ArticleVersion]) -> None:
    entry = faq_for_intent("lost_or_stolen_card", "en")
    assert entry is not None and entry.language == "en"
    hant = faq_for_intent("lost_or_stolen_card", "zh-hant")
    assert hant is not None and hant.converted and "銀行卡" in hant.title
    # Only English written: a Chinese customer gets the English text rather than nothing.
    rate = faq_for_intent("exchange_rate", "zh-hans")
    assert rate is not None and rate.language == "en"
    assert faq_for_intent("no_such_intent", "en") is None


def test_case_suggestions_come_from_what_the_customer_wrote(
    kb: dict[str, ArticleVersion],
) -> None:
    case = case_create(
        subject="求助",
        channel="web_chat",
        actor=None,
        language="zh-hans",
        text="我的银行卡昨天丢了，怎么办？",
    )
    suggestions = case_suggestions(case)
    assert suggestions[0].slug == "faq-lost-card" and suggestions[0].language == "zh-hans"


def test_api_flow(
    kb: dict[str, ArticleVersion],
    agent: User,
    supervisor: User,
    api_for: Callable[[User], ApiClient],
) -> None:
    writer, reviewer = api_for(agent), api_for(supervisor)
    created = writer.post(
        "/knowledge/articles",
        {
            "slug": "faq-card-delivery",
            "language": "zh-hans",
            "title": "新卡寄送",
            "questions": ["新卡什么时候到"],
            "body": "新卡一般在 5 个工作日内寄到。",
        },
    )
    assert created.status_code == 201, created.json_body
    version_id = created.json_body["versions"][0]["id"]
    unpublished = writer.get("/knowledge/search", q="新卡什么时候到").json_body
    assert "faq-card-delivery" not in [e["slug"] for e in unpublished]
    assert writer.post(f"/knowledge/versions/{version_id}/submit").status_code == 200
    assert writer.post(f"/knowledge/versions/{version_id}/publish").status_code == 403
    published = reviewer.post(f"/knowledge/versions/{version_id}/publish", {"note": "ok"})
    assert published.status_code == 200 and published.json_body["status"] == "published"
    found = writer.get("/knowledge/search", q="新卡什麼時候到", language="zh-hant").json_body
    assert found[0]["slug"] == "faq-card-delivery" and found[0]["converted"] is True
    again = writer.post(f"/knowledge/versions/{version_id}/submit")
    assert again.status_code == 409
    article = writer.get(f"/knowledge/articles/{created.json_body['id']}").json_body
    assert [v["status"] for v in article["versions"]] == ["published"]
    duplicate = writer.post(
        "/knowledge/articles",
        {
            "slug": "faq-card-delivery",
            "language": "en",
            "title": "x",
            "body": "y",
            "questions": ["q"],
        },
    )
    assert duplicate.status_code == 409
    bad = writer.post(
        "/knowledge/articles", {"slug": "Bad Slug!", "language": "en", "title": "x", "body": "y"}
    )
    assert bad.status_code == 422 and bad.json_body["field"] == "slug"
