"""The acceptance test for live chat, in a real browser against a real server.

A customer opens the widget on the demo page and writes; the agent's case screen shows it
live; the agent answers; the customer sees the answer — headless Debian Chromium through
Playwright, uvicorn serving bankdesk's ASGI application on a free loopback port.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bankdesk.conftest import browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.staff.models import Team
from bankdesk.tickets.models import Case

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _case_for_team(team: Team) -> Case:
    deadline = time.monotonic() + 10
    while not Case.objects.exists():
        assert time.monotonic() < deadline, "the customer's message opened no case"
        time.sleep(0.1)
    case = Case.objects.get()
    # Routing put the new case nowhere in this empty bank; a dispatcher sends it to the team.
    Case.objects.filter(pk=case.pk).update(team=team)
    return case


def test_a_customer_and_an_agent_chat_live(agent, general_team, server, browser):
    from playwright.sync_api import expect

    problems: list[str] = []
    customer_page = browser.new_context().new_page()
    customer_page.on("pageerror", lambda error: problems.append(f"customer: {error}"))
    customer_page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    customer_page.goto(f"{server}/intake/chat/demo/")
    customer_page.fill(".bdchat-input", "你好，我的借记卡被吞了")
    customer_page.click(".bdchat-send")
    first = customer_page.locator('.bdchat-message[data-author="customer"]').first
    expect(first).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    expect(first).not_to_have_class(re.compile("bdchat-pending"))

    case = off_the_browser_thread(lambda: _case_for_team(general_team))

    agent_page = browser.new_context().new_page()
    agent_page.on("pageerror", lambda error: problems.append(f"agent: {error}"))
    browser_sign_in(agent_page, server, agent)
    agent_page.goto(f"{server}/cases/{case.pk}/")
    expect(agent_page.locator("#case-live")).to_have_class("card case-live is-live")
    thread = agent_page.locator(".thread")
    expect(thread).to_contain_text("你好，我的借记卡被吞了")

    # Live: the customer types and writes again; the agent's screen shows both, no reload.
    customer_page.type(".bdchat-input", "卡号尾号4321")
    expect(agent_page.locator(".live-typing")).to_be_visible()
    customer_page.click(".bdchat-send")
    expect(thread.locator('[data-direction="inbound"]').last).to_contain_text("卡号尾号4321")

    agent_page.fill("textarea[name=text]", "已为您登记，请携带身份证到网点领卡。")
    agent_page.click("form.reply button[type=submit]")
    answer = customer_page.locator('.bdchat-message[data-author="staff"]')
    expect(answer).to_contain_text("已为您登记，请携带身份证到网点领卡。")
    expect(thread.locator('[data-direction="outbound"]')).to_contain_text("已为您登记")

    # In order on the customer's side: their two messages, then the answer.
    texts = customer_page.locator(".bdchat-message .bdchat-text").all_inner_texts()
    assert texts == [
        "你好，我的借记卡被吞了",
        "卡号尾号4321",
        "已为您登记，请携带身份证到网点领卡。",
    ]
    assert not problems, problems


def test_a_resolved_chat_ends_with_a_rating_the_customer_taps(
    migrated_data, agent, general_team, server, browser
):
    """The agent resolves the chat's case: the widget offers the satisfaction question at its
    end; a tap records the rating (once), and a reload does not offer it again."""
    from playwright.sync_api import expect

    from bankdesk.feedback.models import SurveyResponse
    from bankdesk.intake.outbox import outbox_deliver
    from bankdesk.tickets.choices import CaseStatus
    from bankdesk.tickets.services import case_status_change

    problems: list[str] = []
    page = browser.new_context(locale="zh-CN").new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server}/intake/chat/demo/")
    page.fill(".bdchat-input", "请问外币兑换要带什么证件？")
    page.click(".bdchat-send")
    expect(page.locator('.bdchat-message[data-author="customer"]')).to_have_attribute(
        "data-seq", re.compile(r"^\d+$")
    )

    def resolve() -> None:
        case = _case_for_team(general_team)
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
        case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
        # What the worker does with the task the resolution queued: the outbox goes out.
        assert outbox_deliver().sent == 1

    off_the_browser_thread(resolve)
    rating = page.locator(".bdchat-rating")
    expect(rating).to_contain_text("您对这次服务的整体满意程度如何")
    screenshot(page, "zh-36-chat-rating")
    rating.locator("button", has_text="4").click()
    expect(page.locator(".bdchat-rating-thanks")).to_be_visible()

    def stored() -> list[tuple[int | None, str]]:
        return list(SurveyResponse.objects.values_list("csat", "source"))

    assert off_the_browser_thread(stored) == [(4, "chat")]
    page.reload()
    expect(page.locator('.bdchat-message[data-author="customer"]')).to_have_count(1)
    expect(page.locator(".bdchat-rating")).to_have_count(0)
    assert not problems, problems
