"""The customer's side of an event: the signed link an invitation carries, what it opens, and
the event's title in the reader's language.

A link names its invitation and the invitation's own secret, signed with the site's key
(salted for this use); it opens the session's page until LINK_DAYS_AFTER days after the
session ends (feedback comes after), and a link of an invitation that was skipped, forged,
damaged or expired changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import named_in
from bankdesk.personalization.models import CustomerEvent, Invitation, Registration

LINK_SALT = "bankdesk.personalization.event-link"
LINK_DAYS_AFTER = 30


class EventLinkInvalid(InvalidInput):
    """A registration link that is forged, damaged or expired."""

    code = "event_link_invalid"


def event_title(event: CustomerEvent, language: str) -> str:
    """The event's title in the reader's language (English where there is an English one)."""
    return named_in(event.title, event.title_en, language)


def registration_link_token(invitation: Invitation) -> str:
    return signing.dumps([invitation.pk, invitation.nonce], salt=LINK_SALT)


def registration_link(invitation: Invitation) -> str:
    path = reverse("personalization:event_page", args=[registration_link_token(invitation)])
    return f"{settings.BANKDESK_PUBLIC_URL}{path}"


class LinkProblem:
    FORGED = "forged"
    EXPIRED = "expired"


@dataclass(frozen=True)
class InvitationState:
    """What a link opens: its invitation (None when forged), the customer's registration for
    the session (their current one, None before they register) and what stands in the way
    (None: the page may be used)."""

    invitation: Invitation | None
    registration: Registration | None
    problem: str | None


def _registration(invitation: Invitation) -> Registration | None:
    return (
        Registration.objects.filter(
            session_id=invitation.session_id, customer_id=invitation.customer_id
        )
        .order_by("-created_at", "-id")
        .first()
    )


def invitation_open(token: str, *, now: datetime | None = None) -> InvitationState:
    now = now or timezone.now()
    try:
        invitation_id, nonce = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return InvitationState(None, None, LinkProblem.FORGED)
    invitation = (
        Invitation.objects.select_related("session", "session__event", "customer")
        .filter(pk=invitation_id, nonce=nonce, skipped="")
        .first()
        if isinstance(invitation_id, int) and isinstance(nonce, str)
        else None
    )
    if invitation is None:
        return InvitationState(None, None, LinkProblem.FORGED)
    registration = _registration(invitation)
    if invitation.session.ends_at + timedelta(days=LINK_DAYS_AFTER) <= now:
        return InvitationState(invitation, registration, LinkProblem.EXPIRED)
    return InvitationState(invitation, registration, None)
