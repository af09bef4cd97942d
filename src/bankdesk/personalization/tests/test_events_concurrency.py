"""Bookings at the same instant, on PostgreSQL: two customers after the last seat get one seat
and one place on the waitlist; one customer booking two overlapping sessions at once gets one
of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections

from bankdesk.lib.errors import Conflict
from bankdesk.personalization.events import (
    event_create,
    invitations_send,
    register,
    session_add,
)
from bankdesk.personalization.models import EventSession, Invitation, Registration, Segment
from bankdesk.personalization.tests.conftest import ENDS, MORNING, STARTS, member

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)"),
    pytest.mark.django_db(transaction=True),
]


def at_once(*calls: Callable[[], object]) -> list[str]:
    """Run the calls on threads of their own (each with its own connection), released
    together; what became of each: its registration's status, or "refused"."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes.append(getattr(call(), "status", ""))
        except Conflict:
            outcomes.append("refused")
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    # One clock for every thread, set and put back by this one (time-machine's travel is the
    # whole process's).
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    return sorted(outcomes)


@pytest.fixture
def last_seat(supervisor) -> tuple[EventSession, list[Invitation]]:
    """A course with one seat left of three, and two invited customers who want it."""
    guests = Segment.objects.create(code="event-guests", name="答谢活动嘉宾")
    with time_machine.travel(MORNING, tick=False):
        course = event_create(
            kind="course", title="老年人数字银行课", title_en="", description="",
            segment_ids=[guests.pk], actor=supervisor,
        )  # fmt: skip
        session = session_add(
            event=course, starts_at=STARTS, ends_at=ENDS, place="社区网点", capacity=3,
            actor=supervisor,
        )  # fmt: skip
        people = [member(f"620000900{i}", guests) for i in range(4)]
        invitations_send(session=session, actor=supervisor)
        for customer in people[:2]:
            register(invitation=Invitation.objects.get(session=session, customer=customer))
    return session, [Invitation.objects.get(session=session, customer=c) for c in people[2:]]


def test_two_customers_after_the_last_seat_get_one_seat_and_one_waitlist_place(last_seat):
    session, (first, second) = last_seat
    outcomes = at_once(lambda: register(invitation=first), lambda: register(invitation=second))
    assert outcomes == ["registered", "waitlisted"]
    assert Registration.objects.filter(session=session, status="registered").count() == 3
    assert Registration.objects.filter(session=session, status="waitlisted").count() == 1


def test_one_customer_booking_twice_at_once_gets_one_booking(last_seat):
    invitation = last_seat[1][0]
    outcomes = at_once(
        lambda: register(invitation=invitation), lambda: register(invitation=invitation)
    )
    assert outcomes == ["refused", "registered"]
    assert Registration.objects.filter(customer_id=invitation.customer_id).count() == 1


def test_one_customer_booking_two_overlapping_sessions_at_once_gets_one(last_seat, supervisor):
    session, (invitation, _) = last_seat
    with time_machine.travel(MORNING, tick=False):
        overlapping = session_add(
            event=session.event, starts_at=STARTS + timedelta(minutes=30),
            ends_at=ENDS + timedelta(minutes=30), place="总行", capacity=10, actor=supervisor,
        )  # fmt: skip
    other = Invitation.objects.create(
        session=overlapping, customer_id=invitation.customer_id, channel="email"
    )
    outcomes = at_once(lambda: register(invitation=invitation), lambda: register(invitation=other))
    assert outcomes == ["refused", "registered"]
    assert Registration.objects.filter(customer_id=invitation.customer_id).count() == 1
