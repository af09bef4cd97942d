from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from bankdesk.customers.models import Customer
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create, case_status_change

# A Tuesday, 10:00 in Shanghai: working time, outside quiet hours.
WORKING_MORNING = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
def morning():
    with time_machine.travel(WORKING_MORNING, tick=False) as traveller:
        yield traveller


def resolved_case(customer: Customer | None, actor: User | None, **fields) -> Case:
    case = case_create(
        subject="信用卡年费咨询",
        channel=fields.pop("channel", "email"),
        actor=actor,
        customer=customer,
        text="请问年费怎么收？",
        **fields,
    )
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=actor)
    return case_status_change(case=case, status=CaseStatus.RESOLVED, actor=actor)
