"""Customer events on screen: the customer's page through a signed link (a forged or old one
changes nothing; booking, cancelling, the waitlist and feedback through it) and the console
screens for every role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.lib.errors import InvalidInput
from bankdesk.personalization.event_links import (
    LINK_SALT,
    EventLinkInvalid,
    invitation_open,
    registration_link_token,
)
from bankdesk.personalization.events import (
    attendance_mark,
    event_create,
    feedback_give,
    invitations_send,
    register,
    session_add,
)
from bankdesk.personalization.models import (
    CustomerEvent,
    EventSession,
    Invitation,
    Registration,
)
from bankdesk.personalization.tests.conftest import (
    ENDS,
    STARTS,
    at,
    book,
    invited,
    member,
)

pytestmark = pytest.mark.django_db


# --- the link and the customer's page ----------------------------------------------------------


def test_a_forged_or_damaged_link_opens_nothing_and_changes_nothing(crowd, session):
    invitation = invited(session, crowd[0])
    good = registration_link_token(invitation)
    forged = [
        signing.dumps([invitation.pk, "not-the-nonce"], salt=LINK_SALT),
        signing.dumps([invitation.pk, invitation.nonce], salt="bankdesk.feedback.survey-link"),
        signing.dumps(["1", invitation.nonce], salt=LINK_SALT),
        good[:-2] + ("aa" if not good.endswith("aa") else "bb"),
        "abc",
    ]
    client = Client()
    for token in forged:
        assert invitation_open(token).problem == "forged"
        page = client.post(f"/e/{token}/", {"action": "register"}, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 404
        assert "This link does not work" in page.content.decode()
        with pytest.raises(EventLinkInvalid):
            feedback_give(token=token, score=5, text="")
    assert not Registration.objects.exists()


def test_a_skipped_invitation_has_no_working_link(session, seniors, supervisor):
    customer = member("6200004001", seniors, consent=False)
    invitations_send(session=session, actor=supervisor)
    token = registration_link_token(invited(session, customer))
    assert invitation_open(token).problem == "forged"
    with pytest.raises(InvalidInput):
        register(invitation=invited(session, customer))


def test_an_old_link_has_expired(crowd, session, morning):
    token = registration_link_token(invited(session, crowd[0]))
    morning.move_to(ENDS + timedelta(days=31))
    page = Client().get(f"/e/{token}/")
    assert page.status_code == 410
    assert 'data-problem="expired"' in page.content.decode()


def test_a_customer_books_and_cancels_through_the_page(session, seniors, supervisor):
    customer = member("6200005001", seniors, language="en")
    invitations_send(session=session, actor=supervisor)
    url = f"/e/{registration_link_token(invited(session, customer))}/"
    client = Client()

    page = client.get(url).content.decode()
    assert "Anti-fraud talk" in page and "2026-11-12 Thu 14:00" in page and "Book a seat" in page
    booked = client.post(url, {"action": "register"})
    assert booked.status_code == 200
    assert "You have a seat." in booked.content.decode()
    assert Registration.objects.get(customer=customer).status == "registered"

    again = client.post(url, {"action": "register"})
    assert again.status_code == 409
    assert Registration.objects.filter(customer=customer).count() == 1

    cancelled = client.post(url, {"action": "cancel"})
    assert "Your booking is cancelled." in cancelled.content.decode()
    assert Registration.objects.get(customer=customer).status == "cancelled"
    assert 'data-stage="open"' in cancelled.content.decode()
    assert client.post(url, {"action": "dance"}).status_code == 400


def test_a_customer_asks_not_to_be_invited_again_from_the_page(crowd, session, supervisor):
    from bankdesk.customers.models import Consent
    from bankdesk.customers.profile import consent_allows
    from bankdesk.security.models import AuditEntry

    customer = crowd[0]
    url = f"/e/{registration_link_token(invited(session, customer))}/"
    client = Client()
    assert "data-no-more" in client.get(url).content.decode()
    done = client.post(url, {"action": "no_more"})
    assert done.status_code == 200 and "不会再邀请您" in done.content.decode()
    assert not consent_allows(customer.pk, "marketing")
    said = Consent.objects.filter(customer=customer).order_by("-id").first()
    assert said is not None
    assert (said.granted, said.source, said.recorded_by_id) == (False, "link", None)
    assert AuditEntry.objects.filter(action="customer.consent_withdrawn").exists()
    other = session_add(
        event=session.event,
        starts_at=session.starts_at + timedelta(days=7),
        ends_at=session.ends_at + timedelta(days=7),
        place="东城支行",
        capacity=5,
        actor=supervisor,
    )
    invitations_send(session=other, actor=supervisor)
    assert Invitation.objects.get(session=other, customer=customer).skipped == "no_consent"


def test_the_page_offers_the_waitlist_when_the_seats_are_gone(crowd, session):
    book(session, crowd[0])
    book(session, crowd[1])
    url = f"/e/{registration_link_token(invited(session, crowd[2]))}/"
    client = Client()
    # The page speaks the customer's language (简体 here), whatever the browser asks for.
    assert "加入候补" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    joined = client.post(url, {"action": "register"}).content.decode()
    assert 'data-status="waitlisted"' in joined
    assert Registration.objects.get(customer=crowd[2]).status == "waitlisted"


def test_feedback_through_the_page(crowd, session, supervisor, morning):
    booking = book(session, crowd[0])
    morning.move_to(STARTS + timedelta(minutes=5))
    attendance_mark(session=session, attended_ids=[booking.pk], actor=supervisor)
    url = f"/e/{registration_link_token(invited(session, crowd[0]))}/"
    client = Client()
    assert 'data-stage="feedback"' in client.get(url).content.decode()
    refused = client.post(url, {"action": "feedback", "score": "9"})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    done = client.post(url, {"action": "feedback", "score": "5", "text": "很实用"})
    assert 'data-stage="thanked"' in done.content.decode()
    booking.refresh_from_db()
    assert (booking.feedback_score, booking.feedback_text) == (5, "很实用")


# --- the console -------------------------------------------------------------------------------


def test_only_those_who_run_events_change_them(
    client, agent, auditor, supervisor, complaint_officer, admin_user, seniors
):
    form = {"kind": "course", "title": "数字银行入门", "segments": [str(seniors.pk)]}
    assert client.get("/events/").status_code == 302  # not signed in
    sign_in_with_second_factor(client, agent)
    assert client.get("/events/").status_code == 403
    assert client.post("/events/", form).status_code == 403
    sign_in_with_second_factor(client, auditor)
    assert client.get("/events/").status_code == 200
    assert client.post("/events/", form).status_code == 403
    assert not CustomerEvent.objects.exists()
    for runner in (supervisor, complaint_officer, admin_user):
        sign_in_with_second_factor(client, runner)
        assert client.post("/events/", form).status_code == 302
    assert CustomerEvent.objects.count() == 3


def test_a_refused_event_says_why_and_keeps_what_was_typed(client, supervisor, seniors):
    sign_in_with_second_factor(client, supervisor)
    page = client.post("/events/", {"kind": "course", "title": "讲座", "segments": []})
    assert page.status_code == 400
    assert 'value="讲座"' in page.content.decode()
    assert not CustomerEvent.objects.exists()


def test_a_supervisor_runs_a_session_from_the_event_page(client, crowd, session, supervisor):
    url = f"/events/{session.event_id}/"
    sign_in_with_second_factor(client, supervisor)
    for customer in crowd[:3]:
        book(session, customer)
    page = client.get(url).content.decode()
    assert "2 / 2" in page and "data-waitlist>1<" in page and "客户00" in page

    added = client.post(
        url,
        {
            "action": "add_session",
            "starts_at": "2026-11-20T09:30",
            "ends_at": "2026-11-20T11:00",
            "place": "东城支行",
            "capacity": "40",
        },
    )
    assert added.status_code == 302
    new = EventSession.objects.get(place="东城支行")
    assert (new.starts_at, new.capacity) == (at(20, 9, 30), 40)
    bad = client.post(url, {"action": "add_session", "starts_at": "soon", "place": "x"})
    assert bad.status_code == 400
    assert EventSession.objects.count() == 2

    # An id that only looks like digits ("²".isdigit() is true) is no session: refused, not 500.
    for odd in ("²", "١٢", "-1", ""):
        assert client.post(url, {"action": "invite", "session": odd}).status_code in {400, 404}

    invite = client.post(url, {"action": "invite", "session": str(new.pk)})
    assert invite.status_code == 302
    assert Invitation.objects.filter(session=new).count() == 4

    other_event = event_create(
        kind="appreciation", title="答谢会", title_en="", description="",
        segment_ids=[session.event.segments.get().pk], actor=supervisor,
    )  # fmt: skip
    assert (
        client.post(
            f"/events/{other_event.pk}/", {"action": "invite", "session": str(new.pk)}
        ).status_code
        == 404
    )

    seat = Registration.objects.get(customer=crowd[0])
    client.post(
        url,
        {"action": "cancel_registration", "session": str(session.pk), "registration": seat.pk},
    )
    assert Registration.objects.get(customer=crowd[2]).status == "registered"

    cancelled = client.post(
        url, {"action": "cancel_session", "session": str(new.pk), "reason": "场地维修"}
    )
    assert cancelled.status_code == 302
    assert EventSession.objects.get(pk=new.pk).cancel_reason == "场地维修"


def test_attendance_from_the_event_page(client, crowd, session, supervisor, morning):
    came, missed = (book(session, customer) for customer in crowd[:2])
    sign_in_with_second_factor(client, supervisor)
    url = f"/events/{session.event_id}/"
    assert 'name="attended"' not in client.get(url).content.decode()
    morning.move_to(STARTS + timedelta(minutes=15))
    sign_in_with_second_factor(client, supervisor)  # the idle session has timed out since
    assert 'name="attended"' in client.get(url).content.decode()
    marked = client.post(
        url, {"action": "attendance", "session": str(session.pk), "attended": [str(came.pk)]}
    )
    assert marked.status_code == 302
    assert dict(Registration.objects.values_list("pk", "status")) == {
        came.pk: "attended",
        missed.pk: "no_show",
    }


def test_the_event_page_reads_a_bounded_number_of_rows(
    client, crowd, session, course, supervisor, django_assert_max_num_queries
):
    for day in (13, 14, 15):
        session_add(
            event=course, starts_at=at(day, 9), ends_at=at(day, 10), place="网点",
            capacity=3, actor=supervisor,
        )  # fmt: skip
    for customer in crowd:
        book(session, customer)
    sign_in_with_second_factor(client, supervisor)
    with django_assert_max_num_queries(20):
        assert client.get(f"/events/{course.pk}/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/events/").status_code == 200


def test_a_complaint_officer_may_run_events_but_not_an_agent(
    client, agent, complaint_officer, session
):
    url = f"/events/{session.event_id}/"
    sign_in_with_second_factor(client, agent)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "invite", "session": session.pk}).status_code == 403
    sign_in_with_second_factor(client, complaint_officer)
    assert client.get(url).status_code == 200
