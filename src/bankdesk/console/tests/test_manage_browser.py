"""An administrator configures the bank in a real browser, in 简体中文: the management screens
are reached from the navigation, next year's holiday notice is pasted and loaded, a member of
staff's second factor is reset with a reason, and a reviewer publishes an FAQ answer that the
help centre then finds. Each screen is saved under $BANKDESK_HOME/screenshots/console/."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.knowledge.services import article_create, version_submit
from bankdesk.sla.models import BusinessCalendar
from bankdesk.sla.services import calendars_seed
from bankdesk.staff.models import User

NOTICE = Path(__file__).parents[2] / "sla" / "tests" / "files" / "notice-2027-TEST-FIXTURE.csv"


@pytest.fixture
def configuration(admin_user: User, agent: User, supervisor: User) -> dict[str, Any]:
    """Made before the browser starts: the mainland calendar published to the end of 2026, an
    agent with an authenticator, an FAQ answer waiting for review."""
    calendars_seed()
    calendar = BusinessCalendar.objects.get(code="cn-mainland")
    calendar.days.filter(date__gt=date(2026, 12, 31)).delete()
    calendar.known_until = date(2026, 12, 31)
    calendar.save()
    Authenticator(agent)
    draft = article_create(
        slug="card-annual-fee",
        kind="faq",
        language="zh-hans",
        title="信用卡年费如何减免",
        body="当年刷卡满六次即可减免次年年费。",
        questions=["年费怎么免"],
        actor=agent,
    )
    version_submit(version=draft, actor=agent)
    return {"admin": Authenticator(admin_user), "supervisor": Authenticator(supervisor)}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_configures_the_bank_from_the_console(
    configuration: dict[str, Any],
    admin_user: User,
    supervisor: User,
    agent: User,
    server: str,
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, admin_user, configuration["admin"])

    page.click("nav.side >> text=工作日历")
    expect(page.locator("h1")).to_contain_text("工作日历")
    screenshot(page, "zh-11-manage-calendars")
    page.goto(f"{server}/manage/calendars/cn-mainland/notice/")
    page.fill("textarea", NOTICE.read_text(encoding="utf-8"))
    screenshot(page, "zh-12-manage-holiday-notice")
    page.locator("form.manage-form button[type=submit]").click()
    expect(page.locator(".notices")).to_contain_text("2027")
    expect(page.locator("main")).to_contain_text("2027-01-01")
    screenshot(page, "zh-13-manage-calendar-2027")

    for link, heading, name in [
        ("路由规则", "路由规则", "zh-14-manage-routing"),
        ("服务时限策略", "服务时限", "zh-15-manage-sla"),
        ("渠道接入点", "渠道接入点", "zh-16-manage-channels"),
        ("团队", "团队", "zh-17-manage-teams"),
        ("员工", "员工", "zh-18-manage-staff"),
    ]:
        page.click(f"nav.side ul.manage >> text={link}")
        expect(page.locator("h1").first).to_contain_text(heading)
        screenshot(page, name)

    # The agent lost their phone: their second factor is reset, with a reason.
    page.goto(f"{server}/manage/staff/{agent.pk}/")
    screenshot(page, "zh-19-manage-staff-member")
    reset = page.locator("form", has=page.locator("button", has_text="重置两步验证"))
    reset.locator("textarea, input[type=text]").first.fill("手机丢失，本人来电并核实身份")
    reset.locator("button").click()
    expect(page.locator(".notices")).to_be_visible()
    assert not problems, problems
    left = off_the_browser_thread(lambda: TOTPDevice.objects.filter(user=agent).count())
    assert left == 0

    # A supervisor reviews the agent's FAQ answer and publishes it; customers find it.
    reviewer = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900})
    review = reviewer.new_page()
    browser_sign_in(review, server, supervisor, configuration["supervisor"])
    review.click("nav.side >> text=知识库")
    screenshot(review, "zh-20-manage-knowledge")
    review.click("text=信用卡年费如何减免")
    screenshot(review, "zh-21-manage-knowledge-review")
    review.locator("form", has=review.locator("button", has_text="发布")).locator("button").click()
    expect(review.locator(".notices")).to_be_visible()
    customer = browser.new_context(locale="zh-CN").new_page()
    customer.goto(f"{server}/help/?q=年费")
    expect(customer.locator(".answer summary")).to_contain_text(["信用卡年费如何减免"])
