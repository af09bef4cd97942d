"""Customer events in the console — the list with a form for a new one at /events/, an event's
sessions (seats, waitlist, invitations, attendance) at /events/<id>/ — and the page a customer
opens from their invitation at /e/<token>/: no login, in the customer's language. A link that
cannot be used (forged, expired) gets a page that says so and changes nothing."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from bankdesk.customers.choices import ConsentPurpose, ConsentSource
from bankdesk.customers.profile import consent_record
from bankdesk.lib.errors import BankdeskError, Conflict, InvalidInput
from bankdesk.lib.languages import Language, active_language
from bankdesk.personalization.choices import EventKind, InvitationSkip, RegistrationStatus
from bankdesk.personalization.event_links import (
    EventLinkInvalid,
    LinkProblem,
    event_title,
    invitation_open,
)
from bankdesk.personalization.events import (
    FEEDBACK_SCALE,
    LIVE,
    SEATED,
    attendance_mark,
    event_create,
    feedback_give,
    invitations_send,
    register,
    registration_cancel,
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
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User

EVENTS_SHOWN = 100

# --- the console -------------------------------------------------------------------------------

# A row id as a form sends it: ASCII digits only ("²".isdigit() is true, int("²") fails).
_ID = re.compile(r"[0-9]{1,18}")
# The head of a session's waitlist shown on the event page (the count says how many wait).
WAITLIST_SHOWN = 50


def _may_read(user: User) -> bool:
    """Whether the reader may run events too; PermissionDenied when they may not even read."""
    if not user.has_perm("personalization.view_personalization"):
        raise PermissionDenied
    return bool(user.has_perm("personalization.run_events"))


def _when(text: str, field: str) -> datetime:
    """An <input type=datetime-local> value, on the bank's clock."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(_("Give a date and a time."), field=field) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@require_http_methods(["GET", "POST"])
@mfa_required
def event_list(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    may_run = _may_read(user)
    given: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        given = {
            key: request.POST.get(key, "")[:5000]
            for key in ("kind", "title", "title_en", "description")
        }
        given["segments"] = request.POST.getlist("segments")
        try:
            event = event_create(
                kind=given["kind"],
                title=given["title"],
                title_en=given["title_en"],
                description=given["description"],
                segment_ids=given["segments"],
                actor=user,
            )
        except BankdeskError as exc:
            messages.error(request, exc.message)  # said in the reader's words where raised
            status = 400
        else:
            messages.success(request, _("The event is created: add its sessions."))
            return HttpResponseRedirect(reverse("personalization:event", args=[event.pk]))
    now = timezone.now()
    events = (
        CustomerEvent.objects.annotate(
            session_count=Count("sessions", distinct=True),
            next_start=Min(
                "sessions__starts_at",
                filter=Q(sessions__starts_at__gt=now, sessions__cancelled_at__isnull=True),
            ),
            seats_taken=Count(
                "sessions__registrations",
                filter=Q(sessions__registrations__status__in=SEATED),
                distinct=True,
            ),
        )
        .select_related("created_by")
        .prefetch_related("segments")[:EVENTS_SHOWN]
    )
    return render(
        request,
        "personalization/events.html",
        {
            "events": list(events),
            "shown": EVENTS_SHOWN,
            "may_run": may_run,
            "kinds": EventKind.choices,
            # With how many customers each holds: whom an invitation round reaches.
            "segments": Segment.objects.filter(is_active=True)
            .annotate(members=Count("memberships"))
            .order_by("kind", "code"),
            "given": given,
        },
        status=status,
    )


def _session_of(event: CustomerEvent, raw: str) -> EventSession:
    session = (
        EventSession.objects.filter(event=event, pk=int(raw)).first()
        if _ID.fullmatch(raw)
        else None
    )
    if session is None:
        raise Http404
    return session


def _act(request: HttpRequest, event: CustomerEvent, user: User) -> str:
    """Carry out the form's action; the anchor of the session it concerned."""
    action = request.POST.get("action", "")
    if action == "add_session":
        session = session_add(
            event=event,
            starts_at=_when(request.POST.get("starts_at", ""), "starts_at"),
            ends_at=_when(request.POST.get("ends_at", ""), "ends_at"),
            place=request.POST.get("place", "")[:1000],
            capacity=request.POST.get("capacity", ""),
            actor=user,
        )
        messages.success(request, _("The session is added."))
        return f"session-{session.pk}"
    session = _session_of(event, request.POST.get("session", ""))
    if action == "invite":
        counts = invitations_send(session=session, actor=user)
        skipped = counts.no_consent + counts.no_channel + counts.already_booked
        messages.success(
            request,
            ngettext(
                "%(count)d customer invited; %(skipped)d not (see why below).",
                "%(count)d customers invited; %(skipped)d not (see why below).",
                counts.invited,
            )
            % {"count": counts.invited, "skipped": skipped},
        )
        if counts.remaining:
            messages.info(
                request,
                ngettext(
                    "%(count)d more member of the segments is still to be looked at: send the "
                    "invitations again.",
                    "%(count)d more members of the segments are still to be looked at: send the "
                    "invitations again.",
                    counts.remaining,
                )
                % {"count": counts.remaining},
            )
    elif action == "cancel_session":
        told = session_cancel(
            session=session, reason=request.POST.get("reason", "")[:1000], actor=user
        )
        messages.success(
            request,
            ngettext(
                "The session is cancelled; %(count)d customer is told.",
                "The session is cancelled; %(count)d customers are told.",
                told,
            )
            % {"count": told},
        )
    elif action == "attendance":
        came, missed = attendance_mark(
            session=session, attended_ids=request.POST.getlist("attended"), actor=user
        )
        messages.success(
            request,
            _("Attendance is recorded: %(came)d came, %(missed)d did not.")
            % {"came": came, "missed": missed},
        )
    elif action == "cancel_registration":
        raw = request.POST.get("registration", "")
        registration = (
            Registration.objects.filter(session=session, pk=int(raw)).first()
            if _ID.fullmatch(raw)
            else None
        )
        if registration is None:
            raise Http404
        registration_cancel(registration=registration, actor=user)
        messages.success(request, _("The booking is cancelled."))
    else:
        raise InvalidInput(_("Unknown action."), field="action")
    return f"session-{session.pk}"


@require_http_methods(["GET", "POST"])
@mfa_required
def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    user = request_staff(request)
    may_run = _may_read(user)
    event = CustomerEvent.objects.prefetch_related("segments").filter(pk=event_id).first()
    if event is None:
        raise Http404
    status = 200
    if request.method == "POST":
        if not may_run:
            raise PermissionDenied
        try:
            anchor = _act(request, event, user)
        except BankdeskError as exc:
            messages.error(request, exc.message)  # said in the reader's words where raised
            status = 400
        else:
            return HttpResponseRedirect(f"{request.path}#{anchor}")
    return render(
        request,
        "personalization/event.html",
        _event_context(event, user, may_run, request.POST if status != 200 else None),
        status=status,
    )


def _event_context(
    event: CustomerEvent, user: User, may_run: bool, given: Any | None
) -> dict[str, Any]:
    now = timezone.now()
    sessions = list(
        event.sessions.annotate(
            seats_taken=Count(
                "registrations", filter=Q(registrations__status__in=SEATED), distinct=True
            ),
            waitlisted=Count(
                "registrations",
                filter=Q(registrations__status=RegistrationStatus.WAITLISTED),
                distinct=True,
            ),
            invited=Count("invitations", filter=Q(invitations__skipped=""), distinct=True),
        )
    )
    skipped: dict[int, list[tuple[str, int]]] = defaultdict(list)
    rows = (
        Invitation.objects.filter(session__event=event)
        .exclude(skipped="")
        .values_list("session_id", "skipped")
        .annotate(count=Count("id"))
        .order_by("session_id", "skipped")
    )
    for session_id, reason, count in rows:
        skipped[session_id].append((str(InvitationSkip(reason).label), count))
    # Everyone with a seat (as many as the seats), and the head of each waitlist; not the
    # cancelled bookings.
    bookings: dict[int, list[Registration]] = defaultdict(list)
    for registration in (
        Registration.objects.filter(session__event=event)
        .exclude(status__in=[RegistrationStatus.WAITLISTED, RegistrationStatus.CANCELLED])
        .select_related("customer")
        .order_by("session_id", "created_at", "id")
    ):
        bookings[registration.session_id].append(registration)
    for session in sessions:
        bookings[session.pk].extend(
            Registration.objects.filter(session=session, status=RegistrationStatus.WAITLISTED)
            .select_related("customer")
            .order_by("created_at", "id")[:WAITLIST_SHOWN]
        )
    return {
        "event": event,
        "title_shown": event_title(event, active_language()),
        "sessions": [
            {
                "session": session,
                "is_open": session.cancelled_at is None and now < session.starts_at,
                "has_begun": session.cancelled_at is None and now >= session.starts_at,
                "skipped": skipped[session.pk],
                "bookings": bookings[session.pk],
            }
            for session in sessions
        ],
        "may_run": may_run,
        "show_names": user.has_perm("customers.view_customer"),
        "seated": [str(status) for status in SEATED],
        "given": given or {},
        "now": timezone.localtime(now).strftime("%Y-%m-%dT%H:%M"),
    }


# --- the customer's page -----------------------------------------------------------------------

# What the customer reads when the link cannot be used, and the status it is served with.
PROBLEMS: dict[str, tuple[Any, Any, int]] = {
    LinkProblem.FORGED: (
        gettext_lazy("This link does not work"),
        gettext_lazy("It may be mistyped or cut short. Please open it again from our message."),
        404,
    ),
    LinkProblem.EXPIRED: (
        gettext_lazy("This event is over"),
        gettext_lazy("Its link was valid for a limited time. Thank you all the same."),
        410,
    ),
}


def _language(invitation: Invitation | None) -> str:
    if invitation is None:
        return active_language()
    language = invitation.customer.preferred_language
    return language if language in Language.values else Language.ZH_HANS


def _closed(request: HttpRequest, problem: str) -> HttpResponse:
    title, text, status = PROBLEMS.get(problem, PROBLEMS[LinkProblem.FORGED])
    return render(
        request,
        "personalization/registration_closed.html",
        {"title": title, "text": text, "problem": problem},
        status=status,
    )


def _customer_act(
    request: HttpRequest, token: str, invitation: Invitation, booking: Registration | None
) -> str:
    """Carry out what the customer asked; what to tell them."""
    action = request.POST.get("action", "")
    if action == "register":
        registration = register(invitation=invitation)
        if registration.status == RegistrationStatus.REGISTERED:
            return _("You have a seat. We will remind you the day before.")
        return _("The seats are taken: you are on the waitlist. We will tell you if one frees.")
    if action == "cancel":
        if booking is None:
            raise Conflict(_("This booking is not active: there is nothing to cancel."))
        registration_cancel(registration=booking, by_customer=True)
        return _("Your booking is cancelled.")
    if action == "feedback":
        feedback_give(
            token=token,
            score=request.POST.get("score", ""),
            text=request.POST.get("text", "")[:4000],
        )
        return _("Thank you for your feedback.")
    if action == "no_more":
        # The customer speaks for themselves here: no member of staff records it.
        consent_record(
            customer=invitation.customer,
            purpose=ConsentPurpose.MARKETING,
            granted=False,
            source=ConsentSource.LINK,
            actor=None,
        )
        return _("You will not be invited to our events again. You can change this at a branch.")
    raise InvalidInput(_("Unknown action."), field="action")


def _place_in_line(registration: Registration) -> int:
    return (
        Registration.objects.filter(
            session_id=registration.session_id, status=RegistrationStatus.WAITLISTED
        )
        .filter(
            Q(created_at__lt=registration.created_at)
            | Q(created_at=registration.created_at, id__lt=registration.pk)
        )
        .count()
        + 1
    )


def _page_context(
    invitation: Invitation, registration: Registration | None, token: str
) -> dict[str, Any]:
    session = invitation.session
    now = timezone.now()
    taken = Registration.objects.filter(session=session, status__in=SEATED).count()
    status = registration.status if registration is not None else ""
    if session.cancelled_at is not None:
        stage = "cancelled"
    elif now < session.starts_at:
        stage = "booked" if status in LIVE else "open"
    elif status == RegistrationStatus.ATTENDED:
        given = registration is not None and registration.feedback_score is not None
        stage = "thanked" if given else "feedback"
    else:
        stage = "over"
    return {
        "token": token,
        "session": session,
        "event": session.event,
        "title": event_title(session.event, _language(invitation)),
        "registration": registration,
        "stage": stage,
        "seats_left": max(session.capacity - taken, 0),
        "place_in_line": (
            _place_in_line(registration)
            if registration is not None and status == RegistrationStatus.WAITLISTED
            else None
        ),
        "scale": range(FEEDBACK_SCALE[0], FEEDBACK_SCALE[1] + 1),
    }


@require_http_methods(["GET", "POST"])
def registration_page(request: HttpRequest, token: str) -> HttpResponse:
    state = invitation_open(token)
    invitation = state.invitation
    with translation.override(_language(invitation)):
        if state.problem is not None or invitation is None:
            return _closed(request, state.problem or LinkProblem.FORGED)
        booking = state.registration
        notice = ""
        error: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            try:
                notice = _customer_act(request, token, invitation, booking)
            except EventLinkInvalid as exc:
                return _closed(request, str(exc))
            except BankdeskError as exc:
                error = {"field": exc.field or "", "text": exc.message}
                status = 409 if isinstance(exc, Conflict) else 400
            booking = invitation_open(token).registration
        context = {**_page_context(invitation, booking, token), "notice": notice, "error": error}
        return render(request, "personalization/registration.html", context, status=status)
