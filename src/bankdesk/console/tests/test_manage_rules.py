"""The console's screens for routing rules, SLA policies and business calendars: who may read
and change them, that a change made there is the one routing and the clocks then use, and that
bad input comes back with its reason and everything typed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.models import AuditEntry
from bankdesk.sla.choices import DayKind
from bankdesk.sla.models import BusinessCalendar, SlaEscalation, SlaPolicy, SlaTarget
from bankdesk.sla.services import TargetSpec, calendars_seed, sla_policy_active_set
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Skill, Team, User
from bankdesk.staff.services import team_create
from bankdesk.tickets.models import RoutingRule
from bankdesk.tickets.routing import case_route
from bankdesk.tickets.routing_rules import (
    routing_rule_active_set,
    routing_rule_create,
    routing_rule_match,
    routing_rule_update,
)
from bankdesk.tickets.services import case_create, category_create

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parents[2] / "sla" / "tests" / "files" / "notice-2027-TEST-FIXTURE.csv"
HEADER = "date,kind,name_zh,name_en\n"


def _own(model: Any, through: str = "") -> Any:
    """The bank's own policies (or their targets), leaving out the regulators' profiles every
    install is seeded with."""
    return model.objects.filter(**{f"{through}regulator": ""})


def _console(client: Client, user: User, language: str = "en") -> Client:
    sign_in_with_second_factor(client, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def cards_team(db: None) -> Team:
    return team_create(code="cards", name="信用卡组")


@pytest.fixture
def mainland(db: None) -> BusinessCalendar:
    """The mainland calendar published to the end of 2026, its notice for 2027 still to load."""
    calendars_seed()
    calendar = BusinessCalendar.objects.get(code="cn-mainland")
    calendar.days.filter(date__gt=date(2026, 12, 31)).delete()
    calendar.known_until = date(2026, 12, 31)
    calendar.save()
    return calendar


def _rule_form(team: Team, **fields: Any) -> dict[str, Any]:
    return {
        "name": "英文客户",
        "position": "10",
        "is_active": "on",
        "language": "en",
        "team": team.pk,
        "strategy": "manual",
        **fields,
    }


def _calendar_state(calendar: BusinessCalendar) -> tuple[object, ...]:
    calendar.refresh_from_db()
    return (
        calendar.known_until,
        sorted(calendar.days.values_list("date", "kind", "name")),
        AuditEntry.objects.count(),
    )


# -- routing rules ------------------------------------------------------------------------------


def test_a_supervisor_adds_a_routing_rule_and_routing_follows_it(
    client, supervisor, general_team, cards_team
):
    _console(client, supervisor)
    assert 'name="team"' in client.get("/manage/routing/new/").content.decode()
    response = client.post("/manage/routing/new/", _rule_form(cards_team))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RoutingRule.objects.get()
    assert (rule.name, rule.position, rule.language, rule.team) == (
        "英文客户",
        10,
        "en",
        cards_team,
    )
    assert AuditEntry.objects.filter(action="routing_rule.create", actor=supervisor).exists()

    english = case_create(subject="Card", channel="email", language="en", actor=None, route=True)
    chinese = case_create(subject="卡片", channel="email", actor=None, route=True)
    assert english.team_id == cards_team.pk
    assert chinese.team_id is None

    page = client.get("/manage/routing/").content.decode()
    assert "英文客户" in page and "信用卡组" in page
    assert "English" in page and "Queue only (a supervisor assigns)" in page
    assert ">en<" not in page and "manual" not in page  # words, never codes


def test_a_changed_rule_sends_the_next_case_to_its_new_team(
    client, supervisor, general_team, cards_team
):
    rule = routing_rule_create(name="英文客户", team=cards_team, language="en", actor=None)
    _console(client, supervisor)
    form = client.get(f"/manage/routing/{rule.pk}/").content.decode()
    assert 'value="英文客户"' in form

    response = client.post(f"/manage/routing/{rule.pk}/", _rule_form(general_team, language=""))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.team_id, rule.language) == (general_team.pk, "")
    entry = AuditEntry.objects.get(action="routing_rule.update")
    assert entry.actor_id == supervisor.pk and set(entry.fields) >= {"team", "language"}
    case = case_create(subject="卡片", channel="phone", actor=None)
    assert case_route(case=case, actor=None).team == general_team


def test_a_disabled_rule_routes_nothing_until_it_is_back_in_use(client, supervisor, cards_team):
    rule = routing_rule_create(name="全部", team=cards_team, actor=None)
    _console(client, supervisor)
    assert client.post(f"/manage/routing/{rule.pk}/active/", {"is_active": "0"}).status_code == 302
    assert routing_rule_match(case=case_create(subject="a", channel="phone", actor=None)) is None
    assert "Disabled" in client.get("/manage/routing/").content.decode()
    assert client.post(f"/manage/routing/{rule.pk}/active/", {"is_active": "1"}).status_code == 302
    assert routing_rule_match(case=case_create(subject="b", channel="phone", actor=None)) == rule
    assert client.post(f"/manage/routing/{rule.pk}/active/", {"is_active": "x"}).status_code == 400
    assert list(
        AuditEntry.objects.filter(object_type="tickets.routingrule")
        .values_list("action", flat=True)
        .order_by("pk")
    ) == ["routing_rule.create", "routing_rule.disable", "routing_rule.enable"]


def test_a_bad_routing_rule_comes_back_with_its_reason_and_what_was_typed(
    client, supervisor, cards_team
):
    _console(client, supervisor)
    chinese = Skill.objects.create(code="zh-hans", name="简体中文", kind="language")
    response = client.post(
        "/manage/routing/new/",
        _rule_form(cards_team, name="只排队的规则", position="-1", required_skills=[chinese.pk]),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="只排队的规则"' in page
    assert "A queue-only rule assigns nobody." in page
    assert "Ensure this value is greater than or equal to 0." in page
    assert not RoutingRule.objects.exists()

    zh = _console(Client(), supervisor, "zh-hans")
    blank = zh.post("/manage/routing/new/", _rule_form(cards_team, name="  "))
    assert blank.status_code == 400 and "这个字段是必填项" in blank.content.decode()


@pytest.mark.parametrize("role", [Role.AGENT, Role.COMPLAINT_OFFICER, Role.AUDITOR])
def test_who_may_not_write_routing_rules_gets_403_and_no_controls(
    client, make_staff, cards_team, role
):
    rule = routing_rule_create(name="全部", team=cards_team, actor=None)
    _console(client, make_staff("someone", role))
    listing = client.get("/manage/routing/")
    if role == Role.AUDITOR:  # auditors read, as with the API
        page = listing.content.decode()
        assert listing.status_code == 200 and "全部" in page
        assert "/manage/routing/new/" not in page and "/active/" not in page
    else:
        assert listing.status_code == 403
    assert client.get("/manage/routing/new/").status_code == 403
    assert client.post("/manage/routing/new/", _rule_form(cards_team)).status_code == 403
    assert client.post(f"/manage/routing/{rule.pk}/", _rule_form(cards_team)).status_code == 403
    refused = client.post(f"/manage/routing/{rule.pk}/active/", {"is_active": "0"})
    assert refused.status_code == 403
    rule.refresh_from_db()
    assert rule.is_active and rule.name == "全部" and RoutingRule.objects.count() == 1


def test_an_admin_writes_routing_rules_and_nobody_signed_out_does(client, admin_user, cards_team):
    assert client.get("/manage/routing/").status_code == 302  # to sign in
    _console(client, admin_user)
    assert client.post("/manage/routing/new/", _rule_form(cards_team)).status_code == 302


def test_changing_a_routing_rule_needs_the_change_permission(
    client, auditor, supervisor, general_team, cards_team
):
    rule = routing_rule_create(name="全部", team=cards_team, actor=None)
    assert auditor.has_perm("tickets.view_routingrule")
    assert not auditor.has_perm("tickets.change_routingrule")
    change, switch = f'href="/manage/routing/{rule.pk}/"', f"/manage/routing/{rule.pk}/active/"

    _console(client, auditor)
    page = client.get("/manage/routing/").content.decode()
    assert change not in page and switch not in page
    assert client.post(f"/manage/routing/{rule.pk}/", _rule_form(general_team)).status_code == 403
    assert client.post(switch, {"is_active": "0"}).status_code == 403
    rule.refresh_from_db()
    assert (rule.team_id, rule.is_active) == (cards_team.pk, True)
    assert not AuditEntry.objects.filter(action__in=["routing_rule.update", "routing_rule.disable"])

    staff = _console(Client(), supervisor)
    page = staff.get("/manage/routing/").content.decode()
    assert change in page and switch in page
    assert staff.post(f"/manage/routing/{rule.pk}/", _rule_form(general_team)).status_code == 302
    rule.refresh_from_db()
    assert rule.team_id == general_team.pk


def test_every_role_that_may_add_routing_rules_may_change_them(make_staff):
    # routing.html draws "New routing rule" and each rule's Change and Disable from one flag
    # that needs both permissions: a role holding only one would lose a control it may use.
    for role in Role:
        person = make_staff(f"someone-{role}", role)
        assert person.has_perm("tickets.add_routingrule") == person.has_perm(
            "tickets.change_routingrule"
        ), role


def test_the_rule_list_reads_a_bounded_number_of_rows(
    client, supervisor, cards_team, categories, django_assert_max_num_queries
):
    for n in range(8):
        routing_rule_create(
            name=f"rule {n}", team=cards_team, category=categories["cards"], actor=None
        )
    _console(client, supervisor)
    with django_assert_max_num_queries(20):
        assert client.get("/manage/routing/").status_code == 200


def test_routing_rule_update_checks_what_create_checks_and_skips_an_unchanged_save(cards_team):
    rule = routing_rule_create(name="全部", team=cards_team, actor=None)
    same = {
        "name": "全部",
        "team": cards_team,
        "strategy": rule.strategy,
        "position": 100,
        "is_active": True,
        "category": None,
        "channel": "",
        "language": "",
        "customer_tier": "",
        "is_complaint": None,
        "required_skills": [],
        "match_language_skill": False,
    }
    routing_rule_update(rule=rule, actor=None, **same)
    assert not AuditEntry.objects.filter(action="routing_rule.update").exists()
    with pytest.raises(InvalidInput):
        routing_rule_update(rule=rule, actor=None, **{**same, "channel": "fax"})
    with pytest.raises(InvalidInput):
        routing_rule_update(rule=rule, actor=None, **{**same, "name": " "})
    retired = category_create(code="old", name="旧业务")
    retired.is_active = False
    retired.save()
    with pytest.raises(InvalidInput):
        routing_rule_update(rule=rule, actor=None, **{**same, "category": retired})
    routing_rule_active_set(rule=rule, is_active=True, actor=None)  # already: nothing recorded
    assert not AuditEntry.objects.filter(action__startswith="routing_rule.enable").exists()


# -- SLA policies -------------------------------------------------------------------------------


def _policy_form(**fields: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "code": "vip",
        "name": "贵宾客户",
        "position": "10",
        "customer_tiers": ["gold", "platinum"],
        "pause_statuses": ["pending_customer"],
        "targets-TOTAL_FORMS": "4",
        "targets-INITIAL_FORMS": "0",
        "escalations-TOTAL_FORMS": "6",
        "escalations-INITIAL_FORMS": "0",
        "targets-0-name": "首次响应",
        "targets-0-metric": "first_response",
        "targets-0-amount": "4",
        "targets-0-unit": "hours",
        "targets-0-basis": "business",
        "targets-0-warning_percent": "75",
        "targets-1-name": "办结",
        "targets-1-metric": "resolution",
        "targets-1-amount": "15",
        "targets-1-unit": "days",
        "targets-1-basis": "calendar",
        "escalations-0-target": "1",
        "escalations-0-threshold": "warning",
        "escalations-0-action": "notify_supervisor",
        "escalations-1-target": "2",
        "escalations-1-threshold": "breach",
        "escalations-1-action": "raise_priority",
        "escalations-1-priority": "urgent",
    }
    for index in range(2, 4):
        form |= {f"targets-{index}-unit": "hours", f"targets-{index}-basis": "business"}
    form.update(fields)
    return {key: value for key, value in form.items() if value is not None}


def test_an_admin_adds_a_policy_and_sees_its_targets_in_words(client, admin_user, mainland):
    _console(client, admin_user)
    assert "/manage/sla/new/" in client.get("/manage/sla/").content.decode()
    blank = client.get("/manage/sla/new/").content.decode()
    assert 'name="targets-3-amount"' in blank and 'name="escalations-5-action"' in blank
    response = client.post("/manage/sla/new/", _policy_form(calendar=mainland.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = SlaPolicy.objects.get(code="vip")
    assert (policy.customer_tiers, policy.pause_statuses, policy.calendar) == (
        ["gold", "platinum"],
        ["pending_customer"],
        mainland,
    )
    targets = {t.name: t for t in SlaTarget.objects.filter(policy=policy)}
    assert (targets["首次响应"].minutes, targets["首次响应"].warning_percent) == (240, 75)
    assert (targets["办结"].minutes, targets["办结"].basis) == (15 * 1440, "calendar")
    escalation = SlaEscalation.objects.get(target=targets["办结"])
    assert (escalation.action, escalation.priority) == ("raise_priority", "urgent")
    assert AuditEntry.objects.filter(action="sla.policy_create", actor=admin_user).exists()

    page = client.get("/manage/sla/").content.decode()
    assert "4 working hours" in page and "15 days" in page and "at 75% used" in page
    assert "Notify a supervisor" in page and "at least Urgent" in page
    assert "Gold" in page and "Platinum" in page and "Waiting for customer" in page
    assert "中国内地" in page  # the calendar, by its name
    assert "first_response" not in page and "raise_priority" not in page  # words, never codes
    chinese = _console(Client(), admin_user, "zh-hans").get("/manage/sla/").content.decode()
    assert "首次响应" in chinese and "金卡" in chinese and "紧急" in chinese


def test_the_regulators_profiles_show_as_statutory_policies(client, admin_user):
    chinese = _console(client, admin_user, "zh-hans").get("/manage/sla/").content.decode()
    assert "监管时限：cn-nfra" in chinese and "监管 15 日处理决定" in chinese
    assert "15 个自然日" in chinese
    assert "经审批可延长至" in chinese and "自然日（期满日为节假日的顺延至工作日）" in chinese
    assert "监管时限：uk-fca" in chinese and "15 个工作日" in chinese


def test_a_policy_out_of_use_gives_new_cases_no_clocks(client, admin_user):
    policy = standard_policy_create(TargetSpec(name="Resolution", metric="resolution", minutes=480))
    _console(client, admin_user)
    done = client.post(f"/manage/sla/{policy.pk}/active/", {"is_active": "0"})
    assert done.status_code == 302
    policy.refresh_from_db()
    assert not policy.is_active
    case = case_create(subject="吞卡", channel="phone", actor=None)
    assert not case.sla_clocks.exists()
    assert "Out of use" in client.get("/manage/sla/").content.decode()
    assert AuditEntry.objects.filter(action="sla.policy_deactivate").count() == 1
    client.post(f"/manage/sla/{policy.pk}/active/", {"is_active": "1"})
    assert case_create(subject="吞卡", channel="phone", actor=None).sla_clocks.count() == 1


def test_a_bad_policy_comes_back_with_every_reason_and_what_was_typed(client, admin_user):
    standard_policy_create(TargetSpec(name="Resolution", metric="resolution", minutes=480))
    _console(client, admin_user)
    response = client.post(
        "/manage/sla/new/",
        _policy_form(
            code="standard",  # taken
            **{
                "targets-0-unit": "days",  # working days depend on the calendar
                "targets-1-amount": None,
                "escalations-2-target": "3",  # an empty row
                "escalations-2-threshold": "breach",
                "escalations-2-action": "reassign_team",  # and no team
            },
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "An SLA policy with this code already exists." in page
    assert "a working day&#x27;s length depends on the calendar" in page
    assert "A target needs this." in page
    assert "Choose the team that takes the case over." in page
    assert 'value="贵宾客户"' in page and 'value="首次响应"' in page
    assert _own(SlaPolicy).count() == 1 and _own(SlaTarget, "policy__").count() == 1

    nothing = client.post(
        "/manage/sla/new/",
        _policy_form(
            code="empty",
            **{f"targets-{i}-{f}": None for i in (0, 1) for f in ("name", "metric", "amount")},
            **{
                f"escalations-{i}-{f}": None
                for i in (0, 1)
                for f in ("target", "threshold", "action")
            },
        ),
    )
    assert nothing.status_code == 400
    assert "A policy needs at least one target." in nothing.content.decode()

    orphan = client.post(
        "/manage/sla/new/",
        _policy_form(code="orphan", **{"escalations-0-target": "3"}),
    )
    assert orphan.status_code == 400 and "That target row is empty." in orphan.content.decode()
    warning = client.post(
        "/manage/sla/new/", _policy_form(code="warn", **{"targets-0-warning_percent": None})
    )
    assert warning.status_code == 400
    assert "Give the target a warning share first." in warning.content.decode()
    assert _own(SlaPolicy).count() == 1


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AUDITOR])
def test_who_may_not_configure_service_levels_reads_them_and_changes_nothing(
    client, make_staff, role
):
    policy = standard_policy_create(TargetSpec(name="Resolution", metric="resolution", minutes=480))
    _console(client, make_staff("someone", role))
    listing = client.get("/manage/sla/")
    page = listing.content.decode()
    assert listing.status_code == 200 and "8 working hours" in page
    assert "/manage/sla/new/" not in page and "/active/" not in page
    assert client.get("/manage/sla/new/").status_code == 403
    assert client.post("/manage/sla/new/", _policy_form()).status_code == 403
    refused = client.post(f"/manage/sla/{policy.pk}/active/", {"is_active": "0"})
    assert refused.status_code == 403
    policy.refresh_from_db()
    assert policy.is_active and _own(SlaPolicy).count() == 1


def test_the_policy_list_reads_a_bounded_number_of_rows(
    client, admin_user, django_assert_max_num_queries
):
    for n in range(6):
        standard = SlaPolicy.objects.filter(code="standard")
        standard.update(code=f"standard-{n}")
        standard_policy_create(TargetSpec(name="Resolution", metric="resolution", minutes=480))
    _console(client, admin_user)
    with django_assert_max_num_queries(25):
        assert client.get("/manage/sla/").status_code == 200


def test_sla_policy_active_set_records_only_a_change(admin_user):
    policy = standard_policy_create(TargetSpec(name="R", metric="resolution", minutes=60))
    sla_policy_active_set(policy=policy, is_active=True, actor=admin_user)
    assert not AuditEntry.objects.filter(action__startswith="sla.policy_activate").exists()
    sla_policy_active_set(policy=policy, is_active=False, actor=admin_user)
    sla_policy_active_set(policy=policy, is_active=False, actor=admin_user)
    assert AuditEntry.objects.filter(action="sla.policy_deactivate").count() == 1


# -- business calendars -------------------------------------------------------------------------


def test_an_admin_loads_next_years_notice_and_sees_its_days(
    client, admin_user, mainland, django_capture_on_commit_callbacks
):
    _console(client, admin_user)
    listing = client.get("/manage/calendars/").content.decode()
    assert "/manage/calendars/cn-mainland/notice/" in listing and "2026-12-31" in listing
    form = client.get("/manage/calendars/cn-mainland/notice/")
    assert form.status_code == 200 and 'value="2027"' in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/manage/calendars/cn-mainland/notice/",
            {"year": "2027", "text": FIXTURE.read_text(encoding="utf-8")},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == "/manage/calendars/cn-mainland/?year=2027"
    mainland.refresh_from_db()
    assert mainland.known_until == date(2027, 12, 31)
    assert mainland.days.get(date=date(2027, 1, 1)).kind == DayKind.HOLIDAY
    assert AuditEntry.objects.get(action="sla.calendar_notice_load").actor_id == admin_user.pk
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.get(
        task_path="bankdesk.sla.tasks.sla_calendar_clocks_refresh_run"
    )
    assert queued.args_kwargs["kwargs"]["calendar_code"] == "cn-mainland"

    page = response.content.decode()
    assert "The official notice for 2027 is loaded" in page
    holidays, working = page.split("Adjusted working days", 1)
    assert "2027-01-01" in holidays and "元旦 New Year&#x27;s Day" in holidays
    assert "2027-02-20" in working and "Saturday" in working


def test_a_notice_file_is_read_like_the_text(client, admin_user, mainland):
    _console(client, admin_user)
    upload = SimpleUploadedFile("2027.csv", FIXTURE.read_bytes(), content_type="text/csv")
    response = client.post(
        "/manage/calendars/cn-mainland/notice/", {"year": "2027", "text": "", "file": upload}
    )
    assert response.status_code == 302
    assert BusinessCalendar.objects.get(code="cn-mainland").known_until == date(2027, 12, 31)


def test_a_bad_notice_shows_its_problems_in_the_readers_language_and_changes_nothing(
    client, admin_user, mainland
):
    before = _calendar_state(mainland)
    text = HEADER + "2027-01-01,holiday,元旦,\n2027-01-02,holiday,元旦,\n"
    _console(client, admin_user, "zh-hans")
    response = client.post("/manage/calendars/cn-mainland/notice/", {"year": "2027", "text": text})
    assert response.status_code == 400
    page = response.content.decode()
    assert "第 3 行：2027-01-02 是星期六" in page  # the service's own words, in Chinese
    assert "2027-01-02,holiday,元旦," in page  # the text typed stays in the box
    assert _calendar_state(mainland) == before

    _console(client, admin_user, "en")
    text += "2027-13-01,holiday,x,\n"
    upload = SimpleUploadedFile("2027.csv", text.encode(), content_type="text/csv")
    response = client.post(
        "/manage/calendars/cn-mainland/notice/", {"year": "2027", "file": upload}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "line 4: 2027-13-01 is not a date (YYYY-MM-DD)" in page
    assert "2027-13-01,holiday,x," in page  # the file's text, put in the box to correct
    assert _calendar_state(mainland) == before


def test_a_notice_form_without_a_notice_or_for_a_year_out_of_range_is_refused(
    client, admin_user, mainland
):
    before = _calendar_state(mainland)
    _console(client, admin_user)
    empty = client.post("/manage/calendars/cn-mainland/notice/", {"year": "2027", "text": " "})
    assert empty.status_code == 400
    assert "Paste the notice here, or choose its file." in empty.content.decode()
    far = client.post(
        "/manage/calendars/cn-mainland/notice/", {"year": "3000", "text": "2027-01-01"}
    )
    assert far.status_code == 400 and "the year must be between" in far.content.decode()
    assert 'value="3000"' in far.content.decode()
    assert _calendar_state(mainland) == before


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AUDITOR])
def test_who_does_not_configure_calendars_reads_them_but_loads_no_notice(
    client, make_staff, mainland, role
):
    _console(client, make_staff("someone", role))
    before = _calendar_state(mainland)
    listing = client.get("/manage/calendars/")
    assert listing.status_code == 200 and "/notice/" not in listing.content.decode()
    year = client.get("/manage/calendars/cn-mainland/?year=2026")
    page = year.content.decode()
    assert year.status_code == 200 and "2026-10-01" in page and "/notice/" not in page
    assert client.get("/manage/calendars/cn-mainland/notice/").status_code == 403
    refused = client.post(
        "/manage/calendars/cn-mainland/notice/",
        {"year": "2027", "text": FIXTURE.read_text(encoding="utf-8")},
    )
    assert refused.status_code == 403
    assert _calendar_state(mainland) == before


def test_a_calendar_page_for_a_year_it_cannot_show_says_so(client, agent, mainland):
    _console(client, agent)
    assert client.get("/manage/calendars/cn-mainland/?year=abc").status_code == 400
    assert client.get("/manage/calendars/nowhere/").status_code == 404
    later = client.get("/manage/calendars/cn-mainland/?year=2027").content.decode()
    assert "are not loaded yet" in later
