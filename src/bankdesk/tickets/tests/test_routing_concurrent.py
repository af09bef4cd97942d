"""Rule-based routing under twenty assigners at once: one assignee per case, nobody over
capacity (overall or per channel), and round robin still takes everyone in turn.

Like the least-loaded test beside it, this runs on SQLite (writers queue behind IMMEDIATE
transactions) and on PostgreSQL (row locks), where the lock order is what is under test.
"""

from __future__ import annotations

import pytest

from bankdesk.staff.choices import Presence, Role
from bankdesk.staff.models import User
from bankdesk.staff.services import channel_capacity_set, staff_presence_set
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.routing import case_route
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import case_create
from bankdesk.tickets.tests.concurrency import route_concurrently

ASSIGNERS = 20
CASES = 50
AGENTS = 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("channel", "capacity", "chat_capacity", "expected_loads"),
    [
        ("phone", 15, None, [13, 13, 12, 12]),  # room for all: spread evenly
        ("phone", 10, None, [10, 10, 10, 10]),  # more cases than room: everyone full, no more
        ("web_chat", 15, 5, [5, 5, 5, 5]),  # the per-channel limit binds first
    ],
)
def test_twenty_concurrent_round_robin_routers_assign_once_evenly_and_within_capacity(
    make_staff, general_team, channel, capacity, chat_capacity, expected_loads
):
    agents = []
    for i in range(AGENTS):
        agent = make_staff(f"router{i}", Role.AGENT, [general_team])
        staff_presence_set(user=agent, presence=Presence.AVAILABLE)
        User.objects.filter(pk=agent.pk).update(max_open_cases=capacity)
        if chat_capacity is not None:
            channel_capacity_set(user=agent, channel="web_chat", max_open_cases=chat_capacity)
        agents.append(agent)
    routing_rule_create(name="轮询", team=general_team, strategy="round_robin", actor=None)
    case_ids = [
        case_create(subject=f"并发 {i}", channel=channel, actor=None).pk for i in range(CASES)
    ]

    assert (
        route_concurrently(
            case_ids, lambda case: case_route(case=case, actor=None), assigners=ASSIGNERS
        )
        == []
    )

    loads = sorted((Case.objects.filter(assignee=a).count() for a in agents), reverse=True)
    assert loads == expected_loads
    for case_id in case_ids:
        events = CaseEvent.objects.filter(case_id=case_id, kind=EventKind.ASSIGNED)
        to_people = sum(1 for e in events if e.data["assignee_id"] is not None)
        case = Case.objects.get(pk=case_id)
        assert to_people == (1 if case.assignee_id else 0)
        assert case.team_id == general_team.pk  # queued in the team even when nobody had room
