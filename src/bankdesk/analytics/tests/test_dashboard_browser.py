"""In a real browser, in 简体中文: a supervisor opens the dashboard, reads the plan's targets
with their traffic lights and trends, opens the cases behind the complaints-closed-in-24-hours
number and finds as many as the number said, slices by team, and downloads the evaluation.
Screens saved."""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.analytics.rollups import rollups_refresh
from bankdesk.conftest import Authenticator, browser_sign_in, screenshot
from bankdesk.staff.models import User


@pytest.fixture
def desk(autumn_told, supervisor: User) -> tuple[User, Authenticator]:
    rollups_refresh()
    return supervisor, Authenticator(supervisor)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_reads_the_plan_and_opens_a_number(desk, server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    supervisor, phone = desk
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    browser_sign_in(page, server, supervisor, phone)
    page.click("nav.side >> text=仪表盘")
    page.select_option("#dash-quarter", "2026Q4")
    page.click(".filter-actions button")
    expect(page.locator("h2#plan-title")).to_have_text("服务方案目标")
    card = page.locator('article[data-kpi="complaints_closed_24h"]')
    expect(card.locator("[data-value]")).to_have_text("0.0 %")
    expect(card).to_contain_text("未达标")
    expect(card.locator("svg.trend rect")).to_have_count(4)
    coverage = page.locator('article[data-kpi="personalised_coverage"]')
    expect(coverage.locator("[data-value]")).to_have_text("0.0 %")
    screenshot(page, "zh-40-dashboard")
    number = card.locator('a[data-part="denominator"]').inner_text()
    card.locator('a[data-part="denominator"]').click()
    expect(page.locator("[data-drill-count]")).to_have_text(number)
    expect(page.locator("table.cases tbody tr")).to_have_count(int(number))
    screenshot(page, "zh-41-dashboard-drill")
    page.go_back()
    page.select_option("#dash-slice", "team")
    page.click(".filter-actions button")
    expect(page.locator("table.slices")).to_contain_text("综合服务组")
    screenshot(page, "zh-42-dashboard-by-team")
    with page.expect_download() as download:
        page.click("text=XLSX 中文")
    assert download.value.suggested_filename == "bankdesk-2026Q4-zh-hans.xlsx"
    assert not problems, problems
