"""The help centre's contact form (/help/contact/) and the case status a customer follows by a
signed link (/help/status/<token>/).

A form comes in through the one door, `inbound_receive`, as a message from the e-mail address
the customer gives: the bank's replies go there, and the address earns no more trust than a
mail from it would (it names a customer only as an e-mail does, and never continues another
case). Each form carries its own id, so a double submit or a resent page stores one case.

The status link carries the case id signed with the site's key (salted for this use alone,
valid for STATUS_LINK_DAYS): whoever holds it sees the case number, subject, state and dates —
never the messages, which go to the customer's mailbox.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError, InvalidInput, RateLimited
from bankdesk.lib.languages import active_language
from bankdesk.lib.text import is_storable
from bankdesk.security.ratelimit import Limit, rate_limit_hit
from bankdesk.tickets.choices import CaseStatus, Direction
from bankdesk.tickets.models import Case, Message

STATUS_LINK_SALT = "bankdesk.help.case-status"
STATUS_LINK_DAYS = 180
MESSAGE_MAX = 5000
FORM_ID_PREFIX = "help-form-"

DAMAGED = gettext_lazy("This page was damaged on its way. Please check it and send it again.")
NOT_TAKEN = gettext_lazy("We could not take this message. Please check it and send it again.")

# What a customer reads for each state of their case.
CUSTOMER_STATUS: dict[str, Any] = {
    CaseStatus.NEW: gettext_lazy("Received — waiting for a member of staff"),
    CaseStatus.OPEN: gettext_lazy("Being worked on"),
    CaseStatus.PENDING_CUSTOMER: gettext_lazy("Waiting for your answer — see our e-mail"),
    CaseStatus.PENDING_INTERNAL: gettext_lazy("Being worked on"),
    CaseStatus.RESOLVED: gettext_lazy("Resolved"),
    CaseStatus.CLOSED: gettext_lazy("Closed"),
}


class ContactForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=100, required=False)
    email = forms.EmailField(label=gettext_lazy("Your e-mail address"), max_length=254)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    message = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": MESSAGE_MAX}),
    )
    form_id = forms.UUIDField(widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for field in ("name", "subject", "message"):
            value = data.get(field)
            if isinstance(value, str) and not is_storable(value):
                self.add_error(field, _("This text holds characters that cannot be stored."))
        return data


def status_link_token(case: Case) -> str:
    return signing.dumps({"case": case.pk}, salt=STATUS_LINK_SALT, compress=True)


def status_link_case(token: str) -> Case | None:
    """The case a status link names, or None when it is forged, damaged or too old."""
    try:
        claim = signing.loads(token, salt=STATUS_LINK_SALT, max_age=STATUS_LINK_DAYS * 86_400)
    except signing.BadSignature:
        return None
    case_id = claim.get("case") if isinstance(claim, dict) else None
    if not isinstance(case_id, int):
        return None
    return Case.objects.filter(pk=case_id).first()


def _contact_limit() -> Limit:
    return Limit.parse(settings.BANKDESK_RATE_LIMIT_CONTACT, "BANKDESK_RATE_LIMIT_CONTACT")


@require_http_methods(["GET", "POST"])
def help_contact(request: HttpRequest) -> HttpResponse:
    """The contact form; a valid one opens a case and leads to its status page."""
    if request.method != "POST":
        form = ContactForm(initial={"form_id": uuid.uuid4()})
        return render(request, "knowledge/help_contact.html", {"form": form})
    form = ContactForm(request.POST)
    status = 400
    if not form.is_valid() and "form_id" in form.errors:
        # A damaged page: nothing the customer wrote is lost, and the page gets a fresh id.
        data = request.POST.copy()
        data["form_id"] = str(uuid.uuid4())
        form = ContactForm(data)
        form.is_valid()
        form.add_error(None, str(DAMAGED))
    elif form.is_valid():
        try:
            case = _case_from(form.cleaned_data, request.META.get("REMOTE_ADDR") or "unknown")
        except RateLimited as exc:
            form.add_error(None, _too_many(exc.retry_after))
            status = 429
        except BankdeskError:
            form.add_error(None, str(NOT_TAKEN))
        else:
            token = status_link_token(case)
            return HttpResponseRedirect(reverse("help_status", args=[token]) + "?sent=1")
    return render(request, "knowledge/help_contact.html", {"form": form}, status=status)


def _case_from(data: dict[str, Any], address: str) -> Case:
    """The case a valid form opens (or opened already, when the same form comes again)."""
    rate_limit_hit(f"help:contact:ip:{address}", _contact_limit())
    result = inbound_receive(
        InboundMessage(
            channel=Channel.EMAIL,
            external_id=f"{FORM_ID_PREFIX}{data['form_id']}",
            text=data["message"],
            subject=data["subject"],
            sender_kind="email",
            sender_value=data["email"],
            sender_name=data["name"],
            language=active_language(),
        )
    )
    if result.case is None:
        raise InvalidInput("the message opened no case")
    return result.case


def _too_many(seconds: int) -> str:
    return ngettext(
        "Too many messages from your connection. Please try again in %(n)d second.",
        "Too many messages from your connection. Please try again in %(n)d seconds.",
        seconds,
    ) % {"n": seconds}


@require_GET
def help_status(request: HttpRequest, token: str) -> HttpResponse:
    case = status_link_case(token)
    if case is None:
        return render(request, "knowledge/help_status.html", {"case": None}, status=404)
    replies = Message.objects.filter(case=case, direction=Direction.OUTBOUND).count()
    return render(
        request,
        "knowledge/help_status.html",
        {
            "case": case,
            "state": CUSTOMER_STATUS.get(case.status, case.get_status_display()),
            "replies": replies,
            "sent": request.GET.get("sent") == "1",
            "link": request.build_absolute_uri(request.path),
        },
    )
