"""Knowledge management in the console: staff write articles and FAQ entries as drafts, send them
for review, and a reviewer other than the author publishes them or returns them with a note."""

from __future__ import annotations

import re

import pytest

from bankdesk.assistant.training import intent_create
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.knowledge.models import Article, ArticleVersion
from bankdesk.knowledge.services import article_create, version_publish, version_submit

pytestmark = pytest.mark.django_db

LIST = "/manage/knowledge/"
NEW = "/manage/knowledge/new/"
EN = {"Accept-Language": "en"}
FAQ = {
    "kind": "faq",
    "slug": "card-lost",
    "language": "zh-hans",
    "title": "银行卡丢失怎么办",
    "questions": "银行卡丢了怎么办\n卡丢了如何挂失",
    "body": "请立即拨打客服热线挂失，并携带身份证到任意网点补办。",
}


def _draft(author, slug: str = "card-lost", kind: str = "faq", title: str = "银行卡丢失怎么办"):
    return article_create(
        slug=slug,
        kind=kind,
        language="zh-hans",
        title=title,
        body="请立即拨打客服热线挂失。",
        questions=[title] if kind == "faq" else [],
        actor=author,
    )


def _article_page(client, version, **headers) -> str:
    response = client.get(f"/manage/knowledge/{version.article_id}/", headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def _state(version) -> str:
    return ArticleVersion.objects.get(pk=version.pk).status


def test_the_list_shows_each_text_and_its_state_in_chinese_and_english(client, agent, supervisor):
    _draft(agent)
    published = _draft(agent, slug="pin-reset", kind="article", title="密码重置内部流程")
    version_publish(version=version_submit(version=published, actor=agent), actor=supervisor)
    sign_in_with_second_factor(client, agent)

    page = client.get(LIST)
    assert page.status_code == 200
    text = page.content.decode()
    assert "银行卡丢失怎么办" in text and "密码重置内部流程" in text
    assert "草稿" in text and "已发布" in text  # states by their labels, never "draft"
    assert "常见问题" in text and "文章" in text
    assert ">draft<" not in text and ">published<" not in text

    english = client.get(LIST, headers=EN).content.decode()
    assert "Knowledge base" in english and "Draft" in english and "Published" in english
    assert "FAQ entry" in english and "New article or FAQ entry" in english


def test_the_list_filters_by_state_and_audience(client, agent, supervisor):
    _draft(agent)
    in_review = version_submit(
        version=_draft(agent, slug="fees", title="年费如何收取"), actor=agent
    )
    _draft(agent, slug="procedure", kind="article", title="柜台核验流程")
    sign_in_with_second_factor(client, supervisor)

    review = client.get(LIST, {"status": "review"}).content.decode()
    assert "年费如何收取" in review and "银行卡丢失怎么办" not in review
    assert "柜台核验流程" not in review
    staff_only = client.get(LIST, {"kind": "article"}).content.decode()
    assert "柜台核验流程" in staff_only and "年费如何收取" not in staff_only
    assert _state(in_review) == "review"

    nonsense = client.get(LIST, {"status": "gone"}, headers=EN)
    assert nonsense.status_code == 400
    assert "Select a valid choice" in nonsense.content.decode()


def test_the_list_reads_a_bounded_number_of_queries(client, agent, django_assert_max_num_queries):
    sign_in_with_second_factor(client, agent)
    _draft(agent, slug="a0", title="第0条")
    with django_assert_max_num_queries(30) as few:
        client.get(LIST)
    for n in range(1, 12):
        _draft(agent, slug=f"a{n}", title=f"第{n}条")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(LIST)
    assert "第11条" in page.content.decode()


def test_an_agent_writes_an_faq_entry_as_a_draft(client, agent):
    sign_in_with_second_factor(client, agent)
    form = client.get(NEW, headers=EN).content.decode()
    assert 'name="slug"' in form and "Save as a draft" in form

    response = client.post(NEW, FAQ)
    assert response.status_code == 302
    article = Article.objects.get(slug="card-lost")
    version = article.versions.get()
    assert (article.kind, version.status, version.number) == ("faq", "draft", 1)
    assert version.author == agent
    assert version.questions == ["银行卡丢了怎么办", "卡丢了如何挂失"]
    assert response["Location"] == f"/manage/knowledge/{article.pk}/#language-zh-hans"
    page = client.get(response["Location"]).content.decode()
    assert "银行卡丢失怎么办" in page and "草稿" in page


def test_bad_input_is_refused_with_what_was_typed_kept(client, agent):
    sign_in_with_second_factor(client, agent)
    response = client.post(
        NEW, {**FAQ, "slug": "Card Lost!", "questions": "  \n ", "body": "保留这段正文"}, headers=EN
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Use lower-case letters, digits, hyphens and underscores only." in page
    assert "An FAQ entry needs at least one question customers ask." in page
    assert 'value="Card Lost!"' in page and "保留这段正文" in page and "银行卡丢失怎么办" in page
    assert not Article.objects.exists()

    blank = client.post(NEW, {**FAQ, "body": "   "})
    assert blank.status_code == 400 and "银行卡丢了怎么办" in blank.content.decode()
    too_long = client.post(NEW, {**FAQ, "title": "长" * 201}, headers=EN)
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.content.decode()
    assert not Article.objects.exists()


def test_an_faq_entry_answers_an_intent_in_a_category(client, agent, categories):
    intent_create(code="card_lost", title_en="Lost card", title_zh="银行卡挂失", actor=None)
    sign_in_with_second_factor(client, agent)
    form = client.get(NEW, headers=EN).content.decode()
    assert "Lost card (card_lost)" in form and ">Cards<" in form
    assert ">银行卡<" in client.get(NEW).content.decode()

    chosen = {"intent": "card_lost", "category": categories["card_lost"].pk}
    staff_only = client.post(NEW, {**FAQ, **chosen, "kind": "article"}, headers=EN)
    assert staff_only.status_code == 400
    assert "Only an FAQ entry answers an assistant intent." in staff_only.content.decode()
    assert client.post(NEW, {**FAQ, **chosen}).status_code == 302
    article = Article.objects.get()
    assert (article.intent, article.category) == ("card_lost", categories["card_lost"])


def test_an_identifier_in_use_is_refused(client, agent):
    _draft(agent)
    sign_in_with_second_factor(client, agent)
    response = client.post(NEW, {**FAQ, "title": "另一个标题"}, headers=EN)
    assert response.status_code == 400
    page = response.content.decode()
    assert "An article with this identifier exists already." in page and "另一个标题" in page
    assert Article.objects.count() == 1


def test_a_new_version_starts_from_the_newest_and_a_stale_one_is_a_conflict(client, agent):
    first = _draft(agent)
    link = f"/manage/knowledge/{first.article_id}/versions/zh-hans/new/"
    sign_in_with_second_factor(client, agent)
    form = client.get(link).content.decode()
    assert "请立即拨打客服热线挂失。" in form and 'name="based_on" value="1"' in form

    edit = {
        "title": "银行卡丢失怎么办（新）",
        "questions": "卡丢了",
        "body": "新正文",
        "based_on": "1",
    }
    assert client.post(link, edit).status_code == 302
    second = ArticleVersion.objects.get(article_id=first.article_id, number=2)
    assert (second.status, second.body, _state(first)) == ("draft", "新正文", "draft")

    stale = client.post(link, {**edit, "body": "我基于第一版写的"}, headers=EN)
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Someone else wrote a newer version of this text" in page
    assert "我基于第一版写的" in page and 'name="based_on" value="2"' in page
    assert ArticleVersion.objects.filter(article_id=first.article_id).count() == 2

    again = client.post(link, {**edit, "body": "我基于第一版写的", "based_on": "2"})
    assert again.status_code == 302
    assert (
        ArticleVersion.objects.get(article_id=first.article_id, number=3).body == "我基于第一版写的"
    )


def test_a_translation_is_a_first_draft_in_its_language(client, agent):
    first = _draft(agent)
    sign_in_with_second_factor(client, agent)
    page = _article_page(client, first, **EN)
    link = f"/manage/knowledge/{first.article_id}/versions/en/new/"
    assert f'href="{link}"' in page and "Add a translation" in page
    english = {
        "title": "Lost card",
        "questions": "I lost my card",
        "body": "Call us.",
        "based_on": "0",
    }
    assert client.post(link, english).status_code == 302
    assert ArticleVersion.objects.get(language="en").number == 1
    assert client.get(f"/manage/knowledge/{first.article_id}/versions/xx/new/").status_code == 404


def test_a_draft_is_sent_for_review_once(client, agent):
    version = _draft(agent)
    sign_in_with_second_factor(client, agent)
    page = _article_page(client, version, **EN)
    submit = f"/manage/knowledge/versions/{version.pk}/submit/"
    assert f'action="{submit}"' in page

    assert client.post(submit).status_code == 302
    assert _state(version) == "review"
    stale = client.post(submit, headers=EN)
    assert stale.status_code == 409
    assert "Someone else moved this version on" in stale.content.decode()
    assert "“In review”" in stale.content.decode()
    assert _state(version) == "review"


def test_a_reviewer_publishes_and_customers_find_it(client, agent, supervisor):
    version = version_submit(version=_draft(agent), actor=agent)
    sign_in_with_second_factor(client, supervisor)
    page = _article_page(client, version, **EN)
    publish = f"/manage/knowledge/versions/{version.pk}/publish/"
    assert f'action="{publish}"' in page and "Return to the author" in page

    assert client.post(publish, {"note": "内容准确"}).status_code == 302
    version.refresh_from_db()
    assert (version.status, version.reviewer, version.review_note) == (
        "published",
        supervisor,
        "内容准确",
    )
    help_page = client.get("/help/", {"q": "银行卡丢失"}).content.decode()
    assert "请立即拨打客服热线挂失" in help_page

    again = client.post(publish, {"note": ""}, headers=EN)
    assert (
        again.status_code == 409 and "Someone else moved this version on" in again.content.decode()
    )


def test_nobody_publishes_their_own_text(client, supervisor):
    version = version_submit(version=_draft(supervisor), actor=supervisor)
    sign_in_with_second_factor(client, supervisor)
    page = _article_page(client, version, **EN)
    publish = f"/manage/knowledge/versions/{version.pk}/publish/"
    assert f'action="{publish}"' not in page
    assert "You wrote this version: another reviewer publishes it." in page

    refused = client.post(publish, {"note": "我自己批"}, headers=EN)
    assert refused.status_code == 403
    assert "Nobody approves their own text" in refused.content.decode()
    assert "我自己批" in refused.content.decode()
    assert _state(version) == "review"


def test_a_reviewer_returns_a_version_with_a_note(client, agent, complaint_officer):
    version = version_submit(version=_draft(agent), actor=agent)
    back = f"/manage/knowledge/versions/{version.pk}/return/"
    sign_in_with_second_factor(client, complaint_officer)

    empty = client.post(back, {"note": "   "}, headers=EN)
    assert empty.status_code == 400
    assert "Say what to change: the note goes back to the author." in empty.content.decode()
    assert _state(version) == "review"

    assert client.post(back, {"note": "请补充挂失后的补卡费用"}).status_code == 302
    version.refresh_from_db()
    assert (version.status, version.review_note) == ("draft", "请补充挂失后的补卡费用")
    assert "请补充挂失后的补卡费用" in _article_page(client, version)

    stale = client.post(back, {"note": "第二次退回"}, headers=EN)
    assert stale.status_code == 409
    assert "第二次退回" in stale.content.decode()  # kept to copy, though its form is gone
    blank_and_stale = client.post(back, {"note": ""}, headers=EN)
    assert blank_and_stale.status_code == 409
    assert "it is now “Draft”" in blank_and_stale.content.decode()


def test_an_administrator_publishes(client, agent, admin_user):
    version = version_submit(version=_draft(agent), actor=agent)
    sign_in_with_second_factor(client, admin_user)
    assert client.post(f"/manage/knowledge/versions/{version.pk}/publish/").status_code == 302
    assert _state(version) == "published"


def test_an_agent_may_not_review(client, agent, make_staff):
    colleague = make_staff("colleague")
    version = version_submit(version=_draft(colleague), actor=colleague)
    sign_in_with_second_factor(client, agent)
    page = _article_page(client, version, **EN)
    assert "/publish/" not in page and "/return/" not in page
    assert "Waiting for a reviewer." in page

    for action in ("publish", "return"):
        response = client.post(f"/manage/knowledge/versions/{version.pk}/{action}/", {"note": "x"})
        assert response.status_code == 403
    version.refresh_from_db()
    assert (version.status, version.reviewer, version.review_note) == ("review", None, "")


def test_an_auditor_reads_and_changes_nothing(client, agent, auditor):
    draft = _draft(agent)
    sign_in_with_second_factor(client, auditor)
    assert "银行卡丢失怎么办" in client.get(LIST).content.decode()
    page = _article_page(client, draft, **EN)
    assert "Version history" in page
    for control in ("/submit/", "/publish/", "/return/", "/new/"):
        assert control not in page

    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {**FAQ, "slug": "auditor-wrote"}).status_code == 403
    assert client.post(f"/manage/knowledge/versions/{draft.pk}/submit/").status_code == 403
    link = f"/manage/knowledge/{draft.article_id}/versions/zh-hans/new/"
    assert (
        client.post(
            link, {"title": "t", "body": "b", "questions": "q", "based_on": "1"}
        ).status_code
        == 403
    )
    assert _state(draft) == "draft" and Article.objects.count() == 1
    assert ArticleVersion.objects.count() == 1


def test_the_screens_need_a_console_session(client, agent, supervisor):
    draft = _draft(agent)
    assert client.get(LIST).status_code == 302
    client.force_login(supervisor)  # second factor still owed
    response = client.post(f"/manage/knowledge/versions/{draft.pk}/submit/")
    assert response.status_code == 302 and "/mfa/" in response["Location"]
    assert _state(draft) == "draft"


def test_a_missing_article_or_version_is_not_found(client, agent):
    sign_in_with_second_factor(client, agent)
    assert client.get("/manage/knowledge/999/").status_code == 404
    assert client.post("/manage/knowledge/versions/999/submit/").status_code == 404


def test_the_history_lists_every_version_and_shows_an_older_text(client, agent, supervisor):
    first = _draft(agent)
    version_publish(version=version_submit(version=first, actor=agent), actor=supervisor)
    sign_in_with_second_factor(client, agent)
    link = f"/manage/knowledge/{first.article_id}/versions/zh-hans/new/"
    client.post(
        link, {"title": "第二版标题", "questions": "问", "body": "第二版正文", "based_on": "1"}
    )
    page = _article_page(client, first)
    rows = re.findall(r'<tr data-version-id="(\d+)">', page)
    assert len(rows) == 2
    assert "第二版正文" in page and "已发布" in page and "草稿" in page
    older = client.get(f"/manage/knowledge/{first.article_id}/", {"version": first.pk})
    assert "请立即拨打客服热线挂失。" in older.content.decode()
