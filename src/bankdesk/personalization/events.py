"""Customer events and courses: appreciation events (客户答谢活动) and education courses
(anti-fraud, digital banking for seniors…), each held in sessions with a number of seats.

The customers of the event's segments are invited on their own channel with a signed link —
only those whose marketing consent holds; the others get an Invitation that says why, so staff
see it. Nothing unasked-for reaches a customer in quiet hours (the outbox holds it). Through the
link the customer takes a seat, or a place on the waitlist once the seats are gone, cancels,
and after attending gives feedback once. A freed seat goes to whoever has waited longest, who
is told. A reminder goes in the 24 hours before the session; a cancelled session is announced
to everyone booked on it (a service message about their booking: not held back by marketing
consent, but by quiet hours still).

No double booking: one live registration per customer and session (a constraint), none on two
sessions at overlapping times (checked under the customer's row lock), and a session's seats
are counted under its row lock, so two customers after the last seat get one seat and one
place on the waitlist.

The link (event_links.py) names its invitation and the invitation's own secret, signed with
the site's key; a forged or expired one changes nothing. The messages themselves (their
wording, the channel each goes on) are in event_messages.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bankdesk.customers.choices import ConsentPurpose
from bankdesk.customers.models import Customer
from bankdesk.customers.profile import customers_allowing
from bankdesk.lib.errors import Conflict, InvalidInput
from bankdesk.lib.quiet_hours import survey_quiet_hours
from bankdesk.lib.redaction import redact_authentication_data
from bankdesk.lib.text import is_unusable, one_line
from bankdesk.personalization.choices import EventKind, InvitationSkip, RegistrationStatus
from bankdesk.personalization.event_links import (
    EventLinkInvalid,
    LinkProblem,
    event_title,
    invitation_open,
)
from bankdesk.personalization.event_messages import customer_notify, customer_reach
from bankdesk.personalization.models import (
    CustomerEvent,
    EventSession,
    Invitation,
    Membership,
    Registration,
    Segment,
)
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User

CAPACITY_MAX = 10_000
TITLE_MAX = 200
PLACE_MAX = 200
DESCRIPTION_MAX = 4000
REASON_MAX = 300
FEEDBACK_TEXT_MAX = 2000
FEEDBACK_SCALE = (1, 5)
REMINDER_AHEAD = timedelta(hours=24)
REMINDER_BATCH = 500
# A seat or a place on the waitlist: what stands in the way of another booking at that time.
LIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
# Who counts in the attendance list of a session that has begun.
SEATED = (RegistrationStatus.REGISTERED, RegistrationStatus.ATTENDED, RegistrationStatus.NO_SHOW)

# Members looked at by one round of invitations (about seven statements each).
INVITE_ROUND = 2000


@dataclass(frozen=True)
class InvitationCounts:
    """What one round of invitations did, customer by customer."""

    invited: int = 0
    no_consent: int = 0
    no_channel: int = 0
    already_booked: int = 0
    already_invited: int = 0
    # Members still to look at: a round looks at INVITE_ROUND of them; send again for more.
    remaining: int = 0


# --- checks ------------------------------------------------------------------------------------


def _text(value: object, field: str, limit: int, *, required: bool, lines: bool = False) -> str:
    text = str(value or "")
    if is_unusable(text):
        raise InvalidInput(_("This text holds characters that cannot be stored."), field=field)
    text = text.strip() if lines else one_line(text)
    if required and not text:
        raise InvalidInput(_("This cannot be left empty."), code="required", field=field)
    if len(text) > limit:
        raise InvalidInput(
            _("At most %(limit)d characters.") % {"limit": limit}, code="too_long", field=field
        )
    return text


def _whole_number(value: object, field: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else low - 1
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise InvalidInput(
            _("Give a whole number from %(low)d to %(high)d.") % {"low": low, "high": high},
            code="out_of_range",
            field=field,
        )
    return number


def _moment(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(_("Give a date and a time."), field=field)
    return value


def _locked_session(session: EventSession) -> EventSession:
    """The session's row, locked: seats are counted and changed by one writer at a time."""
    return (
        EventSession.objects.select_for_update(of=("self",))
        .select_related("event")
        .get(pk=session.pk)
    )


def _bookable(session: EventSession, now: datetime) -> None:
    if session.cancelled_at is not None:
        raise Conflict(_("This session has been cancelled."), code="event_session_cancelled")
    if now >= session.starts_at:
        raise Conflict(
            _("The session has begun: bookings can no longer change."), code="event_session_begun"
        )


# --- events and sessions -----------------------------------------------------------------------


@transaction.atomic
def event_create(
    *,
    kind: str,
    title: str,
    title_en: str,
    description: str,
    segment_ids: Iterable[int | str],
    actor: User,
) -> CustomerEvent:
    """A new event or course, for the customers of the segments given."""
    if kind not in EventKind.values:
        raise InvalidInput(_("Choose the kind of event."), field="kind")
    title = _text(title, "title", TITLE_MAX, required=True)
    title_en = _text(title_en, "title_en", TITLE_MAX, required=False)
    description = _text(description, "description", DESCRIPTION_MAX, required=False, lines=True)
    try:
        wanted = {int(str(pk)) for pk in segment_ids}
    except ValueError:
        raise InvalidInput(_("Choose segments from the list."), field="segments") from None
    if not wanted:
        raise InvalidInput(_("Choose at least one segment to invite."), field="segments")
    segments = list(Segment.objects.filter(pk__in=wanted, is_active=True))
    if len(segments) != len(wanted):
        raise InvalidInput(_("Choose segments from the list."), field="segments")
    event = CustomerEvent.objects.create(
        kind=kind,
        title=title,
        title_en=title_en,
        description=description,
        created_by=actor,
        created_at=timezone.now(),
    )
    event.segments.set(segments)
    audit_record(
        actor=actor,
        action="event.created",
        target=event,
        fields=["kind", "title", "title_en", "description", "segments"],
    )
    return event


@transaction.atomic
def session_add(
    *,
    event: CustomerEvent,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    capacity: int | str,
    actor: User,
    now: datetime | None = None,
) -> EventSession:
    """One more session of the event, in the future, with its seats."""
    now = now or timezone.now()
    starts_at = _moment(starts_at, "starts_at")
    ends_at = _moment(ends_at, "ends_at")
    if starts_at <= now:
        raise InvalidInput(_("A new session starts in the future."), field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput(_("The session ends after it starts."), field="ends_at")
    place = _text(place, "place", PLACE_MAX, required=True)
    seats = _whole_number(capacity, "capacity", 1, CAPACITY_MAX)
    session = EventSession.objects.create(
        event=event, starts_at=starts_at, ends_at=ends_at, place=place, capacity=seats
    )
    audit_record(
        actor=actor,
        action="event.session_added",
        target=session,
        fields=["starts_at", "ends_at", "place", "capacity"],
    )
    return session


# --- invitations and the link ------------------------------------------------------------------


def _booked_elsewhere(customer_ids: Iterable[int], session: EventSession) -> set[int]:
    """Which of these customers hold a seat or a waitlist place on this session or on another
    at an overlapping time."""
    return set(
        Registration.objects.filter(
            customer_id__in=list(customer_ids),
            status__in=LIVE,
            session__cancelled_at__isnull=True,
            session__starts_at__lt=session.ends_at,
            session__ends_at__gt=session.starts_at,
        ).values_list("customer_id", flat=True)
    )


@transaction.atomic
def invitations_send(
    *, session: EventSession, actor: User, now: datetime | None = None
) -> InvitationCounts:
    """Invite the members of the event's segments to the session, each once. A customer
    skipped before (no consent, no channel, booked) is looked at again; one invited is not."""
    now = now or timezone.now()
    locked = _locked_session(session)
    _bookable(locked, now)
    segments = locked.event.segments.filter(is_active=True)
    if not segments.exists():
        raise InvalidInput(
            _("The event has no segment in use: nobody to invite."), field="segments"
        )
    members = set(
        Membership.objects.filter(segment__in=segments).values_list("customer_id", flat=True)
    )
    existing = {
        invitation.customer_id: invitation
        for invitation in Invitation.objects.select_for_update().filter(session=locked)
    }
    invited_before = {pk for pk, invitation in existing.items() if not invitation.skipped}
    # A round at a time, so one click never holds the session for a whole segment: members
    # never looked at first, then those skipped before (consent given since, a channel added).
    fresh = sorted(members - existing.keys())
    again = sorted((members & existing.keys()) - invited_before)
    todo = (fresh + again)[:INVITE_ROUND]
    left = max(0, len(fresh) - INVITE_ROUND)
    allowed = customers_allowing(todo, ConsentPurpose.MARKETING)
    booked = _booked_elsewhere(todo, locked)
    customers = Customer.objects.in_bulk(todo)
    counts = {"invited": 0, "no_consent": 0, "no_channel": 0, "already_booked": 0}
    for customer_id in todo:
        customer = customers[customer_id]
        invitation = existing.get(customer_id) or Invitation(
            session=locked, customer=customer, created_at=now
        )
        reach = None
        if customer_id not in allowed:
            invitation.skipped = InvitationSkip.NO_CONSENT
        elif customer_id in booked:
            invitation.skipped = InvitationSkip.ALREADY_BOOKED
        elif (reach := customer_reach(customer)) is None:
            invitation.skipped = InvitationSkip.NO_CHANNEL
        else:
            invitation.skipped = ""
        invitation.channel = reach[0] if reach is not None else ""
        invitation.save()
        if reach is not None:
            customer_notify(
                customer=customer,
                session=locked,
                kind="event_invitation",
                now=now,
                invitation=invitation,
                reach=reach,
            )
        counts[invitation.skipped or "invited"] += 1
    audit_record(
        actor=actor, action="event.invitations_sent", target=locked, fields=["invitations"]
    )
    return InvitationCounts(**counts, already_invited=len(members & invited_before), remaining=left)


# --- booking -----------------------------------------------------------------------------------


@transaction.atomic
def register(*, invitation: Invitation, now: datetime | None = None) -> Registration:
    """The invited customer takes a seat, or a place on the waitlist when the seats are gone."""
    now = now or timezone.now()
    if invitation.skipped:
        raise EventLinkInvalid(LinkProblem.FORGED, field="token")
    # The customer first, then the session: every booking takes them in this order.
    list(Customer.objects.select_for_update().filter(pk=invitation.customer_id).values("pk"))
    session = _locked_session(invitation.session)
    _bookable(session, now)
    customer_id = invitation.customer_id
    if Registration.objects.filter(
        session=session, customer_id=customer_id, status__in=LIVE
    ).exists():
        raise Conflict(
            _("You are already booked on this session."), code="event_already_registered"
        )
    clash = (
        Registration.objects.filter(
            customer_id=customer_id,
            status__in=LIVE,
            session__cancelled_at__isnull=True,
            session__starts_at__lt=session.ends_at,
            session__ends_at__gt=session.starts_at,
        )
        .select_related("session", "session__event")
        .first()
    )
    if clash is not None:
        zone = ZoneInfo(settings.TIME_ZONE)
        raise Conflict(
            _(
                "You are already booked on another session at that time: %(title)s, %(when)s. "
                "Cancel that booking first if you would rather come to this one."
            )
            % {
                "title": event_title(clash.session.event, translation.get_language() or ""),
                "when": f"{clash.session.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
            },
            code="event_double_booked",
        )
    taken = Registration.objects.filter(
        session=session, status=RegistrationStatus.REGISTERED
    ).count()
    status = (
        RegistrationStatus.REGISTERED if taken < session.capacity else RegistrationStatus.WAITLISTED
    )
    try:
        with transaction.atomic():
            return Registration.objects.create(
                session=session,
                customer_id=customer_id,
                status=status,
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        raise Conflict(
            _("You are already booked on this session."), code="event_already_registered"
        ) from None


def _promote(session: EventSession, now: datetime) -> Registration | None:
    """The seat freed on a session the caller has locked goes to whoever has waited longest."""
    taken = Registration.objects.filter(
        session=session, status=RegistrationStatus.REGISTERED
    ).count()
    if taken >= session.capacity:
        return None
    waiting = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(session=session, status=RegistrationStatus.WAITLISTED)
        .order_by("created_at", "id")
        .first()
    )
    if waiting is None:
        return None
    waiting.status = RegistrationStatus.REGISTERED
    waiting.updated_at = now
    waiting.save(update_fields=["status", "updated_at"])
    customer_notify(customer=waiting.customer, session=session, kind="event_seat", now=now)
    return waiting


@transaction.atomic
def registration_cancel(
    *,
    registration: Registration,
    by_customer: bool = False,
    actor: User | None = None,
    now: datetime | None = None,
) -> Registration:
    """The customer (through their link) or a member of staff (for them) cancels a seat or a
    waitlist place; a freed seat goes to the first on the waitlist."""
    if by_customer == (actor is not None):
        raise InvalidInput("say who cancels: the customer or a member of staff", field="actor")
    now = now or timezone.now()
    session = _locked_session(registration.session)
    current = Registration.objects.select_for_update().get(pk=registration.pk)
    if current.status not in LIVE:
        raise Conflict(
            _("This booking is not active: there is nothing to cancel."),
            code="event_registration_not_live",
        )
    _bookable(session, now)
    was_seated = current.status == RegistrationStatus.REGISTERED
    current.status = RegistrationStatus.CANCELLED
    current.updated_at = now
    current.save(update_fields=["status", "updated_at"])
    if was_seated:
        _promote(session, now)
    if actor is not None:
        audit_record(
            actor=actor, action="event.registration_cancelled", target=current, fields=["status"]
        )
    return current


@transaction.atomic
def session_cancel(
    *, session: EventSession, reason: str, actor: User, now: datetime | None = None
) -> int:
    """Call the session off: every customer booked on it (seat or waitlist) is told, and their
    bookings end. Returns how many were told."""
    now = now or timezone.now()
    reason = _text(reason, "reason", REASON_MAX, required=True)
    locked = _locked_session(session)
    _bookable(locked, now)
    locked.cancelled_at = now
    locked.cancel_reason = reason
    locked.save(update_fields=["cancelled_at", "cancel_reason"])
    told = 0
    booked = (
        Registration.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(session=locked, status__in=LIVE)
        .order_by("created_at", "id")
    )
    for registration in booked:
        registration.status = RegistrationStatus.CANCELLED
        registration.updated_at = now
        registration.save(update_fields=["status", "updated_at"])
        told += customer_notify(
            customer=registration.customer,
            session=locked,
            kind="event_cancelled",
            now=now,
            reason=reason,
        )
    audit_record(
        actor=actor,
        action="event.session_cancelled",
        target=locked,
        fields=["cancelled_at", "cancel_reason"],
    )
    return told


@transaction.atomic
def attendance_mark(
    *,
    session: EventSession,
    attended_ids: Iterable[int | str],
    actor: User,
    now: datetime | None = None,
) -> tuple[int, int]:
    """Who came, once the session has begun: the registrations named attended, every other
    seat of the session not (a second marking corrects the first). Returns (came, did not)."""
    now = now or timezone.now()
    try:
        came = {int(str(pk)) for pk in attended_ids}
    except ValueError:
        raise InvalidInput(_("Mark customers from the list."), field="attended") from None
    locked = _locked_session(session)
    if locked.cancelled_at is not None:
        raise Conflict(_("This session has been cancelled."), code="event_session_cancelled")
    if now < locked.starts_at:
        raise Conflict(
            _("Attendance is taken once the session has begun."), code="event_session_not_begun"
        )
    seated = list(
        Registration.objects.select_for_update().filter(session=locked, status__in=SEATED)
    )
    if came - {registration.pk for registration in seated}:
        raise InvalidInput(
            _("Mark only customers who have a seat at this session."), field="attended"
        )
    for registration in seated:
        status = (
            RegistrationStatus.ATTENDED if registration.pk in came else RegistrationStatus.NO_SHOW
        )
        if registration.status != status:
            registration.status = status
            registration.updated_at = now
            registration.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="event.attendance_marked", target=locked, fields=["status"])
    return len(came), len(seated) - len(came)


@transaction.atomic
def feedback_give(
    *, token: str, score: int | str, text: str, now: datetime | None = None
) -> Registration:
    """A customer who attended says how it was (1 to 5, and in words if they like), once."""
    now = now or timezone.now()
    state = invitation_open(token, now=now)
    if state.problem is not None or state.invitation is None:
        raise EventLinkInvalid(state.problem or LinkProblem.FORGED, field="token")
    low, high = FEEDBACK_SCALE
    value = _whole_number(score, "score", low, high)
    words = _text(text, "text", FEEDBACK_TEXT_MAX, required=False, lines=True)
    invitation = state.invitation
    registration = (
        Registration.objects.select_for_update()
        .filter(
            session_id=invitation.session_id,
            customer_id=invitation.customer_id,
            status=RegistrationStatus.ATTENDED,
        )
        .first()
    )
    if registration is None:
        raise Conflict(
            _("Feedback is given by those who came to the session."),
            code="event_feedback_not_attended",
        )
    if registration.feedback_score is not None:
        raise Conflict(
            _("We have your feedback already: it is given once. Thank you."),
            code="event_feedback_given",
        )
    registration.feedback_score = value
    registration.feedback_text = redact_authentication_data(words)
    registration.updated_at = now
    registration.save(update_fields=["feedback_score", "feedback_text", "updated_at"])
    return registration


# --- reminders ---------------------------------------------------------------------------------


def reminders_send(*, now: datetime | None = None) -> int:
    """Remind every customer with a seat at a session beginning in the next 24 hours, once
    each; nothing in quiet hours (the next run after them does it). Returns how many were
    queued."""
    now = now or timezone.now()
    if survey_quiet_hours().contains(now):
        return 0
    due = list(
        Registration.objects.filter(
            status=RegistrationStatus.REGISTERED,
            reminded_at__isnull=True,
            session__cancelled_at__isnull=True,
            session__starts_at__gt=now,
            session__starts_at__lte=now + REMINDER_AHEAD,
        )
        .order_by("session__starts_at", "id")
        .values_list("pk", flat=True)[:REMINDER_BATCH]
    )
    sent = 0
    for registration_id in due:
        with transaction.atomic():
            registration = (
                Registration.objects.select_for_update(of=("self",))
                .select_related("customer", "session", "session__event")
                .filter(
                    pk=registration_id,
                    status=RegistrationStatus.REGISTERED,
                    reminded_at__isnull=True,
                )
                .first()
            )
            if registration is None:
                continue
            sent += customer_notify(
                customer=registration.customer,
                session=registration.session,
                kind="event_reminder",
                now=now,
            )
            registration.reminded_at = now
            registration.save(update_fields=["reminded_at"])
    return sent
