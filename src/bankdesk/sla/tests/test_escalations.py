"""The sweep notices warnings and breaches; each escalation happens exactly once per clock."""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection, connections

from bankdesk.sla.models import SlaAlert, SlaClock, SlaFiring
from bankdesk.sla.services import EscalationSpec, TargetSpec, sla_policy_create
from bankdesk.sla.sweep import sla_firing_run, sla_firings_pending, sla_sweep
from bankdesk.sla.tasks import sla_firings_run
from bankdesk.sla.tests.moments import at
from bankdesk.staff.choices import Role
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create, case_message_add


@pytest.fixture
def escalating(db, complaint_team):
    return sla_policy_create(
        code="escalating",
        name="Escalating",
        actor=None,
        targets=[
            TargetSpec(
                name="First response 1h",
                metric="first_response",
                minutes=60,
                warning_percent=75,
                escalations=(
                    EscalationSpec(threshold="warning", action="notify_supervisor"),
                    EscalationSpec(threshold="breach", action="raise_priority"),
                    EscalationSpec(threshold="breach", action="notify_supervisor"),
                ),
            ),
            TargetSpec(
                name="Resolution 1 day",
                metric="resolution",
                minutes=480,
                escalations=(
                    EscalationSpec(threshold="breach", action="reassign_team", team=complaint_team),
                ),
            ),
        ],
    )


def _open(team=None) -> Case:
    with time_machine.travel(at(2, 9, 0), tick=False):
        return case_create(
            subject="转账失败", channel="app", actor=None, text="转账失败", team=team
        )


def _run_all() -> int:
    return sum(sla_firing_run(firing_id=pk) for pk in sla_firings_pending())


@pytest.mark.django_db
def test_warning_then_breach_fire_their_escalations_once(
    escalating, make_staff, general_team, complaint_team, supervisor
):
    make_staff("elsewhere", Role.SUPERVISOR, [complaint_team])  # not told: not their team
    case = _open(team=general_team)
    assert sla_sweep(now=at(2, 9, 40)).firings == 0  # nothing due yet

    warning = sla_sweep(now=at(2, 9, 45))
    assert (warning.warned, warning.breached, warning.firings) == (1, 0, 1)
    assert _run_all() == 1
    assert [a.recipient for a in SlaAlert.objects.all()] == [supervisor]  # the team's own

    assert sla_sweep(now=at(2, 9, 50)).firings == 0  # the warning does not fire again
    breach = sla_sweep(now=at(2, 10, 0))
    assert (breach.breached, breach.firings) == (1, 2)
    assert _run_all() == 2
    case.refresh_from_db()
    assert case.priority == "high"
    assert SlaAlert.objects.filter(threshold="breach").count() == 1
    clock = SlaClock.objects.get(case=case, name="First response 1h")
    assert clock.warned_at == at(2, 9, 45) and clock.breached_at == at(2, 10, 0)
    assert clock.next_check_at is None

    assert sla_sweep(now=at(3, 9, 0)).firings == 1  # the resolution breach: reassign
    assert _run_all() == 1
    case.refresh_from_db()
    assert case.team.code == "complaints" and case.assignee is None
    assert sla_sweep(now=at(9, 9, 0)).firings == 0
    assert SlaFiring.objects.filter(done_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_firing_runs_once_even_when_asked_twice(escalating, general_team):
    _open(team=general_team)
    sla_sweep(now=at(2, 10, 0))
    (first, *_) = sla_firings_pending()
    assert sla_firing_run(firing_id=first) is True
    assert sla_firing_run(firing_id=first) is False
    assert SlaFiring.objects.get(pk=first).done_at is not None


@pytest.mark.django_db
def test_a_clock_met_before_its_escalation_runs_is_left_alone(escalating, agent):
    case = _open()
    sla_sweep(now=at(2, 10, 0))
    with time_machine.travel(at(2, 10, 1), tick=False):
        case_message_add(case=case, direction="outbound", text="您好", actor=agent)
    assert _run_all() == 3  # both breach firings and the warning, each recorded as skipped
    case.refresh_from_db()
    assert case.priority == "normal"
    assert not SlaAlert.objects.exists()
    outcomes = set(SlaFiring.objects.values_list("outcome", flat=True))
    assert outcomes == {"clock met before the escalation ran; nothing done"}


@pytest.mark.django_db
def test_the_firings_task_drains_every_pending_escalation(escalating, general_team):
    for _ in range(3):
        _open(team=general_team)
    sla_sweep(now=at(2, 10, 0))
    assert sla_firings_run.call() == 9
    assert not sla_firings_pending()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_and_runners_fire_each_escalation_exactly_once(
    escalating, general_team, supervisor
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED need PostgreSQL")
    cases = [_open(team=general_team) for _ in range(30)]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            sla_sweep(now=at(2, 10, 0), batch=7)
            _run_all()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    _run_all()
    assert SlaFiring.objects.count() == 30 * 3
    assert SlaFiring.objects.filter(done_at__isnull=True).count() == 0
    assert SlaAlert.objects.filter(threshold="breach").count() == 30  # one supervisor each
    assert set(
        Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("priority", flat=True)
    ) == {"high"}
