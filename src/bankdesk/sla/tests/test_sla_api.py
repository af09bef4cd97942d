"""The SLA endpoints: policies as data, a case's clocks with their pause ledger, alerts."""

from __future__ import annotations

import pytest
import time_machine
from django.core.management import CommandError, call_command

from bankdesk.security.models import AuditEntry
from bankdesk.sla.models import SlaAlert, SlaPolicy
from bankdesk.sla.services import EscalationSpec, TargetSpec, sla_policy_create
from bankdesk.sla.sweep import sla_firing_run, sla_firings_pending, sla_sweep
from bankdesk.sla.tests.moments import at
from bankdesk.tickets.services import case_create, case_status_change

pytestmark = pytest.mark.django_db


def _policy_body(**changes):
    return {
        "code": "vip-cards",
        "name": "贵宾卡片服务",
        "position": 5,
        "priorities": ["high", "urgent"],
        "channels": ["phone", "app"],
        "customer_tiers": ["platinum", "diamond"],
        "pause_statuses": ["pending_customer"],
        "calendar": "cn-mainland",
        "targets": [
            {
                "name": "首次响应 30 分钟",
                "metric": "first_response",
                "minutes": 30,
                "warning_percent": 80,
                "escalations": [{"threshold": "warning", "action": "notify_supervisor"}],
            },
            {
                "name": "解决 1 个工作日",
                "metric": "resolution",
                "minutes": 480,
                "escalations": [
                    {"threshold": "breach", "action": "raise_priority", "priority": "urgent"}
                ],
            },
        ],
        **changes,
    }


def test_an_admin_adds_a_policy_and_everyone_who_works_cases_reads_it(
    api_for, admin_user, agent_api
):
    response = api_for(admin_user).post("/sla/policies", _policy_body())
    assert response.status_code == 201, response.json_body
    body = response.json_body
    assert body["calendar"] == "cn-mainland"
    assert [t["metric"] for t in body["targets"]] == ["first_response", "resolution"]
    assert body["targets"][1]["escalations"][0]["priority"] == "urgent"
    assert AuditEntry.objects.filter(action="sla.policy_create").count() == 1
    listed = agent_api.get("/sla/policies")
    assert listed.status_code == 200
    assert [p["code"] for p in listed.json_body if not p["regulator"]] == ["vip-cards"]
    statutory = next(p for p in listed.json_body if p["code"] == "statutory-cn-nfra")
    assert statutory["regulator"] == "cn-nfra" and statutory["is_active"]
    assert statutory["targets"][0]["extensions"] == [30 * 1440, 60 * 1440]


def test_a_supervisor_may_not_change_the_service_levels(api_for, supervisor):
    response = api_for(supervisor).post("/sla/policies", _policy_body())
    assert response.status_code == 403
    assert not SlaPolicy.objects.filter(regulator="").exists()


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"code": "Bad Code"}, 422, None),
        ({"targets": []}, 422, None),
        ({"calendar": "mars"}, 404, "calendar"),
        ({"category_ids": [999999]}, 404, "category_ids"),
        ({"channels": ["pigeon"]}, 422, None),
        ({"pause_statuses": ["closed"]}, 422, "pause_statuses"),
        ({"targets": [{"name": "x", "metric": "resolution", "minutes": -5}]}, 422, None),
        (
            {
                "targets": [
                    {
                        "name": "x",
                        "metric": "resolution",
                        "minutes": 5,
                        "escalations": [{"threshold": "breach", "action": "reassign_team"}],
                    }
                ]
            },
            422,
            "escalations",
        ),
        (
            {
                "targets": [
                    {
                        "name": "x",
                        "metric": "resolution",
                        "minutes": 5,
                        "escalations": [{"threshold": "warning", "action": "notify_supervisor"}],
                    }
                ]
            },
            422,
            "escalations",
        ),
    ],
)
def test_bad_policies_are_refused_with_a_clear_code_and_nothing_is_kept(
    api_for, admin_user, change, status, field
):
    response = api_for(admin_user).post("/sla/policies", _policy_body(**change))
    assert response.status_code == status, response.json_body
    if field is not None:
        assert response.json_body["field"] == field
    assert not SlaPolicy.objects.filter(regulator="").exists()
    assert not AuditEntry.objects.filter(action="sla.policy_create").exists()


def test_a_second_policy_with_the_same_code_is_a_conflict(api_for, admin_user):
    api = api_for(admin_user)
    assert api.post("/sla/policies", _policy_body()).status_code == 201
    response = api.post("/sla/policies", _policy_body())
    assert (response.status_code, response.json_body["code"]) == (409, "sla_policy_exists")


def test_a_case_clock_list_explains_each_clock_with_its_pause_ledger(
    agent_api, agent, general_team
):
    sla_policy_create(
        code="std",
        name="Standard",
        actor=None,
        pause_statuses=["pending_customer"],
        targets=[TargetSpec(name="Resolution", metric="resolution", minutes=480)],
    )
    with time_machine.travel(at(2, 9), tick=False):
        case = case_create(subject="s", channel="phone", actor=agent, team=general_team)
    with time_machine.travel(at(2, 10), tick=False):
        case_status_change(case=case, status="open", actor=agent)
    with time_machine.travel(at(2, 11), tick=False):
        case_status_change(case=case, status="pending_customer", actor=agent)
    with time_machine.travel(at(3, 9), tick=False):
        case_status_change(case=case, status="open", actor=agent)
        response = agent_api.get(f"/sla/cases/{case.pk}/clocks")
    assert response.status_code == 200
    (clock,) = response.json_body
    assert clock["state"] == "running"
    assert clock["consumed_seconds"] == 2 * 3600
    assert clock["remaining_business_minutes"] == 360
    assert clock["calendar"] == "cn-mainland"
    assert [p["status"] for p in clock["pauses"]] == ["pending_customer"]


def test_a_case_outside_my_scope_has_no_clocks_to_show(api_for, make_staff, agent):
    outsider = make_staff("outsider")
    case = case_create(subject="s", channel="phone", actor=agent)
    case_status_change(case=case, status="open", actor=agent)
    assert api_for(outsider).get(f"/sla/cases/{case.pk}/clocks").status_code == 404


def test_a_supervisor_reads_and_marks_the_alerts_an_escalation_sent(
    api_for, supervisor, general_team, agent
):
    sla_policy_create(
        code="std",
        name="Standard",
        actor=None,
        targets=[
            TargetSpec(
                name="First response",
                metric="first_response",
                minutes=60,
                escalations=(EscalationSpec(threshold="breach", action="notify_supervisor"),),
            )
        ],
    )
    with time_machine.travel(at(2, 9), tick=False):
        case = case_create(subject="s", channel="phone", actor=None, team=general_team)
    sla_sweep(now=at(2, 10))
    for pk in sla_firings_pending():
        sla_firing_run(firing_id=pk)
    api = api_for(supervisor)
    (alert,) = api.get("/sla/alerts", unread=True).json_body
    assert (alert["case_number"], alert["threshold"]) == (case.number, "breach")
    assert api.post(f"/sla/alerts/{alert['id']}/read").json_body["read_at"] is not None
    assert api.get("/sla/alerts", unread=True).json_body == []
    # Someone else's alert is not there to read.
    assert api_for(agent).post(f"/sla/alerts/{alert['id']}/read").status_code == 404
    assert SlaAlert.objects.get().read_at is not None


def test_the_recompute_command_refuses_without_a_reason_and_reports_counts(capsys):
    with pytest.raises(CommandError):
        call_command("sla", "recompute")
    call_command("sla", "recompute", "--reason", "no change", "--dry-run")
    assert "0 open cases, 0 clocks would change" in capsys.readouterr().out


def test_an_admin_edits_service_levels_in_the_admin_screens_and_each_edit_is_audited(
    client, monkeypatch, admin_user
):
    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    client.force_login(admin_user)
    form = {
        "code": "branch-walk-in",
        "name": "网点现场",
        "position": "50",
        "is_active": "on",
        "priorities": "[]",
        "channels": '["branch"]',
        "customer_tiers": "[]",
        "is_complaint": "unknown",
        "pause_statuses": "[]",
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-0-name": "现场 30 分钟",
        "targets-0-metric": "first_response",
        "targets-0-minutes": "30",
        "targets-0-basis": "business",
    }
    response = client.post("/admin/sla/slapolicy/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = SlaPolicy.objects.get(code="branch-walk-in")
    assert policy.channels == ["branch"] and policy.targets.get().minutes == 30
    entry = AuditEntry.objects.get(action="sla.slapolicy.admin_add")
    assert entry.actor_id == admin_user.pk
