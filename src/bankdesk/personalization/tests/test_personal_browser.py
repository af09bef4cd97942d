"""In a real browser, in 简体中文: an agent working a case sees the customer's next-best-action
with its reason, accepts it, and personalised-service coverage moves; a supervisor then finds the
customer counted on the dashboard and on the personalisation overview. Screens saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from bankdesk.analytics.kpis import kpis_compute
from bankdesk.analytics.periods import quarter_of, quarter_period
from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.customers.models import Customer
from bankdesk.personalization.models import Suggestion
from bankdesk.personalization.refresh import personalization_refresh
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create


def _coverage() -> tuple[float | None, int | None, int | None]:
    period = quarter_period(quarter_of(timezone.localdate()))
    value = kpis_compute(period, codes=["personalised_coverage"])[0].value
    return value.value, value.numerator, value.denominator


@pytest.fixture
def working(
    migrated_data: None,
    customer: Customer,
    agent: User,
    supervisor: User,
    general_team: Team,
) -> tuple[Case, Authenticator]:
    # Forty, retail, standard tier, an unverified phone: in no planned segment, and the
    # one suggestion that fits is to verify the phone number.
    Customer.objects.filter(pk=customer.pk).update(birth_year=timezone.localdate().year - 40)
    case = case_create(
        subject="网银登录失败",
        channel="phone",
        actor=agent,
        customer=customer,
        text="网银登录一直提示密码错误",
        team=general_team,
        assignee=agent,
    )
    personalization_refresh()
    return case, Authenticator(supervisor)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_agent_accepts_a_suggestion_and_coverage_moves(
    working, agent: User, supervisor: User, server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    case, phone = working
    assert off_the_browser_thread(_coverage) == (0.0, 0, 1)
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    browser_sign_in(page, server, agent)
    page.goto(f"{server}/cases/{case.pk}/")
    panel = page.locator("section.personal-panel")
    expect(panel.locator("h2")).to_have_text("个性化服务")
    suggestion = panel.locator('.suggestion[data-action="verify_phone"]')
    expect(suggestion).to_contain_text("核实客户电话号码")
    expect(suggestion).to_contain_text("没有已核实的电话号码")
    panel.scroll_into_view_if_needed()
    screenshot(page, "zh-50-case-next-best-action")
    suggestion.locator("button[value=accepted]").click()
    expect(page.locator(".notices")).to_contain_text("已接受建议")
    expect(panel.locator('.suggestion[data-action="verify_phone"]')).to_have_count(0)
    expect(panel.locator('[data-decided="verify_phone"]')).to_contain_text("已接受")
    assert off_the_browser_thread(_coverage) == (100.0, 1, 1)

    def decided() -> tuple[str, int | None, int | None]:
        row = Suggestion.objects.get(customer=case.customer_id, action="verify_phone")
        return row.status, row.case_id, row.decided_by_id

    assert off_the_browser_thread(decided) == ("accepted", case.pk, agent.pk)

    # The customer page: the 360, where the agent records the customer withdrawing consent.
    page.click(f"h1 + p >> text={case.customer.name}")
    expect(page.locator("h2", has_text="客户画像与偏好")).to_be_visible()
    marketing = page.locator("table.consents tbody tr").nth(1)
    expect(marketing).to_contain_text("不允许")  # never given: not allowed by default
    page.select_option("form.consent-form select[name=purpose]", "marketing")
    page.select_option("form.consent-form select[name=granted]", "yes")
    page.select_option("form.consent-form select[name=source]", "phone")
    page.click("form.consent-form button")
    expect(page.locator(".notices")).to_contain_text("授权已记录")
    expect(marketing).to_have_attribute("data-consent-allowed", "yes")
    expect(marketing).to_contain_text("录音电话")
    page.locator("details.edit-preferences summary").click()
    page.check("input[name=accessibility][value=large_print]")
    page.click("details.edit-preferences button")
    expect(page.locator("[data-needs]")).to_have_text("大字版")
    screenshot(page, "zh-53-customer-360")
    assert not problems, problems

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    browser_sign_in(desk, server, supervisor, phone)
    desk.click("nav.side >> text=客群与服务方案")
    expect(desk.locator("[data-coverage]")).to_have_text("100.0 %")
    screenshot(desk, "zh-51-personalisation-overview")
    desk.click("text=覆盖了哪些客户")
    expect(desk.locator("[data-drill-count]")).to_have_text("1")
    expect(desk.locator("table.cases tbody")).to_contain_text(str(case.customer.customer_number))
    screenshot(desk, "zh-52-coverage-drill")
