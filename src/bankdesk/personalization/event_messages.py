"""What events and courses send a customer: the invitation, the reminder, the seat come free and
the notice of a cancelled session — each in the customer's language, on the channel that reaches
them, queued in the outbox to leave once quiet hours allow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from bankdesk.customers.choices import ConsentPurpose
from bankdesk.customers.models import Customer
from bankdesk.intake.services import customer_address, outbox_enqueue
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import Language
from bankdesk.lib.quiet_hours import survey_quiet_hours
from bankdesk.personalization.event_links import event_title, registration_link
from bankdesk.personalization.models import EventSession, Invitation

logger = logging.getLogger(__name__)

# Where a message can reach a customer with a link, after the channel they prefer.
EVENT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.WECHAT, Channel.ALIPAY)


def _language(customer: Customer) -> str:
    language = customer.preferred_language
    return language if language in Language.values else Language.ZH_HANS


def customer_reach(customer: Customer) -> tuple[str, str] | None:
    """(channel, address): the customer's preferred channel when it can carry a link and they
    have an address there, else e-mail, SMS, WeChat, Alipay in that order; None: no way."""
    order = [customer.preferred_channel] if customer.preferred_channel in EVENT_CHANNELS else []
    order += [channel for channel in EVENT_CHANNELS if channel not in order]
    for channel in order:
        try:
            return channel, customer_address(customer, channel)
        except InvalidInput:
            continue
    return None


def _wording(
    kind: str, session: EventSession, title: str, link: str, reason: str
) -> tuple[str, str]:
    """(subject, text) of one message, in the active language."""
    zone = ZoneInfo(settings.TIME_ZONE)
    said = {
        "title": title,
        "when": f"{session.starts_at.astimezone(zone):%Y-%m-%d %H:%M}",
        "place": session.place,
        "link": link,
        "reason": reason,
    }
    if kind == "event_invitation":
        subject = _("Invitation: %(title)s")
        text = _(
            "You are invited to %(title)s, %(when)s at %(place)s. "
            "Take a seat (or a place on the waitlist) here: %(link)s"
        )
    elif kind == "event_reminder":
        subject = _("Reminder: %(title)s")
        text = _(
            "A reminder: %(title)s begins %(when)s at %(place)s. If you cannot come, please "
            "cancel so that someone else can have your seat: %(link)s"
        )
    elif kind == "event_seat":
        subject = _("You have a seat: %(title)s")
        text = _(
            "A seat has come free and it is yours: %(title)s, %(when)s at %(place)s. "
            "If you cannot come, please cancel here: %(link)s"
        )
    else:
        subject = _("Cancelled: %(title)s")
        text = _(
            "We are sorry: %(title)s, %(when)s at %(place)s, has been cancelled (%(reason)s). "
            "Your booking for it is cancelled."
        )
    return subject % said, text % said


def customer_notify(
    *,
    customer: Customer,
    session: EventSession,
    kind: str,
    now: datetime,
    invitation: Invitation | None = None,
    reason: str = "",
    reach: tuple[str, str] | None = None,
) -> bool:
    """Queue one message to the customer about the session, in their language, to leave once
    quiet hours allow; False when there is no channel to reach them on."""
    reach = reach or customer_reach(customer)
    if reach is None:
        logger.info("customer %s: no channel for a %s message", customer.pk, kind)
        return False
    channel, address = reach
    if invitation is None:
        invitation = Invitation.objects.filter(session=session, customer=customer).first()
    link = registration_link(invitation) if invitation is not None else ""
    with translation.override(_language(customer)):
        title = event_title(session.event, translation.get_language() or "")
        subject, text = _wording(kind, session, title, link, reason)
    item = outbox_enqueue(
        # No case: a message about the customer's booking, not about a matter they raised.
        case=None,
        message=None,
        channel=channel,
        recipient=address,
        payload={
            "text": text,
            "subject": subject,
            "case_number": "",
            "in_reply_to": "",
            "kind": kind,
            # The outbox holds it while quiet hours last (intake/outbox.py).
            "quiet_hours": True,
            # An invitation is marketing: the outbox asks the customer's consent again just
            # before it sends, so one withdrawn in the meantime stops it.
            **(
                {"consent": {"customer_id": customer.pk, "purpose": ConsentPurpose.MARKETING}}
                if kind == "event_invitation"
                else {}
            ),
        },
    )
    send_at = survey_quiet_hours().next_allowed(now)
    if item.next_attempt_at < send_at:
        item.next_attempt_at = send_at
        item.save(update_fields=["next_attempt_at"])
    return True
