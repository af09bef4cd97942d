"""A complaint officer in a real browser, in 简体中文: from the register to the hotspots of
April–June 2024, credit-card fees rising from 1 to 6; the count opens the register with
exactly those 6; a root cause recorded on the hotspot, an action added, started and done,
and the root cause rectified. Screens saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from bankdesk.complaints.models import RootCause
from bankdesk.complaints.tests.hotspot_data import register_with_hotspots
from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User


@pytest.fixture
def hotspot_desk(
    make_staff: Any, complaint_team: Team, migrated_data: None
) -> tuple[User, Authenticator]:
    officer = make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    register_with_hotspots(officer)
    return officer, Authenticator(officer)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_complaint_officer_finds_a_hotspot_and_rectifies_its_root_cause(
    hotspot_desk: tuple[User, Authenticator], server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    officer, phone = hotspot_desk
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, officer, phone)
    page.click("nav.side >> text=投诉登记簿")
    page.click(".register-links a[href='/complaints/hotspots/']")
    page.fill("#hotspot-from", "2024-04-01")
    page.fill("#hotspot-to", "2024-07-01")
    page.locator(".hotspots form.filters button").click()
    expect(page.locator(".hotspot-total .count")).to_have_text("12")
    credit = page.locator("table.dimension-product tr[data-key='product-cards-credit']")
    expect(credit.locator(".group-name")).to_have_text("信用卡")
    expect(credit.locator("a.count")).to_have_text("6")
    expect(credit.locator("a.previous")).to_have_text("1")
    expect(credit.locator(".change")).to_contain_text("+5")
    expect(page.locator("table.rising")).to_contain_text("信用卡")
    expect(page.locator("table.clusters")).to_contain_text("年费")
    expect(page.locator("table.clusters")).to_contain_text("escrow")
    screenshot(page, "zh-40-complaint-hotspots")

    credit.locator("a.count").click()
    expect(page.locator(".hotspot-filter")).to_contain_text("信用卡")
    expect(page.locator("table.complaints tbody tr")).to_have_count(6)
    screenshot(page, "zh-41-complaint-register-hotspot")
    page.go_back()

    page.locator(
        "table.dimension-product tr[data-key='product-cards-credit'] a[href*='hotspot=']"
    ).click()
    form = page.locator("form.new-root-cause")
    expect(form.locator("#root-cause-hotspot")).to_have_value("product:product-cards-credit")
    form.locator("#root-cause-title").fill("年费批处理在月末重复执行")
    form.locator("#root-cause-description").fill("系统升级后批处理调度重复触发，导致年费扣收两次")
    form.locator("#root-cause-owner").select_option(str(officer.pk))
    form.locator("button").click()
    cause = page.locator("article.root-cause").first
    expect(cause).to_contain_text("年费批处理在月末重复执行")
    cause.locator("details summary").click()
    cause.locator("textarea[name=action]").fill("批处理增加幂等校验，上线前回归测试")
    cause.locator("select[name=owner]").select_option(str(officer.pk))
    due = (timezone.localdate() + timedelta(days=14)).isoformat()
    cause.locator("input[name=due_on]").fill(due)
    cause.locator("details button").click()
    cause = page.locator("article.root-cause").first
    expect(cause.locator("table.actions")).to_contain_text("已计划")
    cause.locator("button[value=in_progress]").click()
    cause = page.locator("article.root-cause").first
    expect(cause.locator("table.actions")).to_contain_text("进行中")
    cause.locator("button[value=done]").click()
    cause = page.locator("article.root-cause").first
    expect(cause.locator("h3 .tag")).to_have_text("已整改")
    expect(cause.locator("a.recurrence")).to_have_text("0")
    screenshot(page, "zh-42-complaint-root-cause-rectified")
    assert not problems, problems
    status = off_the_browser_thread(lambda: RootCause.objects.get().status)
    assert status == "rectified"
