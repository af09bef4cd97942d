"""How far each calendar's holidays are known, and what happens past it: deadlines and clocks
that lean on unpublished days are flagged provisional, never silently worked out as if a
Spring Festival not yet announced were a run of working days; administrators are warned."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from chinese_calendar import constants  # type: ignore[import-untyped]  # ships no types

from bankdesk.sla.calendar import BusinessCalendarSpec
from bankdesk.sla.models import BusinessCalendar, SlaClock
from bankdesk.sla.selectors import calendar_horizon_warnings
from bankdesk.sla.services import TargetSpec, calendars_seed, sla_policy_create
from bankdesk.sla.tasks import calendar_horizon_check_run
from bankdesk.tickets.services import case_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = "/sla/calendars/{}/deadline"
# The last year the installed chinesecalendar publishes; its data says so, not this file.
PUBLISHED_UNTIL = date(max(day.year for day in constants.holidays), 12, 31)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mainland() -> BusinessCalendar:
    calendars_seed()  # the data migration already did; this guards against a flushed database
    return BusinessCalendar.objects.get(code="cn-mainland")


def test_each_calendar_records_how_far_its_holidays_are_known(mainland):
    calendars = dict(BusinessCalendar.objects.values_list("code", "known_until"))
    assert calendars["cn-mainland"] == PUBLISHED_UNTIL
    # Hong Kong's general holidays follow fixed statutory rules; the seeded years are known.
    assert calendars["hk"] == date(2030, 12, 31)
    assert calendars["24x7"] is None  # every minute works: nothing to publish


def test_seeding_again_never_shortens_a_horizon_a_notice_extended(mainland):
    mainland.known_until = PUBLISHED_UNTIL + timedelta(days=365)
    mainland.save()
    calendars_seed()
    mainland.refresh_from_db()
    assert mainland.known_until == PUBLISHED_UNTIL + timedelta(days=365)


def test_the_engine_knows_a_moment_only_up_to_the_end_of_its_last_known_day():
    spec = BusinessCalendarSpec(
        time_zone="Asia/Shanghai", weekly={0: [(time(9), time(17))]}, known_until=date(2026, 12, 31)
    )
    assert spec.is_known(datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI))
    assert not spec.is_known(datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI))
    # 2026-12-31 16:30 UTC is already New Year's Day in Shanghai.
    assert not spec.is_known(datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")))
    assert BusinessCalendarSpec(time_zone="UTC", is_24x7=True).is_known(datetime.now(SHANGHAI))


def test_a_deadline_past_the_published_mainland_data_is_flagged_provisional(mainland, agent_api):
    start = datetime.combine(PUBLISHED_UNTIL, time(16), SHANGHAI)
    response = agent_api.get(DEADLINE.format("cn-mainland"), start=start.isoformat(), minutes=480)
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["is_provisional"] is True
    assert body["known_until"] == PUBLISHED_UNTIL.isoformat()
    assert datetime.fromisoformat(body["deadline"]).date() > PUBLISHED_UNTIL


def test_a_deadline_inside_the_published_data_is_not_provisional(mainland, agent_api):
    response = agent_api.get(
        DEADLINE.format("cn-mainland"), start="2026-09-30T16:00:00+08:00", minutes=120
    )
    assert response.json_body == {
        "deadline": "2026-10-08T10:00:00+08:00",
        "is_provisional": False,
        "known_until": PUBLISHED_UNTIL.isoformat(),
    }


def test_a_round_the_clock_deadline_has_no_horizon(mainland, agent_api):
    response = agent_api.get(DEADLINE.format("24x7"), start="2099-01-01T00:00:00Z", minutes=60)
    assert response.json_body["is_provisional"] is False
    assert response.json_body["known_until"] is None


def test_a_case_clock_due_past_the_published_data_is_provisional_in_the_api(
    mainland, agent, agent_api
):
    sla_policy_create(
        code="standard",
        name="Standard service",
        actor=None,
        targets=[
            TargetSpec(name="First response 1h", metric="first_response", minutes=60),
            TargetSpec(name="Resolution 5 days", metric="resolution", minutes=5 * 480),
        ],
    )
    opened = datetime.combine(PUBLISHED_UNTIL - timedelta(days=3), time(10), SHANGHAI)
    with time_machine.travel(opened, tick=False):
        case = case_create(subject="吞卡", channel="phone", actor=agent, text="我的卡被吞了")
    flags = dict(SlaClock.objects.filter(case=case).values_list("name", "is_provisional"))
    assert flags == {"First response 1h": False, "Resolution 5 days": True}

    clocks = agent_api.get(f"/sla/cases/{case.pk}/clocks").json_body
    assert {c["name"]: c["is_provisional"] for c in clocks} == flags
    shown = agent_api.get(f"/cases/{case.pk}").json_body["sla"]
    assert {c["name"]: c["is_provisional"] for c in shown} == flags


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        (PUBLISHED_UNTIL - timedelta(weeks=8, days=1), False),
        (PUBLISHED_UNTIL - timedelta(weeks=8) + timedelta(days=1), True),
        (PUBLISHED_UNTIL + timedelta(days=40), True),  # passed: still said, every day
    ],
)
def test_a_horizon_is_warned_about_from_eight_weeks_ahead(mainland, today, warned):
    codes = [h.code for h in calendar_horizon_warnings(today=today)]
    assert codes == (["cn-mainland"] if warned else [])


def test_the_warning_window_is_a_setting(mainland, settings):
    settings.BANKDESK_CALENDAR_WARNING_WEEKS = 2
    assert calendar_horizon_warnings(today=PUBLISHED_UNTIL - timedelta(weeks=4)) == []


def test_the_daily_check_logs_a_warning_naming_the_calendar_and_its_last_known_day(
    mainland, caplog
):
    within = datetime.combine(PUBLISHED_UNTIL - timedelta(weeks=4), time(3), SHANGHAI)
    with time_machine.travel(within), caplog.at_level(logging.WARNING, logger="bankdesk.sla"):
        assert calendar_horizon_check_run.call() == 1
    (record,) = [r for r in caplog.records if r.name == "bankdesk.sla"]
    assert "cn-mainland" in record.getMessage()
    assert PUBLISHED_UNTIL.isoformat() in record.getMessage()


def test_administrators_see_the_horizon_on_every_admin_page_in_chinese(
    mainland, client, monkeypatch, admin_user
):
    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    within = datetime.combine(PUBLISHED_UNTIL - timedelta(weeks=4), time(10), SHANGHAI)
    with time_machine.travel(within, tick=False):
        client.force_login(admin_user)  # the idle sign-out must not see the jump in time
        for page in ("/admin/", "/admin/sla/calendarday/", "/home/"):
            response = client.get(page)
            assert response.status_code == 200, page
            html = response.content.decode()
            assert "calendar-horizon" in html, page
            assert PUBLISHED_UNTIL.isoformat() in html, page
            assert "放假安排" in html, page
            # Each screen leads to its own place to load the notice.
            where = "/admin/sla/businesscalendar/" if page.startswith("/admin/") else "/manage/"
            assert f'href="{where}' in html.split("calendar-horizon", 1)[1], page
    before = datetime.combine(PUBLISHED_UNTIL - timedelta(weeks=20), time(10), SHANGHAI)
    with time_machine.travel(before, tick=False):
        client.force_login(admin_user)
        page = client.get("/admin/")
        assert page.status_code == 200
        assert "calendar-horizon" not in page.content.decode()


def test_agents_are_not_shown_the_administrators_banner(mainland, client, agent):
    within = datetime.combine(PUBLISHED_UNTIL - timedelta(weeks=4), time(10), SHANGHAI)
    with time_machine.travel(within, tick=False):
        client.force_login(agent)
        page = client.get("/home/")
        assert page.status_code == 200
        assert "calendar-horizon" not in page.content.decode()


def test_a_clock_paused_past_the_horizon_is_provisional_and_one_met_before_it_is_not():
    from bankdesk.sla.clocks import reaches_past_known_days
    from bankdesk.sla.replay import ClockRun, Pause

    spec = BusinessCalendarSpec(
        time_zone="Asia/Shanghai", weekly={0: [(time(9), time(17))]}, known_until=date(2026, 12, 31)
    )
    opened = datetime(2026, 12, 28, 9, tzinfo=SHANGHAI)
    after = datetime(2027, 1, 5, 9, tzinfo=SHANGHAI)
    paused = ClockRun(
        cycle=0,
        started_at=opened,
        status="paused",
        pauses=(Pause(after, None, "pending_customer"),),
        consumed=timedelta(hours=20),  # worked out across 1–4 January
        due_at=None,
        warn_at=None,
    )
    met = ClockRun(
        cycle=0,
        started_at=opened,
        status="met",
        pauses=(),
        consumed=timedelta(hours=1),
        due_at=datetime(2026, 12, 29, 9, tzinfo=SHANGHAI),
        warn_at=None,
        met_at=datetime(2026, 12, 28, 10, tzinfo=SHANGHAI),
    )
    assert reaches_past_known_days(paused, spec)
    assert not reaches_past_known_days(met, spec)


def test_the_calendars_api_says_how_far_each_is_known(mainland, agent_api, anonymous_api):
    calendars = {c["code"]: c for c in agent_api.get("/sla/calendars").json_body}
    assert calendars["cn-mainland"]["known_until"] == PUBLISHED_UNTIL.isoformat()
    assert calendars["24x7"]["known_until"] is None
    assert anonymous_api.get("/sla/calendars").status_code == 401


def test_the_status_command_lists_horizons_and_warns_on_standard_error(mainland, capsys):
    from django.core.management import call_command

    within = datetime.combine(PUBLISHED_UNTIL - timedelta(weeks=4), time(10), SHANGHAI)
    with time_machine.travel(within, tick=False):
        call_command("calendars", "status")
    out, err = capsys.readouterr()
    assert f"cn-mainland          known until {PUBLISHED_UNTIL} (28 days)" in out
    assert "24x7                 no horizon" in out
    assert err.startswith("warning: calendar cn-mainland knows its holidays only until")
