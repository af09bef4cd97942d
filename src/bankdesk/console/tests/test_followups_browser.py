"""In a real browser: an agent works the follow-up queue in 简体中文 (a call that finds nobody,
then the customer reached and satisfied); a customer answers a survey on a phone-sized screen in
简体中文 and in English. Screens saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from bankdesk.conftest import browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.customers.models import Customer
from bankdesk.feedback.models import FollowUp, Survey, SurveyResponse
from bankdesk.feedback.surveys import survey_link_token
from bankdesk.feedback.tests.conftest import WORKING_MORNING, resolved_case
from bankdesk.staff.models import Team, User

PHONE = {"width": 390, "height": 844}  # a phone held upright


@pytest.fixture
def resolved(migrated_data: None, customer: Customer, agent: User, general_team: Team):
    from datetime import time

    Customer.objects.filter(pk=customer.pk).update(contact_from=time(18), contact_until=time(20))
    with time_machine.travel(WORKING_MORNING, tick=False):
        case = resolved_case(customer, agent, team=general_team, assignee=agent)
    return case


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_agent_works_the_follow_up_queue(resolved, agent, server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    case = resolved
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, agent)  # agents owe no second factor by default
    page.click("nav.side >> text=回访任务")
    row = page.locator("table.followups tbody tr", has_text=case.number)
    expect(row).to_contain_text("18:00–20:00")
    screenshot(page, "zh-30-follow-up-queue")
    row.locator("a", has_text=case.number).click()
    page.locator("button.reveal").click()
    expect(page.locator(".phones")).to_contain_text("+8613812345678")
    page.check("input[name=outcome][value=no_answer]")
    page.fill("#note", "无人接听，稍后再拨")
    page.click("text=记录通话")
    expect(page.locator(".notices")).to_contain_text("通话已记录")
    page.click("a[href='?show=later']")
    page.locator("table.followups a", has_text=case.number).click()
    page.check("input[name=outcome][value=reached]")
    page.select_option("#verdict", "satisfied")
    page.select_option("#csat", "5")
    page.select_option("#nps", "9")
    page.fill("#remarks", "问题已解决，服务很好")
    screenshot(page, "zh-31-follow-up-call")
    page.click("text=记录通话")
    expect(page.locator(".notices")).to_contain_text("通话已记录")
    page.click("a[href='?show=done']")
    expect(page.locator("table.followups")).to_contain_text("满意")
    screenshot(page, "zh-32-follow-up-done")
    assert not problems, problems

    def stored() -> tuple[str, int, int | None]:
        follow_up = FollowUp.objects.get(case=case)
        response = SurveyResponse.objects.get(survey__case=case)
        return follow_up.status, follow_up.attempts, response.csat

    assert off_the_browser_thread(stored) == ("done", 2, 5)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "question", "send", "thanks"),
    [
        ("zh-hans", "您对这次服务的整体满意程度如何", "提交我的回答", "感谢您的反馈"),
        ("en", "Overall, how satisfied are you", "Send my answer", "Thank you"),
    ],
)
def test_a_customer_answers_a_survey_on_a_phone(
    resolved, server: str, browser: Any, language, question, send, thanks
) -> None:
    from playwright.sync_api import expect

    case = resolved

    def link() -> str:
        # Sent this morning (the case was resolved in the fixture's past): the link is fresh.
        Survey.objects.filter(case=case).update(
            language=language, expires_at=timezone.now() + timedelta(days=7)
        )
        return survey_link_token(Survey.objects.get(case=case))

    token = off_the_browser_thread(link)
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server}/survey/{token}/")
    expect(page.locator("legend").first).to_contain_text(question)
    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(f"text={send}")  # nothing chosen: the first question is required
    expect(page.locator(".question.invalid [role=alert]")).to_be_visible()
    screenshot(page, f"{language}-33-survey-phone-refused")
    page.locator(".scale-csat label.point").nth(3).tap()
    page.locator(".scale-nps label.point").nth(10).tap()
    page.fill("textarea", "Quick and kind" if language == "en" else "处理很快，态度很好")
    screenshot(page, f"{language}-34-survey-phone")
    page.click(f"text={send}")
    expect(page.locator("h1")).to_have_text(thanks)
    screenshot(page, f"{language}-35-survey-phone-thanks")
    page.goto(f"{server}/survey/{token}/")  # the same link again
    expect(page.locator("[data-problem=used]")).to_be_visible()
    assert not problems, problems

    def stored() -> tuple[int | None, int | None, str]:
        response = SurveyResponse.objects.get(survey__case=case)
        return response.csat, response.nps, response.source

    assert off_the_browser_thread(stored) == (4, 10, "link")
