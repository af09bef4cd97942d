"""The task worker runs what services enqueue, from the database queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bankdesk.config.schedule import SCHEDULE, enqueue_due
from bankdesk.tickets.choices import CaseStatus, EventKind
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.services import case_create, case_status_change


def _resolved_case(agent: object, days_ago: int) -> Case:
    case = case_create(subject="已处理", channel="phone", actor=agent)
    for status in (CaseStatus.OPEN, CaseStatus.RESOLVED):
        case = case_status_change(case=case, status=status, actor=agent)
    Case.objects.filter(pk=case.pk).update(resolved_at=timezone.now() - timedelta(days=days_ago))
    return case


@pytest.mark.django_db(transaction=True)
def test_the_worker_closes_cases_resolved_long_enough_ago(agent: object, settings: object) -> None:
    old = _resolved_case(agent, days_ago=8)
    recent = _resolved_case(agent, days_ago=1)

    assert enqueue_due(SCHEDULE) == len(SCHEDULE)
    assert enqueue_due(SCHEDULE) == 0  # one waiting copy of each is enough
    call_command("worker", "--batch", "--interval", "0")

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == CaseStatus.CLOSED
    assert recent.status == CaseStatus.RESOLVED
    last = CaseEvent.objects.filter(case=old).latest("id")
    assert last.kind == EventKind.STATUS_CHANGED
    assert last.actor is None
    results = DBTaskResult.objects.all()
    assert {result.status for result in results} == {"SUCCESSFUL"}
    autoclose = results.get(task_path="bankdesk.tickets.tasks.case_autoclose_sweep")
    assert autoclose.return_value == 1
