"""A complaint officer in a real browser, in 简体中文: the register, a complaint the assistant
heard on WeChat, its owner named (the agent who handled it is not offered), acknowledged,
decided and closed; the register then counts it within 24 hours. Screens saved."""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.complaints.models import Complaint
from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_assign, case_complaint_mark, case_create


@pytest.fixture
def complaint_desk(make_staff: Any, complaint_team: Team, general_team: Team, agent: User):
    officer = make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    agent.teams.add(complaint_team)
    case = case_create(
        subject="信用卡年费重复扣收",
        channel="wechat",
        team=general_team,
        actor=None,
        text="年费扣了两次",
    )
    case_assign(case=case, team=general_team, assignee=agent, actor=None)
    case = case_complaint_mark(case=Case.objects.get(pk=case.pk), actor=None, on="customer")
    return officer, Authenticator(officer), case


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_complaint_officer_takes_a_complaint_to_closure(
    complaint_desk: tuple[User, Authenticator, Case], server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    officer, phone, case = complaint_desk
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, officer, phone)
    page.click("nav.side >> text=投诉登记簿")
    expect(page.locator("table.complaints")).to_contain_text(case.number)
    screenshot(page, "zh-22-complaint-register")
    page.click(f"text={case.number}")
    panel = page.locator(".complaint-panel")
    expect(panel).to_contain_text("新受理")
    owners = panel.locator("#complaint-owner option")
    expect(owners).to_have_text(["—", "officer"])  # the agent who handled it is recused
    panel.locator("#complaint-owner").select_option(str(officer.pk))
    panel.locator("button", has_text="指定负责人").click()
    expect(page.locator(".notices")).to_contain_text("投诉已更新")
    page.locator(".complaint-panel button", has_text="已告知客户受理").click()
    page.fill("#complaint-decision", "经核实系系统重复扣收")
    page.fill("#complaint-remedy", "退还重复扣收的年费 300 元")
    page.locator(".complaint-panel button", has_text="记录处理决定").click()
    expect(page.locator(".complaint-panel")).to_contain_text("已作出处理决定")
    screenshot(page, "zh-23-complaint-decided")
    page.locator(".complaint-panel button", has_text="办结投诉").click()
    expect(page.locator(".complaint-panel")).to_contain_text("24 小时内办结")
    page.click("nav.side >> text=投诉登记簿")
    expect(page.locator(".complaint-target")).to_contain_text("100.0 %")
    screenshot(page, "zh-24-complaint-register-closed")
    assert not problems, problems
    closed = off_the_browser_thread(lambda: Complaint.objects.get(case=case).status)
    assert closed == "closed"
