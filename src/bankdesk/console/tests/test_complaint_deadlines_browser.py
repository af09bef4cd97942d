"""The regulator's deadline in a real browser, in 简体中文: the complaint officer asks for the
decision deadline to be extended with a reason; the complaint team's supervisor approves it in
the same panel, the deadline moves to 30 days and the customer is told. Screens saved."""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.complaints.extensions import statutory_clocks
from bankdesk.complaints.models import Complaint
from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create


@pytest.fixture
def desk(
    make_staff: Any, complaint_team: Team, categories: Any, customer: Any, migrated_data: None
):
    officer = make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    lead = make_staff("lead", Role.SUPERVISOR, teams=[complaint_team])
    case = case_create(
        subject="境外消费争议退款迟迟未到账",
        channel="email",
        category=categories["complaint_fees"],
        team=complaint_team,
        assignee=officer,
        customer=customer,
        actor=None,
        text="我要投诉：境外消费被重复扣款，退款一个月仍未到账。",
    )
    # Their phones, before the browser starts (Django refuses the database on its thread).
    return (officer, Authenticator(officer)), (lead, Authenticator(lead)), case


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_extension_is_asked_for_and_approved_in_the_browser(
    desk: tuple[tuple[Any, Authenticator], tuple[Any, Authenticator], Case],
    server: str,
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    officer, lead, case = desk
    problems: list[str] = []

    def page_for(who: tuple[Any, Authenticator]) -> Any:
        page = browser.new_context(
            locale="zh-CN", viewport={"width": 1440, "height": 1000}
        ).new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        browser_sign_in(page, server, *who)
        return page

    page = page_for(officer)
    page.goto(f"{server}/cases/{case.pk}/")
    panel = page.locator(".complaint-panel")
    expect(panel.locator(".deadlines")).to_contain_text("监管 15 日处理决定")
    panel.locator("summary", has_text="申请延长至 30 日").click()
    panel.locator("textarea[name=reason]").fill("需境外收单机构提供交易凭证，核查周期较长")
    panel.locator("button", has_text="提交主管审批").click()
    expect(page.locator(".complaint-panel .extensions")).to_contain_text("待审批")
    expect(page.locator(".complaint-panel .extensions button")).to_have_count(0)  # not theirs
    screenshot(page, "zh-25-complaint-extension-asked")

    page = page_for(lead)
    page.goto(f"{server}/cases/{case.pk}/")
    page.locator(".complaint-panel button", has_text="批准并告知客户").click()
    extensions = page.locator(".complaint-panel .extensions")
    expect(extensions).to_contain_text("已批准")
    expect(extensions).to_contain_text("已告知客户")
    expect(page.locator(".complaint-panel .deadlines")).to_contain_text("30 日")
    screenshot(page, "zh-26-complaint-extension-approved")
    assert not problems, problems

    def extended() -> int:
        (clock,) = statutory_clocks(Complaint.objects.get(case=case))
        return clock.minutes // (24 * 60)

    assert off_the_browser_thread(extended) == 30
