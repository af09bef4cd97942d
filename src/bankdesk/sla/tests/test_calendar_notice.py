"""Loading a year's official holiday notice into a calendar: from a file with the command, and
from the admin screens; strictly checked, audited, and the open cases' clocks worked out again.

The 2027 file used here is a test fixture, not the State Council's notice: see its header."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

from bankdesk.security.models import AuditEntry
from bankdesk.sla.choices import DayKind
from bankdesk.sla.errors import NoticeInvalid
from bankdesk.sla.models import BusinessCalendar, SlaClock
from bankdesk.sla.notices import notice_parse
from bankdesk.sla.services import (
    TargetSpec,
    calendar_notice_load,
    calendars_seed,
    sla_policy_create,
)
from bankdesk.sla.tasks import sla_calendar_clocks_refresh_run
from bankdesk.tickets.services import case_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURE = Path(__file__).parent / "files" / "notice-2027-TEST-FIXTURE.csv"
HEADER = "date,kind,name_zh,name_en\n"

pytestmark = pytest.mark.django_db


@pytest.fixture
def english():
    """Problems are written in the reader's language; these tests read the English ones."""
    with translation.override("en"):
        yield


@pytest.fixture
def mainland() -> BusinessCalendar:
    """The mainland calendar as chinesecalendar 1.11 leaves it: published to the end of 2026."""
    calendars_seed()
    calendar = BusinessCalendar.objects.get(code="cn-mainland")
    calendar.days.filter(date__gt=date(2026, 12, 31)).delete()
    calendar.known_until = date(2026, 12, 31)
    calendar.save()
    return calendar


@pytest.fixture
def new_years_eve_case(mainland, agent):
    """A case opened at 16:00 on the last published day with one working day to resolve it."""
    sla_policy_create(
        code="standard",
        name="Standard service",
        actor=None,
        targets=[TargetSpec(name="Resolution 1 day", metric="resolution", minutes=480)],
    )
    with time_machine.travel(datetime(2026, 12, 31, 16, tzinfo=SHANGHAI), tick=False):
        return case_create(subject="吞卡", channel="phone", actor=agent, text="我的卡被吞了")


def _state(calendar: BusinessCalendar) -> tuple[object, ...]:
    calendar.refresh_from_db()
    return (
        calendar.known_until,
        sorted(calendar.days.values_list("date", "kind", "name")),
        AuditEntry.objects.count(),
    )


def test_the_fixture_says_it_is_not_the_official_notice():
    assert "NOT the State Council's notice" in FIXTURE.read_text(encoding="utf-8")


def test_loading_the_notice_makes_its_holiday_non_working_and_recomputes_the_open_case(
    new_years_eve_case, admin_user
):
    clock = SlaClock.objects.get(case=new_years_eve_case)
    # Before the notice, 1 January 2027 can only be taken as a Friday like any other: the clock
    # says so, and says the due time is provisional.
    assert clock.due_at == datetime(2027, 1, 1, 16, tzinfo=SHANGHAI)
    assert clock.is_provisional

    notice = notice_parse(content=FIXTURE.read_bytes(), year=2027)
    mainland = BusinessCalendar.objects.get(code="cn-mainland")
    report = calendar_notice_load(calendar=mainland, notice=notice, actor=admin_user)
    assert (report.holidays, report.working_days, report.known_until) == (
        3,
        1,
        date(2027, 12, 31),
    )
    new_years_day = mainland.days.get(date=date(2027, 1, 1))
    assert (new_years_day.kind, new_years_day.name) == (DayKind.HOLIDAY, "元旦 New Year's Day")
    assert mainland.days.get(date=date(2027, 2, 20)).kind == DayKind.EXTRA_WORKING_DAY
    entry = AuditEntry.objects.get(action="sla.calendar_notice_load")
    assert (entry.actor_id, entry.object_id) == (admin_user.pk, str(mainland.pk))
    assert "2027" in entry.reason

    refreshed = sla_calendar_clocks_refresh_run.call(
        calendar_code="cn-mainland", reason="2027 notice", actor_id=admin_user.pk
    )
    assert refreshed == 1
    clock.refresh_from_db()
    # New Year's Day off, then the weekend: the working day left runs on Monday.
    assert clock.due_at == datetime(2027, 1, 4, 16, tzinfo=SHANGHAI)
    assert not clock.is_provisional
    recompute = AuditEntry.objects.get(action="sla.clocks_recompute")
    assert "2027 notice" in recompute.reason and recompute.actor_id == admin_user.pk


def test_the_command_loads_the_notice_and_recomputes_the_clocks_at_once(
    new_years_eve_case, english
):
    out = StringIO()
    call_command(
        "calendars",
        "load-notice",
        "--calendar",
        "cn-mainland",
        "--year",
        "2027",
        str(FIXTURE),
        stdout=out,
    )
    text = out.getvalue()
    assert "3 holidays, 1 adjusted working days" in text
    assert "known until 2027-12-31" in text
    assert "1 open cases" in text
    clock = SlaClock.objects.get(case=new_years_eve_case)
    assert (clock.due_at, clock.is_provisional) == (
        datetime(2027, 1, 4, 16, tzinfo=SHANGHAI),
        False,
    )


def test_loading_the_same_notice_again_changes_nothing(mainland):
    notice = notice_parse(content=FIXTURE.read_bytes(), year=2027)
    calendar_notice_load(calendar=mainland, notice=notice, actor=None)
    before = _state(mainland)
    report = calendar_notice_load(calendar=mainland, notice=notice, actor=None)
    assert (report.added, report.corrected) == (0, 0)
    assert _state(mainland)[:2] == before[:2]


@pytest.mark.parametrize(
    ("content", "problems"),
    [
        ("", ["the file is empty"]),
        ("day,what\n2027-01-01,holiday\n", ["line 1: the header must be"]),
        (HEADER, ["no days"]),
        (HEADER + "2027-13-01,holiday,元旦,\n", ["line 2: 2027-13-01 is not a date"]),
        (HEADER + "2027-01-01,day off,元旦,\n", ["line 2: kind must be holiday or working_day"]),
        (HEADER + "2027-01-01,holiday,,\n", ["line 2: a name (name_zh or name_en) is needed"]),
        (HEADER + "2027-01-01,holiday,元旦\n", ["line 2: 4 fields expected, found 3"]),
        (HEADER + "2028-01-03,holiday,元旦,\n", ["line 2: 2028-01-03 is not in 2027"]),
        (
            HEADER + "2027-01-01,holiday,元旦,\n# note\n2027-01-01,holiday,元旦,\n",
            ["line 4: 2027-01-01 is already on line 2"],
        ),
        (
            HEADER
            + "2027-01-01,holiday,元旦,\n2027-01-02,holiday,元旦,\n2027-01-05,working_day,x,\n",
            [
                "line 3: 2027-01-02 is a Saturday, not a working day on this calendar",
                "line 4: 2027-01-05 is a Tuesday, a working day already",
            ],
        ),
        (b"\xff\xfe" + "date".encode("utf-16-le"), ["the file is not UTF-8 text"]),
    ],
)
def test_a_malformed_notice_is_refused_with_line_numbers_and_nothing_changes(
    mainland, english, content, problems
):
    before = _state(mainland)
    raw = content if isinstance(content, bytes) else content.encode()
    with pytest.raises(NoticeInvalid) as refused:
        calendar_notice_load(
            calendar=mainland, notice=notice_parse(content=raw, year=2027), actor=None
        )
    for problem in problems:
        assert any(line.startswith(problem) for line in refused.value.problems), (
            problem,
            refused.value.problems,
        )
    assert _state(mainland) == before


def test_a_later_year_cannot_skip_the_year_before(mainland, english):
    content = (HEADER + "2028-01-03,holiday,元旦,\n").encode()
    with pytest.raises(NoticeInvalid, match="load 2027's notice first"):
        calendar_notice_load(
            calendar=mainland, notice=notice_parse(content=content, year=2028), actor=None
        )


def test_an_adjusted_working_day_may_fall_in_the_last_days_of_the_year_before(mainland):
    # As 31 December 2011 did, a Saturday worked to bridge New Year's Day 2012.
    content = (
        HEADER + "2027-12-25,working_day,元旦调休上班,\n2028-01-03,holiday,元旦,New Year\n"
    ).encode()
    mainland.known_until = date(2027, 12, 31)
    mainland.save()
    report = calendar_notice_load(
        calendar=mainland, notice=notice_parse(content=content, year=2028), actor=None
    )
    assert report.known_until == date(2028, 12, 31)
    assert mainland.days.get(date=date(2027, 12, 25)).kind == DayKind.EXTRA_WORKING_DAY


def test_a_round_the_clock_calendar_takes_no_notice(mainland, english):
    content = (HEADER + "2027-01-01,holiday,元旦,\n").encode()
    with pytest.raises(NoticeInvalid, match="round the clock"):
        calendar_notice_load(
            calendar=BusinessCalendar.objects.get(code="24x7"),
            notice=notice_parse(content=content, year=2027),
            actor=None,
        )


def test_the_command_refuses_a_malformed_file_with_its_line_numbers(mainland, english, tmp_path):
    bad = tmp_path / "notice.csv"
    bad.write_text(HEADER + "2027-01-01,holiday,元旦,\n2027-1-2,holiday,x,\n", encoding="utf-8")
    before = _state(mainland)
    with pytest.raises(CommandError, match="line 3: 2027-1-2 is not a date"):
        call_command("calendars", "load-notice", "--calendar", "cn-mainland", "--year", "2027", bad)
    assert _state(mainland) == before
    with pytest.raises(CommandError, match="calendar nowhere not found"):
        call_command("calendars", "load-notice", "--calendar", "nowhere", "--year", "2027", bad)


# -- the admin screens -------------------------------------------------------------------------


def _notice_url(calendar: BusinessCalendar) -> str:
    return f"/admin/sla/businesscalendar/{calendar.pk}/notice/"


def test_an_administrator_loads_the_notice_from_the_admin_screens(
    mainland, client, monkeypatch, admin_user, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    client.force_login(admin_user)
    change_page = client.get(f"/admin/sla/businesscalendar/{mainland.pk}/change/").content.decode()
    assert _notice_url(mainland) in change_page
    form_page = client.get(_notice_url(mainland)).content.decode()
    assert "放假通知" in form_page and "2026-12-31" in form_page

    upload = SimpleUploadedFile("2027.csv", FIXTURE.read_bytes(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_notice_url(mainland), {"year": "2027", "file": upload}, follow=True)
    assert response.redirect_chain, response.content.decode()[:2000]
    mainland.refresh_from_db()
    assert mainland.known_until == date(2027, 12, 31)
    assert mainland.days.get(date=date(2027, 1, 1)).kind == DayKind.HOLIDAY
    assert AuditEntry.objects.get(action="sla.calendar_notice_load").actor_id == admin_user.pk
    # The open cases' clocks are worked out again by the worker, not inside the request.
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(
        task_path="bankdesk.sla.tasks.sla_calendar_clocks_refresh_run"
    )
    assert queued.args_kwargs["kwargs"]["calendar_code"] == "cn-mainland"


def test_the_admin_form_shows_the_line_numbers_of_a_bad_file_and_keeps_everything(
    mainland, client, monkeypatch, admin_user
):
    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    client.force_login(admin_user)
    before = _state(mainland)
    content = (HEADER + "2027-01-01,holiday,元旦,\n2027-01-02,holiday,元旦,\n").encode()
    upload = SimpleUploadedFile("2027.csv", content, content_type="text/csv")
    response = client.post(_notice_url(mainland), {"year": "2027", "file": upload})
    assert response.status_code == 200
    # In Chinese, the console's language by default.
    assert "第 3 行：2027-01-02 是星期六" in response.content.decode()
    assert _state(mainland) == before


def test_staff_who_do_not_configure_calendars_cannot_load_a_notice(
    mainland, client, monkeypatch, supervisor
):
    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    client.force_login(supervisor)
    before = _state(mainland)
    upload = SimpleUploadedFile("2027.csv", FIXTURE.read_bytes(), content_type="text/csv")
    response = client.post(_notice_url(mainland), {"year": "2027", "file": upload})
    assert response.status_code in {302, 403}
    assert _state(mainland) == before


def test_the_clocks_worked_out_again_keep_their_terms_and_other_calendars_are_left_alone(
    new_years_eve_case, agent
):
    from bankdesk.sla.models import SlaTarget
    from bankdesk.staff.services import team_calendar_set

    # An edit to the policy not yet applied (that is `bankdesk sla recompute`'s to do).
    SlaTarget.objects.filter(name="Resolution 1 day").update(minutes=240)
    # A second open case whose clocks run in Hong Kong.
    hong_kong_team = team_calendar_set(
        team=agent.teams.get(), calendar=BusinessCalendar.objects.get(code="hk")
    )
    with time_machine.travel(datetime(2026, 12, 31, 16, tzinfo=SHANGHAI), tick=False):
        other = case_create(
            subject="查询", channel="phone", actor=agent, text="余额", team=hong_kong_team
        )
    assert SlaClock.objects.get(case=other).calendar.code == "hk"

    call_command(
        "calendars",
        "load-notice",
        "--calendar",
        "cn-mainland",
        "--year",
        "2027",
        str(FIXTURE),
        stdout=StringIO(),
    )
    clock = SlaClock.objects.get(case=new_years_eve_case)
    assert (clock.minutes, clock.due_at) == (480, datetime(2027, 1, 4, 16, tzinfo=SHANGHAI))
    entry = AuditEntry.objects.get(action="sla.clocks_recompute")
    assert "calendar cn-mainland: 1 cases, 1 clocks" in entry.reason


def test_the_example_in_the_docs_loads_to_exactly_what_the_package_seeded_for_2026(mainland):
    docs = Path(__file__).resolve().parents[4] / "docs" / "calendars.md"
    example = docs.read_text(encoding="utf-8").split("```csv\n")[1].split("```")[0]
    notice = notice_parse(content=example.encode(), year=2026)
    seeded = set(mainland.days.filter(date__year=2026).values_list("date", "kind"))
    assert {(day.date, day.kind) for day in notice.days} == seeded
    report = calendar_notice_load(calendar=mainland, notice=notice, actor=None)
    assert (report.added, report.known_until) == (0, date(2026, 12, 31))
