"""An agent's working day in a real browser, in 简体中文 and in English: sign in, open the queue,
filter it, open a case, reply, add a note, change the status and resolve; find a customer by
phone and open their page; a supervisor hands a waiting case out from the floor and sends a
bounced reply again. Every main page is saved as a screenshot under
$BANKDESK_HOME/screenshots/console/ (var/ by default) for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.conftest import (
    Authenticator,
    browser_sign_in,
    off_the_browser_thread,
    screenshot,
)
from bankdesk.customers.models import Customer
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply
from bankdesk.staff.models import Team, User
from bankdesk.tickets.macros import MacroSpec, macro_save
from bankdesk.tickets.models import Case, InternalNote
from bankdesk.tickets.services import case_create, message_delivery_record

WORDS = {
    "zh-CN": {
        "locale": "zh-CN",
        "queue": "全部工单",
        "filter": "筛选",
        "updated": "工单已更新",
        "note_added": "备注已添加",
        "resolved": "已解决",
        "customers": "其工单",
        "reply": "发送回复",
        "add_note": "添加备注",
        "save": "保存",
    },
    "en": {
        "locale": "en-GB",
        "queue": "All cases",
        "filter": "Filter",
        "updated": "Case updated",
        "note_added": "Note added",
        "resolved": "Resolved",
        "customers": "Their cases",
        "reply": "Send reply",
        "add_note": "Add note",
        "save": "Save",
    },
}


@pytest.fixture
def cases(agent: User, general_team: Team, customer: Customer) -> list[Case]:
    """Made before the browser starts: Playwright's thread refuses database calls."""
    agent.presence = "available"
    agent.save(update_fields=["presence"])
    macro_save(
        spec=MacroSpec(
            name="已提交核实",
            text_zh_hans="{customer_name}您好，工单 {case_number} 已提交核实，三个工作日内回复。",
            text_en="Dear {customer_name}, case {case_number} is being checked.",
            add_tag="核实中",
        ),
        actor=agent,
    )
    made = [
        case_create(
            subject="信用卡年费争议",
            channel="phone",
            team=general_team,
            customer=customer,
            actor=None,
        ),
        case_create(subject="网银登录失败", channel="wechat", team=general_team, actor=None),
        case_create(subject="挂失补卡进度", channel="app", team=general_team, actor=None),
    ]
    return made


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_an_agent_works_a_case_from_the_queue_to_resolved(
    cases: list[Case], agent: User, server: str, browser: Any, language: str
) -> None:
    from playwright.sync_api import expect

    words = WORDS[language]
    context = browser.new_context(locale=words["locale"], viewport={"width": 1440, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}") if response.status >= 500 else None
        ),
    )
    browser_sign_in(page, server, agent)
    tag = "zh" if language == "zh-CN" else "en"

    # The queue, with the navigation's counts filled in.
    page.click(f"nav.side >> text={words['queue']}")
    expect(page.locator("table.cases tbody tr")).to_have_count(3)
    expect(page.locator('[data-count="team"]')).to_have_text("3")
    screenshot(page, f"{tag}-1-queue")

    # Filtered to WeChat: one case, and the filter is in the link.
    page.select_option("#id_channel", "wechat")
    page.click(f"form.queue-filters button:has-text('{words['filter']}')")
    expect(page.locator("table.cases tbody tr")).to_have_count(1)
    assert "channel=wechat" in page.url
    page.goto(f"{server}/cases/")

    # The keyboard: j chooses the first row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server}/cases/{cases[2].pk}/")
    page.goto(f"{server}/cases/{cases[0].pk}/")
    screenshot(page, f"{tag}-2-case")

    # Take the case, open it, reply and note.
    page.select_option("#id_status", "open")
    page.select_option("#id_assignee", str(agent.pk))
    page.click(f".properties button:has-text('{words['save']}')")
    expect(page.locator(".notices")).to_contain_text(words["updated"])
    # Reply from a macro: its text filled for this case, its tag added with the reply.
    page.select_option("#macro", label="已提交核实")
    expect(page.locator("form.reply textarea")).to_have_value(
        f"王小明您好，工单 {cases[0].number} 已提交核实，三个工作日内回复。"
    )
    page.click(f"form.reply button:has-text('{words['reply']}')")
    expect(page.locator(".thread-message[data-direction=outbound]")).to_have_count(1)
    expect(page.locator(".properties #id_tags")).to_have_value("核实中")
    page.fill("form.note textarea", "客户持卡十年，建议按减免政策处理")
    page.click(f"form.note button:has-text('{words['add_note']}')")
    expect(page.locator(".notices")).to_contain_text(words["note_added"])
    expect(page.locator(".thread-note")).to_contain_text("建议按减免政策处理")

    # Resolve.
    page.select_option("#id_status", "resolved")
    page.click(f".properties button:has-text('{words['save']}')")
    expect(page.locator(".case-live .hint").first).to_contain_text(words["resolved"])
    screenshot(page, f"{tag}-3-case-resolved")

    # Find the customer by phone from the top bar.
    page.fill("#global-search", "138 1234 5678")
    page.press("#global-search", "Enter")
    expect(page.locator("table.customers")).to_contain_text("王小明")
    screenshot(page, f"{tag}-4-search")
    page.click("table.customers >> text=王小明")
    expect(page.locator(".customer-page h1")).to_contain_text("王小明")
    expect(page.locator(".customer-cases")).to_contain_text(cases[0].number)
    screenshot(page, f"{tag}-5-customer")
    page.click(f"text={words['customers']}")
    expect(page.locator("table.cases tbody tr")).to_have_count(1)

    # The shortcuts, on ?.
    page.keyboard.press("?")
    expect(page.locator("dialog#shortcuts")).to_be_visible()
    screenshot(page, f"{tag}-6-shortcuts")
    context.close()

    assert not problems, problems

    def stored() -> tuple[str, int | None, int]:
        case = Case.objects.get(pk=cases[0].pk)
        return case.status, case.assignee_id, InternalNote.objects.filter(case=case).count()

    assert off_the_browser_thread(stored) == ("resolved", agent.pk, 1)


@pytest.fixture
def floor_cases(
    supervisor: User, agent: User, general_team: Team, customer: Customer
) -> tuple[Authenticator, Case, Case]:
    agent.presence = "available"
    agent.save(update_fields=["presence"])
    waiting = case_create(subject="网银登录失败", channel="web_chat", team=general_team, actor=None)
    case_create(subject="转账失败", channel="phone", team=general_team, assignee=agent, actor=None)
    bounced = case_create(
        subject="对账单地址变更",
        channel="email",
        team=general_team,
        assignee=agent,
        customer=customer,
        actor=None,
    )
    message, item = case_reply(case=bounced, text="地址已为您变更。", actor=agent)
    assert item is not None
    OutboxMessage.objects.filter(pk=item.pk).update(status="dead", last_error="550 no mailbox")
    message_delivery_record(message=message, status="failed", reason="550 收件邮箱不存在")
    return Authenticator(supervisor), waiting, bounced


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_hands_out_a_case_from_the_floor_and_sends_a_bounced_reply_again(
    floor_cases: tuple[Authenticator, Case, Case],
    supervisor: User,
    agent: User,
    server: str,
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    phone, waiting, bounced = floor_cases
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, supervisor, phone)
    page.click("nav.side >> text=主管看板")
    expect(page.locator("table.floor tbody tr")).to_contain_text("综合服务组")
    expect(page.locator("table.people")).to_contain_text("在线")
    screenshot(page, "zh-7-floor")
    row = page.locator("table.unassigned tbody tr", has_text=waiting.number)
    row.locator("select").select_option(str(agent.pk))
    row.locator("button").click()
    expect(page.locator(".notices")).to_contain_text("已修改 1 个工单")
    expect(page.locator("table.unassigned")).to_have_count(0)
    screenshot(page, "zh-8-floor-handed-out")

    # A new chat arrives: the floor shows it without a reload, told over the staff socket.
    page.evaluate("document.getElementById('floor').dataset.refreshed = 'not yet'")
    general_team = off_the_browser_thread(lambda: Team.objects.get(pk=waiting.team_id))
    arrived = off_the_browser_thread(
        lambda: case_create(
            subject="手机银行闪退", channel="web_chat", team=general_team, actor=None
        )
    )
    expect(page.locator("table.unassigned tbody tr", has_text=arrived.number)).to_have_count(
        1, timeout=15000
    )
    assert page.evaluate("document.getElementById('floor').dataset.refreshed") != "not yet"

    # A reply that bounced shows why, and goes again once the address is right.
    page.goto(f"{server}/cases/{bounced.pk}/")
    expect(page.locator(".delivery-failed")).to_have_text("未送达")
    expect(page.locator(".delivery-reason")).to_contain_text("550 收件邮箱不存在")
    screenshot(page, "zh-10-delivery-failed")
    page.click("form.retry button")
    expect(page.locator(".notices")).to_contain_text("该回复已排队，将重新发送")
    expect(page.locator(".delivery-queued")).to_have_count(1)
    assert not problems, problems
    assigned = off_the_browser_thread(lambda: Case.objects.get(pk=waiting.pk).assignee_id)
    assert assigned == agent.pk
