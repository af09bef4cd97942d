"""What the agent sees after a hand-off: what the assistant understood, and knowledge to use."""

from __future__ import annotations

import pytest

from bankdesk.assistant.services import assistant_reply
from bankdesk.conftest import browser_sign_in
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import Case


def _handed_over(team: Team) -> Case:
    first = assistant_reply(text="怎么改银行卡密码", actor=None, channel="app")
    handed = assistant_reply(
        text="我昨天改密码时被扣了50元，卡尾号6789，转人工",
        actor=None,
        conversation_id=first.dialogue.public_id,
    )
    assert handed.case is not None
    Case.objects.filter(pk=handed.case.pk).update(team=team)
    return handed.case


@pytest.mark.usefixtures("assistant")
def test_the_case_page_shows_the_hand_over_and_suggested_answers(
    client: object, agent: User, general_team: Team
) -> None:
    case = _handed_over(general_team)
    client.force_login(agent)  # type: ignore[attr-defined]
    html = client.get(f"/cases/{case.pk}/").content.decode()  # type: ignore[attr-defined]
    assert "智能助手转来" in html and "客户要求转人工" in html
    assert "卡号尾号: 6789" in html and "金额: 50 CNY" in html
    assert "card_last4" not in html and "intent" not in html.split("智能助手转来")[1][:400]
    # The transcript is the case's first message: nothing the customer said is lost.
    assert "怎么改银行卡密码" in html and "转人工" in html
    assert "推荐知识" in html and "修改密码" in html and "用于回复" in html


@pytest.fixture
def handed_case(assistant: object, general_team: Team) -> Case:
    """Made before the browser starts: Playwright's thread refuses database calls."""
    return _handed_over(general_team)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_agent_puts_a_suggested_answer_into_the_reply(
    handed_case: Case, agent: User, server: str, browser: object
) -> None:
    from playwright.sync_api import expect

    case = handed_case
    page = browser.new_context(locale="zh-CN").new_page()  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, agent)
    page.goto(f"{server}/cases/{case.pk}/")
    expect(page.locator(".handoff")).to_contain_text("客户要求转人工")
    suggestion = page.locator(".suggestion").first
    suggestion.locator("summary").click()
    suggestion.locator(".use-suggestion").click()
    expect(page.locator("textarea[name=text]")).to_have_value(
        "您可以在本行任意自动柜员机修改密码。"
    )
    assert not problems, problems
