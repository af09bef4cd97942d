"""Least-loaded assignment: right under one assigner, and still right under twenty at once."""

from __future__ import annotations

import pytest

from bankdesk.staff.choices import Presence, Role
from bankdesk.staff.models import User
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.routing import case_route_to_least_loaded
from bankdesk.tickets.services import case_create
from bankdesk.tickets.tests.concurrency import route_concurrently


def _agents(make_staff, team, count: int, capacity: int) -> list[User]:
    agents = []
    for i in range(count):
        agent = make_staff(f"router{i}", Role.AGENT, [team])
        User.objects.filter(pk=agent.pk).update(
            presence=Presence.AVAILABLE, max_open_cases=capacity
        )
        agents.append(agent)
    return agents


@pytest.mark.django_db
def test_cases_go_to_the_least_loaded_available_agent(make_staff, general_team):
    first, second = _agents(make_staff, general_team, 2, capacity=2)
    away = make_staff("away", Role.AGENT, [general_team])  # offline by default
    cases = [
        case_create(subject=f"s{i}", channel="phone", actor=None, team=general_team)
        for i in range(5)
    ]
    chosen = [case_route_to_least_loaded(case=c, team=general_team, actor=None) for c in cases]
    assert [u.pk if u else None for u in chosen] == [first.pk, second.pk, first.pk, second.pk, None]
    assert not Case.objects.filter(assignee=away).exists()


@pytest.mark.django_db
def test_an_assigned_case_is_not_assigned_again(make_staff, general_team):
    _agents(make_staff, general_team, 2, capacity=5)
    case = case_create(subject="s", channel="phone", actor=None, team=general_team)
    assert case_route_to_least_loaded(case=case, team=general_team, actor=None) is not None
    assert case_route_to_least_loaded(case=case, team=general_team, actor=None) is None
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED).count() == 2  # create + 1


ASSIGNERS = 20
CASES = 50
AGENTS = 4
CAPACITY = 10


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_assigners_never_double_assign_or_overfill(make_staff, general_team):
    agents = _agents(make_staff, general_team, AGENTS, capacity=CAPACITY)
    case_ids = [
        case_create(subject=f"并发 {i}", channel="web_chat", actor=None, team=general_team).pk
        for i in range(CASES)
    ]
    errors = route_concurrently(
        case_ids,
        lambda case: case_route_to_least_loaded(case=case, team=general_team, actor=None),
        assigners=ASSIGNERS,
    )

    assert errors == []
    loads = {a.pk: Case.objects.filter(assignee=a).count() for a in agents}
    assert all(load <= CAPACITY for load in loads.values()), loads
    assert sum(loads.values()) == AGENTS * CAPACITY
    # One assignment to a person per case: no case was handed out twice.
    for case_id in case_ids:
        events = CaseEvent.objects.filter(case_id=case_id, kind=EventKind.ASSIGNED)
        to_people = sum(1 for e in events if e.data["assignee_id"] is not None)
        assigned = Case.objects.filter(pk=case_id, assignee__isnull=False).exists()
        assert to_people == (1 if assigned else 0)
