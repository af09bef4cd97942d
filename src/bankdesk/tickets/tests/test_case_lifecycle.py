"""The case state machine: every allowed move works and is logged; every other move is a 409."""

from __future__ import annotations

import itertools

import pytest

from bankdesk.tickets.choices import TRANSITIONS, CaseStatus, EventKind
from bankdesk.tickets.errors import InvalidTransition
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.services import case_create, case_status_change

pytestmark = pytest.mark.django_db

# A shortest path from "new" to each status, through allowed moves only.
PATH_TO = {
    CaseStatus.NEW: [],
    CaseStatus.OPEN: [CaseStatus.OPEN],
    CaseStatus.PENDING_CUSTOMER: [CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER],
    CaseStatus.PENDING_INTERNAL: [CaseStatus.OPEN, CaseStatus.PENDING_INTERNAL],
    CaseStatus.RESOLVED: [CaseStatus.OPEN, CaseStatus.RESOLVED],
    CaseStatus.CLOSED: [CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED],
}


def _case_in(status: str, actor: object) -> Case:
    case = case_create(subject="卡片被吞", channel="phone", actor=actor)
    for step in PATH_TO[status]:
        case = case_status_change(case=case, status=step, actor=actor)
    return case


@pytest.mark.parametrize(
    ("start", "target"), list(itertools.product(CaseStatus.values, CaseStatus.values))
)
def test_every_transition_is_allowed_or_refused_exactly_as_the_state_machine_says(
    start: str, target: str, agent: object
) -> None:
    case = _case_in(start, agent)
    events_before = CaseEvent.objects.filter(case=case).count()
    if target in TRANSITIONS[start]:
        case = case_status_change(case=case, status=target, actor=agent, reason="r")
        assert Case.objects.get(pk=case.pk).status == target
        last = CaseEvent.objects.filter(case=case).latest("id")
        assert last.kind == EventKind.STATUS_CHANGED
        assert last.data == {"from": start, "to": target, "reason": "r"}
        assert CaseEvent.objects.filter(case=case).count() == events_before + 1
    else:
        with pytest.raises(InvalidTransition):
            case_status_change(case=case, status=target, actor=agent)
        assert Case.objects.get(pk=case.pk).status == start
        assert CaseEvent.objects.filter(case=case).count() == events_before


def test_resolution_and_reopening_keep_the_timestamps_honest(agent: object) -> None:
    case = _case_in(CaseStatus.RESOLVED, agent)
    assert case.resolved_at is not None
    reopened = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    assert reopened.resolved_at is None
    closed = case_status_change(
        case=case_status_change(case=reopened, status=CaseStatus.RESOLVED, actor=agent),
        status=CaseStatus.CLOSED,
        actor=agent,
    )
    assert closed.closed_at is not None and closed.resolved_at is not None


def test_case_events_cannot_be_changed_or_deleted(agent: object) -> None:
    case = _case_in(CaseStatus.OPEN, agent)
    event = CaseEvent.objects.filter(case=case).first()
    assert event is not None
    event.data = {"tampered": True}
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
