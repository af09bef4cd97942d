"""The customer help centre: published FAQ answers searched in the page's language, never a
staff article; and the chat from there, which reaches the available agent through routing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from bankdesk.conftest import browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.knowledge.services import article_create, version_publish, version_submit
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import Case
from bankdesk.tickets.routing_rules import routing_rule_create


def _publish(slug: str, kind: str, title: str, body: str) -> None:
    version = article_create(
        slug=slug,
        kind=kind,
        language="zh-hans",
        title=title,
        body=body,
        questions=[title] if kind == "faq" else [],
        actor=None,
    )
    version_publish(version=version_submit(version=version, actor=None), actor=None)


@pytest.fixture
def answers(db: None) -> None:
    _publish("pin-change", "faq", "如何修改银行卡密码", "您可以在本行任意自动柜员机修改密码。")
    _publish(
        "pin-procedure", "article", "密码重置内部流程", "柜员核验身份证原件后在系统中重置密码。"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("answers")
def test_the_help_centre_finds_published_answers_in_the_readers_script(client) -> None:
    page = client.get("/help/", {"q": "修改密码"}).content.decode()
    assert "如何修改银行卡密码" in page and "自动柜员机" in page
    assert "内部流程" not in page and "柜员核验" not in page  # staff procedures stay inside

    hant = client.get("/help/", {"q": "修改密碼"}, headers={"Accept-Language": "zh-Hant"})
    assert "如何修改銀行卡密碼" in hant.content.decode()  # converted to 繁體
    nothing = client.get("/help/", {"q": "外汇牌价"}).content.decode()
    assert "在线服务" in nothing and "没有找到" in nothing
    english = client.get("/help/", headers={"Accept-Language": "en"}).content.decode()
    assert "How can we help?" in english


@pytest.fixture
def routed(agent: User, general_team: Team) -> None:
    """Made before the browser starts: chats go to the general team, whose agent is available."""
    routing_rule_create(name="在线客服", team=general_team, actor=None, channel="web_chat")
    agent.presence = "available"
    agent.save(update_fields=["presence"])


def _routed_case() -> Case:
    deadline = time.monotonic() + 10
    while not Case.objects.filter(channel="web_chat").exists():
        assert time.monotonic() < deadline, "the customer's chat opened no case"
        time.sleep(0.1)
    return Case.objects.select_related("assignee").get(channel="web_chat")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("answers", "routed")
def test_a_customer_searches_then_chats_and_reaches_the_agent(
    agent: User, server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    customer = browser.new_context(locale="zh-CN").new_page()
    customer.on("pageerror", lambda error: problems.append(str(error)))
    customer.goto(f"{server}/help/")
    customer.fill("#help-q", "修改密码")
    customer.press("#help-q", "Enter")
    expect(customer.locator(".answer summary")).to_have_text(["如何修改银行卡密码"])
    customer.locator(".answer summary").click()
    expect(customer.locator(".answer p")).to_contain_text("自动柜员机")
    screenshot(customer, "zh-9-help-centre")

    customer.click(".bdchat-launcher")
    customer.fill(".bdchat-input", "密码输错三次被锁了，转人工")
    customer.click(".bdchat-send")
    first = customer.locator('.bdchat-message[data-author="customer"]').first
    expect(first).to_have_attribute("data-seq", re.compile(r"^\d+$"))

    case = off_the_browser_thread(_routed_case)
    assert case.assignee_id == agent.pk  # routing reached the available agent

    staff = browser.new_context(locale="zh-CN").new_page()
    browser_sign_in(staff, server, agent)
    staff.goto(f"{server}/cases/?assignee=me")
    expect(staff.locator("table.cases tbody")).to_contain_text(case.number)
    staff.click(f"text={case.number}")
    expect(staff.locator(".thread")).to_contain_text("密码输错三次被锁了")
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_writes_to_the_bank_and_follows_the_case_by_its_link(
    server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    customer = browser.new_context(locale="zh-CN").new_page()
    customer.goto(f"{server}/help/")
    customer.click("text=给我们留言")
    customer.fill("#id_email", "not-an-address")
    customer.fill("#id_subject", "信用卡年费被重复扣收")
    customer.fill("#id_message", "本月账单年费扣了两次，请核查退还。")
    customer.click(".help-contact button[type=submit]")
    expect(customer.locator(".help-contact .error").first).to_be_visible()
    expect(customer.locator("#id_message")).to_have_value("本月账单年费扣了两次，请核查退还。")
    screenshot(customer, "zh-9-help-contact-refused")
    customer.fill("#id_name", "王小明")
    customer.fill("#id_email", "xiaoming@example.cn")
    customer.click(".help-contact button[type=submit]")

    expect(customer.locator(".notice")).to_contain_text("您的留言已登记为工单")
    expect(customer.locator(".case-status")).to_contain_text("信用卡年费被重复扣收")
    expect(customer.locator(".case-status .state")).to_have_text("已受理，等待客服处理")
    link = customer.locator("#status-link").input_value()
    screenshot(customer, "zh-9-help-case-status")

    case = off_the_browser_thread(lambda: Case.objects.get(subject="信用卡年费被重复扣收"))
    later = browser.new_context(locale="en").new_page()
    later.goto(link)
    expect(later.locator("h1")).to_have_text(f"Case {case.number}")
