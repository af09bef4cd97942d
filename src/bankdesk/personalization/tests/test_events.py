"""Customer events and courses: invitations only to consenting members, on their channel, in
their language, never twice and never in quiet hours; seats, the waitlist and its promotion;
no double booking; cancellation notices; attendance; feedback once; reminders once. The
customer's page and the console screens: test_events_pages.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bankdesk.customers.profile import consent_record
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.models import OutboxMessage
from bankdesk.lib.errors import Conflict, InvalidInput
from bankdesk.personalization.event_links import (
    registration_link_token,
)
from bankdesk.personalization.events import (
    InvitationCounts,
    attendance_mark,
    event_create,
    feedback_give,
    invitations_send,
    registration_cancel,
    reminders_send,
    session_add,
    session_cancel,
)
from bankdesk.personalization.models import (
    CustomerEvent,
    EventSession,
    Invitation,
    Registration,
    Segment,
)
from bankdesk.personalization.tasks import event_reminders_run
from bankdesk.personalization.tests.conftest import (
    ENDS,
    MORNING,
    STARTS,
    at,
    book,
    invited,
    member,
    sent_to,
)
from bankdesk.security.models import AuditEntry

pytestmark = pytest.mark.django_db


# --- events and sessions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"title": "   "}, "title"),
        ({"title": "讲" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"segment_ids": []}, "segments"),
        ({"segment_ids": [999]}, "segments"),
        ({"segment_ids": ["x"]}, "segments"),
    ],
)
def test_an_event_needs_a_kind_a_title_and_segments(supervisor, seniors, change, field):
    given = {
        "kind": "appreciation",
        "title": "客户答谢会",
        "title_en": "",
        "description": "",
        "segment_ids": [seniors.pk],
    }
    with pytest.raises(InvalidInput) as refused:
        event_create(**{**given, **change}, actor=supervisor)
    assert refused.value.field == field
    assert not CustomerEvent.objects.exists()


def test_an_inactive_segment_cannot_be_invited(supervisor, seniors):
    Segment.objects.filter(pk=seniors.pk).update(is_active=False)
    with pytest.raises(InvalidInput):
        event_create(
            kind="course", title="讲座", title_en="", description="", segment_ids=[seniors.pk],
            actor=supervisor,
        )  # fmt: skip


def test_creating_an_event_and_a_session_is_audited(session, course):
    assert list(course.segments.values_list("code", flat=True)) == ["event-guests"]
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "event.created",
        "event.session_added",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": STARTS}, "ends_at"),
        ({"ends_at": STARTS - timedelta(hours=1)}, "ends_at"),
        ({"starts_at": MORNING - timedelta(hours=1)}, "starts_at"),
        ({"starts_at": datetime(2026, 11, 12, 14)}, "starts_at"),  # no time zone
        ({"capacity": 0}, "capacity"),
        ({"capacity": 10_001}, "capacity"),
        ({"capacity": "two"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"place": "  "}, "place"),
    ],
)
def test_a_session_is_in_the_future_with_seats_and_a_place(
    morning, course, supervisor, change, field
):
    given = {"starts_at": STARTS, "ends_at": ENDS, "place": "网点", "capacity": 30}
    with pytest.raises(InvalidInput) as refused:
        session_add(event=course, **{**given, **change}, actor=supervisor)
    assert refused.value.field == field
    assert not EventSession.objects.exists()


# --- invitations --------------------------------------------------------------------------------


def test_invitations_go_to_consenting_members_on_their_channel_in_their_language(
    session, seniors, supervisor
):
    by_mail = member("6200002001", seniors)
    by_sms = member("6200002002", seniors, language="en", channel="sms", phone=True)
    withdrawn = member("6200002003", seniors, consent=False)
    never_asked = member("6200002004", seniors, consent=None)
    unreachable = member("6200002005", seniors, email=False)
    outsider = customer_create(
        customer_number="6200002006",
        name="非会员",
        identities=[IdentityInput(kind="email", value="out@example.cn")],
    )
    consent_record(customer=outsider, purpose="marketing", granted=True, source="app", actor=None)

    counts = invitations_send(session=session, actor=supervisor)

    assert counts == InvitationCounts(invited=2, no_consent=2, no_channel=1)
    assert invited(session, by_mail).channel == "email"
    assert invited(session, by_sms).channel == "sms"
    assert invited(session, withdrawn).skipped == "no_consent"
    assert invited(session, never_asked).skipped == "no_consent"
    assert invited(session, unreachable).skipped == "no_channel"
    assert not Invitation.objects.filter(customer=outsider).exists()
    assert OutboxMessage.objects.count() == 2
    assert sent_to(withdrawn) == sent_to(never_asked) == []
    (mail,) = sent_to(by_mail)
    (sms,) = sent_to(by_sms)
    assert mail["recipient"] == "c6200002001@example.cn" and sms["recipient"] == "+8613900002002"
    assert "防范电信诈骗讲座" in mail["text"] and "2026-11-12 14:00" in mail["text"]
    assert "Anti-fraud talk" in sms["text"] and "You are invited" in sms["text"]
    token = registration_link_token(invited(session, by_sms))
    assert f"/e/{token}/" in sms["text"]
    assert mail["kind"] == "event_invitation" and mail["quiet_hours"] is True
    assert OutboxMessage.objects.filter(case__isnull=True).count() == 2
    assert AuditEntry.objects.filter(action="event.invitations_sent").count() == 1


def test_an_invitation_without_a_case_reaches_the_customers_mailbox(
    session, seniors, supervisor, relay
):
    from bankdesk.intake.models import ChannelEndpoint
    from bankdesk.intake.outbox import outbox_deliver

    ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"from": "service@bank.example"}
    )
    customer = member("6200002101", seniors, language="en")
    invitations_send(session=session, actor=supervisor)
    assert outbox_deliver().sent == 1
    mail = relay.last()
    assert mail["To"] == "c6200002101@example.cn"
    assert mail["Subject"] == "Invitation: Anti-fraud talk"
    token = registration_link_token(invited(session, customer))
    assert f"/e/{token}/" in mail.get_content()


def test_an_invitation_held_overnight_is_not_sent_once_consent_is_withdrawn(
    session, seniors, supervisor, morning, relay
):
    """Queued in quiet hours, the customer withdraws their marketing consent before morning:
    the outbox asks again before sending, and gives the invitation up."""
    from bankdesk.intake.models import ChannelEndpoint
    from bankdesk.intake.outbox import outbox_deliver

    ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"from": "service@bank.example"}
    )
    customer = member("6200009001", seniors)
    morning.move_to(at(10, 22, 30))
    invitations_send(session=session, actor=supervisor)
    morning.move_to(at(10, 23, 0))
    consent_record(
        customer=customer, purpose="marketing", granted=False, source="phone", actor=None
    )
    morning.move_to(at(11, 9, 30))
    report = outbox_deliver()
    assert report.sent == 0
    held = OutboxMessage.objects.get()
    assert (held.status, held.last_error) == (
        "dead",
        "the customer withdrew the consent this message needs",
    )


def test_nobody_is_invited_twice_and_a_later_consent_is_picked_up(session, seniors, supervisor):
    asked = member("6200003001", seniors)
    later = member("6200003002", seniors, consent=None)
    invitations_send(session=session, actor=supervisor)

    again = invitations_send(session=session, actor=supervisor)
    assert again == InvitationCounts(no_consent=1, already_invited=1)
    assert len(sent_to(asked)) == 1

    consent_record(customer=later, purpose="marketing", granted=True, source="app", actor=None)
    third = invitations_send(session=session, actor=supervisor)
    assert third == InvitationCounts(invited=1, already_invited=1)
    assert invited(session, later).skipped == ""
    assert len(sent_to(later)) == 1 and len(sent_to(asked)) == 1
    assert Invitation.objects.filter(session=session).count() == 2


def test_a_large_segment_is_invited_a_round_at_a_time(session, seniors, supervisor, monkeypatch):
    from bankdesk.personalization import events

    monkeypatch.setattr(events, "INVITE_ROUND", 2)
    silent = member("6200003201", seniors, consent=None)
    others = [member(f"620000320{n}", seniors) for n in range(2, 6)]
    first = invitations_send(session=session, actor=supervisor)
    assert (first.invited + first.no_consent, first.remaining) == (2, 3)
    second = invitations_send(session=session, actor=supervisor)
    assert (second.invited, second.remaining) == (2, 1)
    third = invitations_send(session=session, actor=supervisor)
    # The last one never looked at, then the one skipped before, looked at again.
    assert (third.invited, third.no_consent, third.remaining) == (1, 1, 0)
    assert all(invited(session, c).skipped == "" for c in others)
    assert invited(session, silent).skipped == "no_consent"


def test_a_customer_booked_at_that_time_is_not_invited(session, course, seniors, supervisor):
    busy = member("6200003101", seniors)
    invitations_send(session=session, actor=supervisor)
    book(session, busy)
    overlapping = session_add(
        event=course, starts_at=STARTS + timedelta(hours=1), ends_at=ENDS + timedelta(hours=1),
        place="分行", capacity=5, actor=supervisor,
    )  # fmt: skip
    counts = invitations_send(session=overlapping, actor=supervisor)
    assert counts == InvitationCounts(already_booked=1)
    assert invited(overlapping, busy).skipped == "already_booked"


def test_invitations_in_quiet_hours_leave_in_the_morning(session, seniors, supervisor, morning):
    customer = member("6200003201", seniors)
    morning.move_to(at(10, 22, 30))
    invitations_send(session=session, actor=supervisor)
    (message,) = sent_to(customer)
    assert message["at"] == at(11, 9)


def test_no_invitations_for_a_session_cancelled_or_begun(session, seniors, supervisor, morning):
    member("6200003301", seniors)
    morning.move_to(STARTS)
    with pytest.raises(Conflict):
        invitations_send(session=session, actor=supervisor)
    assert not Invitation.objects.exists()


# --- seats and the waitlist ---------------------------------------------------------------------


def test_seats_then_the_waitlist(crowd, session):
    statuses = [book(session, customer).status for customer in crowd[:3]]
    assert statuses == ["registered", "registered", "waitlisted"]


def test_a_freed_seat_goes_to_the_longest_waiting_who_is_told(crowd, session, morning):
    first, second, third, fourth = crowd
    seated = book(session, first)
    book(session, second)
    book(session, third)
    morning.shift(timedelta(minutes=5))
    book(session, fourth)
    before = OutboxMessage.objects.count()

    registration_cancel(registration=seated, by_customer=True)

    states = dict(Registration.objects.values_list("customer__customer_number", "status"))
    assert states == {
        first.customer_number: "cancelled",
        second.customer_number: "registered",
        third.customer_number: "registered",
        fourth.customer_number: "waitlisted",
    }
    assert OutboxMessage.objects.count() == before + 1
    assert sent_to(third)[-1]["kind"] == "event_seat"
    # Leaving the waitlist frees no seat: nobody else moves.
    registration_cancel(registration=Registration.objects.get(customer=fourth), by_customer=True)
    assert OutboxMessage.objects.count() == before + 1


def test_a_customer_may_book_again_after_cancelling(crowd, session):
    booking = book(session, crowd[0])
    registration_cancel(registration=booking, by_customer=True)
    assert book(session, crowd[0]).status == "registered"
    with pytest.raises(Conflict) as twice:
        book(session, crowd[0])
    assert twice.value.code == "event_already_registered"
    assert Registration.objects.filter(customer=crowd[0]).count() == 2


def test_no_double_booking_at_overlapping_times(crowd, session, course, supervisor):
    customer = crowd[0]
    overlapping = session_add(
        event=course, starts_at=STARTS + timedelta(minutes=90), ends_at=ENDS,
        place="分行", capacity=5, actor=supervisor,
    )  # fmt: skip
    back_to_back = session_add(
        event=course, starts_at=ENDS, ends_at=ENDS + timedelta(hours=2),
        place="分行", capacity=5, actor=supervisor,
    )  # fmt: skip
    for other in (overlapping, back_to_back):
        Invitation.objects.create(session=other, customer=customer, channel="email")
    booking = book(session, customer)

    with pytest.raises(Conflict) as clash:
        book(overlapping, customer)
    assert clash.value.code == "event_double_booked"
    assert not Registration.objects.filter(session=overlapping).exists()
    assert book(back_to_back, customer).status == "registered"

    registration_cancel(registration=booking, by_customer=True)
    assert book(overlapping, customer).status == "registered"


def test_no_booking_once_a_session_is_cancelled_or_has_begun(crowd, session, supervisor, morning):
    morning.move_to(STARTS)
    with pytest.raises(Conflict) as begun:
        book(session, crowd[0])
    assert begun.value.code == "event_session_begun"
    morning.move_to(MORNING)
    session_cancel(session=session, reason="讲师临时有事", actor=supervisor)
    with pytest.raises(Conflict) as cancelled:
        book(session, crowd[0])
    assert cancelled.value.code == "event_session_cancelled"
    assert not Registration.objects.exists()


def test_a_cancellation_says_who_cancels(crowd, session, supervisor):
    booking = book(session, crowd[0])
    with pytest.raises(InvalidInput):
        registration_cancel(registration=booking)
    with pytest.raises(InvalidInput):
        registration_cancel(registration=booking, by_customer=True, actor=supervisor)
    registration_cancel(registration=booking, actor=supervisor)
    assert AuditEntry.objects.filter(action="event.registration_cancelled").count() == 1
    with pytest.raises(Conflict):
        registration_cancel(registration=booking, actor=supervisor)


# --- cancelling a session ----------------------------------------------------------------------


def test_a_cancelled_session_is_announced_to_everyone_booked(crowd, session, supervisor, morning):
    for customer in crowd[:3]:
        book(session, customer)
    # A booking is the customer's own business: withdrawing marketing consent does not stop
    # the notice that it is off.
    consent_record(customer=crowd[0], purpose="marketing", granted=False, source="app", actor=None)
    with pytest.raises(InvalidInput):
        session_cancel(session=session, reason="  ", actor=supervisor)
    morning.move_to(at(10, 23))

    told = session_cancel(session=session, reason="讲师临时有事", actor=supervisor)

    assert told == 3
    for customer in crowd[:3]:
        notice = sent_to(customer)[-1]
        assert notice["kind"] == "event_cancelled" and "讲师临时有事" in notice["text"]
        assert notice["at"] == at(11, 9)  # quiet hours still hold
    assert sent_to(crowd[3])[-1]["kind"] == "event_invitation"  # not booked: not told
    assert set(Registration.objects.values_list("status", flat=True)) == {"cancelled"}
    session.refresh_from_db()
    assert session.cancelled_at is not None and session.cancel_reason == "讲师临时有事"
    with pytest.raises(Conflict):
        session_cancel(session=session, reason="again", actor=supervisor)
    assert AuditEntry.objects.filter(action="event.session_cancelled").count() == 1


# --- attendance and feedback -------------------------------------------------------------------


def test_attendance_is_taken_once_the_session_has_begun(crowd, session, supervisor, morning):
    came, missed, waiting = (book(session, customer) for customer in crowd[:3])
    with pytest.raises(Conflict):
        attendance_mark(session=session, attended_ids=[came.pk], actor=supervisor)
    morning.move_to(STARTS + timedelta(minutes=10))
    for wrong in ([waiting.pk], [999_999], ["x"]):
        with pytest.raises(InvalidInput):
            attendance_mark(session=session, attended_ids=wrong, actor=supervisor)
    assert Registration.objects.filter(status="attended").count() == 0

    assert attendance_mark(session=session, attended_ids=[came.pk], actor=supervisor) == (1, 1)
    states = dict(Registration.objects.values_list("pk", "status"))
    assert states == {came.pk: "attended", missed.pk: "no_show", waiting.pk: "waitlisted"}
    # A second marking corrects the first.
    attendance_mark(session=session, attended_ids=[str(came.pk), missed.pk], actor=supervisor)
    assert Registration.objects.get(pk=missed.pk).status == "attended"
    assert AuditEntry.objects.filter(action="event.attendance_marked").count() == 2


def test_feedback_comes_once_from_those_who_attended(crowd, session, supervisor, morning):
    came, _absent = (book(session, customer) for customer in crowd[:2])
    morning.move_to(STARTS + timedelta(minutes=10))
    attendance_mark(session=session, attended_ids=[came.pk], actor=supervisor)
    morning.move_to(ENDS + timedelta(days=1))
    came_token = registration_link_token(invited(session, crowd[0]))

    with pytest.raises(Conflict) as absent:
        feedback_give(token=registration_link_token(invited(session, crowd[1])), score=5, text="")
    assert absent.value.code == "event_feedback_not_attended"
    for score in (0, 6, "x", ""):
        with pytest.raises(InvalidInput):
            feedback_give(token=came_token, score=score, text="")
    with pytest.raises(InvalidInput):
        feedback_give(token=came_token, score=4, text="长" * 2001)

    feedback_give(token=came_token, score="4", text="讲得很好，卡号 6222020200112233445 不该留")
    came.refresh_from_db()
    assert came.feedback_score == 4
    assert "讲得很好" in came.feedback_text and "6222020200112233445" not in came.feedback_text
    with pytest.raises(Conflict) as twice:
        feedback_give(token=came_token, score=1, text="")
    assert twice.value.code == "event_feedback_given"
    came.refresh_from_db()
    assert came.feedback_score == 4


# --- reminders ---------------------------------------------------------------------------------


def test_one_reminder_in_the_day_before_never_in_quiet_hours(crowd, session, morning):
    seated = book(session, crowd[0])
    book(session, crowd[1])
    waiting = book(session, crowd[2])
    registration_cancel(registration=Registration.objects.get(customer=crowd[1]), by_customer=True)
    assert Registration.objects.get(pk=waiting.pk).status == "registered"  # promoted

    morning.move_to(STARTS - timedelta(hours=25))
    assert reminders_send() == 0
    morning.move_to(STARTS - timedelta(hours=20))  # 18:00 the day before
    assert reminders_send() == 2
    assert reminders_send() == 0
    assert event_reminders_run.call() == 0
    reminded = [sent_to(customer)[-1]["kind"] for customer in crowd[:3]]
    # The second customer cancelled: their last message is still the invitation.
    assert reminded == ["event_reminder", "event_invitation", "event_reminder"]
    seated.refresh_from_db()
    assert seated.reminded_at == STARTS - timedelta(hours=20)


def test_no_reminder_in_quiet_hours_nor_for_a_cancelled_session(
    crowd, session, supervisor, morning
):
    book(session, crowd[0])
    morning.move_to(STARTS - timedelta(hours=16))  # 22:00 the day before
    assert reminders_send() == 0
    morning.move_to(MORNING)
    session_cancel(session=session, reason="场地维修", actor=supervisor)
    morning.move_to(STARTS - timedelta(hours=4))
    assert reminders_send() == 0
