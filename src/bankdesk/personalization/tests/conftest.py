"""The people, segments, courses and sessions the event tests share: a course for the
segment's members, its session on 12 November 2026 with two seats, four consenting members
invited to it, and the bank's clock held at a working morning."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bankdesk.customers.models import Customer
from bankdesk.customers.profile import consent_record
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.models import OutboxMessage
from bankdesk.personalization.events import (
    event_create,
    invitations_send,
    register,
    session_add,
)
from bankdesk.personalization.models import (
    CustomerEvent,
    EventSession,
    Invitation,
    Membership,
    Registration,
    Segment,
)
from bankdesk.staff.models import User

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 on the bank's clock."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


MORNING = at(10, 10)  # a Tuesday, 10:00: outside quiet hours (21:00–09:00)
STARTS, ENDS = at(12, 14), at(12, 16)


def member(
    number: str,
    segment: Segment,
    *,
    consent: bool | None = True,
    language: str = "zh-hans",
    channel: str = "",
    email: bool = True,
    phone: bool = False,
) -> Customer:
    """A customer in the segment; consent True: marketing allowed, False: withdrawn, None:
    never asked."""
    identities = []
    if email:
        identities.append(IdentityInput(kind="email", value=f"c{number}@example.cn"))
    if phone:
        identities.append(IdentityInput(kind="phone", value=f"1390000{number[-4:]}"))
    customer = customer_create(
        customer_number=number,
        name=f"客户{number[-2:]}",
        preferred_language=language,
        preferred_channel=channel,
        identities=identities,
    )
    Membership.objects.create(customer=customer, segment=segment)
    if consent is not None:
        consent_record(
            customer=customer, purpose="marketing", granted=True, source="branch", actor=None
        )
        if not consent:
            consent_record(
                customer=customer, purpose="marketing", granted=False, source="phone", actor=None
            )
    return customer


def invited(session: EventSession, customer: Customer) -> Invitation:
    return Invitation.objects.get(session=session, customer=customer)


def sent_to(customer: Customer) -> list[dict]:
    """The messages queued for the customer's addresses, oldest first."""
    addresses = {identity.value for identity in customer.identities.all()}
    return [
        {**item.payload_data(), "recipient": item.recipient, "at": item.next_attempt_at}
        for item in OutboxMessage.objects.order_by("id")
        if item.recipient in addresses
    ]


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def seniors(db) -> Segment:
    return Segment.objects.create(code="event-guests", name="答谢活动嘉宾", name_en="Event guests")


@pytest.fixture
def course(supervisor: User, seniors: Segment) -> CustomerEvent:
    return event_create(
        kind="course",
        title="防范电信诈骗讲座",
        title_en="Anti-fraud talk",
        description="教您识别常见骗局。",
        segment_ids=[seniors.pk],
        actor=supervisor,
    )


@pytest.fixture
def session(morning, course: CustomerEvent, supervisor: User) -> EventSession:
    return session_add(
        event=course,
        starts_at=STARTS,
        ends_at=ENDS,
        place="总行三楼培训室",
        capacity=2,
        actor=supervisor,
    )


@pytest.fixture
def crowd(session: EventSession, seniors: Segment, supervisor: User) -> list[Customer]:
    """Four consenting members, invited: two will get the seats, two the waitlist."""
    people = [member(f"620000100{i}", seniors) for i in range(4)]
    invitations_send(session=session, actor=supervisor)
    return people


def book(session: EventSession, customer: Customer) -> Registration:
    return register(invitation=invited(session, customer))
