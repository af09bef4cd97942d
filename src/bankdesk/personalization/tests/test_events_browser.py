"""In a real browser: a supervisor opens an event in 简体中文, reads each session's seats and
waitlist, and marks who came to the session under way; customers open their invitations on a
phone, one taking the last seat, the next (in English) joining the waitlist. Screens saved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread, screenshot
from bankdesk.personalization.event_links import (
    registration_link_token,
)
from bankdesk.personalization.events import (
    event_create,
    invitations_send,
    register,
    session_add,
)
from bankdesk.personalization.models import CustomerEvent, Invitation, Registration, Segment
from bankdesk.personalization.tests.conftest import member
from bankdesk.staff.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}  # a phone held upright


def _course(supervisor: User, guests: Segment, capacity: int, starts_in: timedelta) -> Any:
    """A course made three hours ago whose session starts `starts_in` from now."""
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        course = event_create(
            kind="course",
            title="防范电信诈骗讲座",
            title_en="Anti-fraud talk",
            description="教您识别冒充客服、冒充公检法等常见骗局。",
            segment_ids=[guests.pk],
            actor=supervisor,
        )
        session = session_add(
            event=course,
            starts_at=now + starts_in,
            ends_at=now + starts_in + timedelta(hours=2),
            place="总行三楼培训室",
            capacity=capacity,
            actor=supervisor,
        )
    return course, session


@pytest.fixture
def under_way(migrated_data: None, supervisor: User) -> tuple[CustomerEvent, Authenticator]:
    """A course whose session began half an hour ago, full (two seats) with one waiting, and a
    later session with one of twenty seats taken; made before the browser starts."""
    guests = Segment.objects.create(code="event-guests", name="答谢活动嘉宾")
    course, session = _course(supervisor, guests, 2, -timedelta(minutes=30))
    people = [member(f"620000700{i}", guests) for i in range(3)]
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        later = session_add(
            event=course,
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=2),
            place="东城支行",
            capacity=20,
            actor=supervisor,
        )
        for each in (session, later):
            invitations_send(session=each, actor=supervisor)
        for minutes, customer in enumerate(people):
            with time_machine.travel(now - timedelta(hours=2) + timedelta(minutes=minutes)):
                register(invitation=Invitation.objects.get(session=session, customer=customer))
        register(invitation=Invitation.objects.get(session=later, customer=people[2]))
    return course, Authenticator(supervisor)


def test_a_supervisor_reads_the_seats_and_marks_who_came(
    under_way, supervisor: User, server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    course, phone = under_way
    page = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    browser_sign_in(page, server, supervisor, phone)
    page.goto(f"{server}/events/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("table.events-list tbody tr")).to_have_count(1)
    screenshot(page, "zh-59-events")
    page.click("text=防范电信诈骗讲座")
    first, later = page.locator("section.event-session").all()
    expect(first.locator("[data-seats]")).to_have_text("2 / 2")
    expect(first.locator("[data-waitlist]")).to_have_text("1")
    expect(later.locator("[data-seats]")).to_have_text("1 / 20")
    expect(later.locator("[data-waitlist]")).to_have_text("0")
    expect(first.locator("input[name=attended]")).to_have_count(2)  # the waiting one has none
    first.locator("input[name=attended]").first.check()
    screenshot(page, "zh-60-event-attendance")
    first.locator("form.attendance button[type=submit]").click()
    expect(page.locator(".notices")).to_contain_text("1")
    first = page.locator("section.event-session").first
    expect(first.locator("tr[data-status=attended]")).to_have_count(1)
    expect(first.locator("tr[data-status=no_show]")).to_have_count(1)
    screenshot(page, "zh-61-event-attendance-recorded")
    assert not problems, problems

    def stored() -> list[str]:
        return sorted(
            Registration.objects.filter(session__event=course).values_list("status", flat=True)
        )

    assert off_the_browser_thread(stored) == ["attended", "no_show", "registered", "waitlisted"]


@pytest.fixture
def last_seat(migrated_data: None, supervisor: User) -> tuple[str, str]:
    """A session next week with one seat left; two invited customers, one reading 简体中文 and
    one English. Their links."""
    guests = Segment.objects.create(code="event-guests", name="答谢活动嘉宾")
    _, session = _course(supervisor, guests, 2, timedelta(days=7))
    early = member("6200008000", guests)
    wang = member("6200008001", guests)
    smith = member("6200008002", guests, language="en")
    invitations_send(session=session, actor=supervisor)
    register(invitation=Invitation.objects.get(session=session, customer=early))
    return tuple(  # type: ignore[return-value]
        registration_link_token(Invitation.objects.get(session=session, customer=c))
        for c in (wang, smith)
    )


def test_customers_book_the_last_seat_and_the_waitlist_on_a_phone(
    last_seat, server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    wang, smith = last_seat
    problems: list[str] = []
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server}/e/{wang}/")
    expect(page.locator("h1")).to_have_text("防范电信诈骗讲座")
    expect(page.locator("[data-seats-left]")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "zh-62-event-invitation-phone")
    page.locator("form[data-stage=open] button.send").tap()
    expect(page.locator("[data-stage=booked]")).to_have_attribute("data-status", "registered")
    screenshot(page, "zh-63-event-booked-phone")

    page = context.new_page()
    page.goto(f"{server}/e/{smith}/")
    expect(page.locator("h1")).to_have_text("Anti-fraud talk")
    expect(page.locator("form[data-stage=open]")).to_contain_text("All seats are taken")
    page.locator("form[data-stage=open] button.send").click()
    expect(page.locator("[data-stage=booked]")).to_contain_text("You are number 1 on the waitlist")
    screenshot(page, "en-64-event-waitlist-phone")
    page.goto(f"{server}/e/{smith}x/")  # a damaged link
    expect(page.locator("[data-problem=forged]")).to_be_visible()
    assert not problems, problems

    def stored() -> list[str]:
        return sorted(Registration.objects.values_list("status", flat=True))

    assert off_the_browser_thread(stored) == ["registered", "registered", "waitlisted"]
