"""The live case screen: a case's messages as they arrive, and the reply box.

The page itself is ordinary HTML; `static/console/case_live.js` connects it to `/ws/staff/` so
messages from the customer (and colleagues' replies) appear without a reload.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from bankdesk.assistant.selectors import case_handoff
from bankdesk.intake.services import case_reply
from bankdesk.knowledge.selectors import case_suggestions
from bankdesk.lib.errors import BankdeskError, NotFound
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Case, Message
from bankdesk.tickets.selectors import case_links, case_messages_from_contacts_not_on_file

MESSAGES_SHOWN = 200
REPLY_MAX = 4000


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Reply"), max_length=REPLY_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )


def _case(request: HttpRequest, case_id: int, *, change: bool = False) -> Case:
    try:
        return access_case_by_id(request_staff(request), case_id, change=change)
    except NotFound as exc:
        raise Http404 from exc


def _reply_channel(case: Case) -> str | None:
    """Answer where the customer last wrote: in a live chat, in the chat, whatever channel
    they would prefer for letters."""
    channel: str | None = (
        Message.objects.filter(case=case, direction=Direction.INBOUND)
        .order_by("-id")
        .values_list("channel", flat=True)
        .first()
    )
    return channel


@require_GET
@mfa_required
def case_live(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    shown = list(
        Message.objects.filter(case=case)
        .select_related("author")
        .order_by("-created_at", "-id")[:MESSAGES_SHOWN]
    )
    shown.reverse()
    user = request_staff(request)
    return render(
        request,
        "console/case_live.html",
        {
            "case": case,
            "case_messages": shown,
            "links": case_links(case=case),
            "contacts_not_on_file": case_messages_from_contacts_not_on_file(case=case),
            "form": ReplyForm(),
            "handoff": case_handoff(case),
            "suggestions": case_suggestions(case)
            if user.has_perm("knowledge.view_article")
            else [],
        },
    )


@require_POST
@mfa_required
def case_live_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    """The reply box: record the reply and send it on the customer's channel."""
    case = _case(request, case_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Write a reply of at most %(count)d characters.") % {"count": REPLY_MAX}
        )
    else:
        try:
            case = _case(request, case_id, change=True)
            case_reply(
                case=case,
                text=form.cleaned_data["text"],
                actor=request_staff(request),
                channel=_reply_channel(case),
            )
        except BankdeskError as exc:
            messages.error(request, exc.message)
    if request.headers.get("X-Requested-With") == "fetch":
        # The live page: the reply appears through the WebSocket like everyone else's.
        stored = list(messages.get_messages(request))
        status = 400 if stored else 204
        return HttpResponse(" ".join(str(m) for m in stored), status=status)
    return HttpResponseRedirect(reverse("console:case_live", args=[case.pk]))
