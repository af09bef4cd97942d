"""Follow-up calls in the console: the outbound call queue at /followups/, the page an agent
works one call from, and the satisfaction indicators at /followups/indicators/."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from bankdesk.console.words import error_text
from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.masking import identity_shown
from bankdesk.customers.services import customer_contact_hours_set, customer_reveal
from bankdesk.feedback.choices import (
    FOLLOW_UP_FINISHED,
    AttemptOutcome,
    FollowUpStatus,
    SurveyStatus,
    Verdict,
)
from bankdesk.feedback.followups import CallResult, follow_up_call_record, follow_up_take
from bankdesk.feedback.indicators import DIMENSIONS, indicators
from bankdesk.feedback.models import FollowUp, Survey
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.access import cases_visible_to

QUEUE_SHOWN = 200
TABS: dict[str, Any] = {
    "due": gettext_lazy("To call now"),
    "later": gettext_lazy("Later"),
    "mine": gettext_lazy("Mine"),
    "done": gettext_lazy("Finished this week"),
}
BREAKDOWNS: dict[str, Any] = {
    "": gettext_lazy("Whole period"),
    "month": gettext_lazy("By month"),
    "agent": gettext_lazy("By agent"),
    "team": gettext_lazy("By team"),
    "channel": gettext_lazy("By channel"),
    "category": gettext_lazy("By category"),
}


def _visible(user: User) -> QuerySet[FollowUp]:
    if not user.has_perm("feedback.view_followup"):
        raise PermissionDenied
    return FollowUp.objects.filter(case__in=cases_visible_to(user).values("pk"))


def _tab(queryset: QuerySet[FollowUp], tab: str, user: User, now: datetime) -> QuerySet[FollowUp]:
    if tab == "done":
        return queryset.filter(
            status__in=FOLLOW_UP_FINISHED, completed_at__gte=now - timedelta(days=7)
        ).order_by("-completed_at")
    open_ones = queryset.filter(status=FollowUpStatus.OPEN)
    if tab == "later":
        return open_ones.filter(next_attempt_at__gt=now).order_by("next_attempt_at", "id")
    if tab == "mine":
        return open_ones.filter(owner=user).order_by("next_attempt_at", "id")
    return open_ones.filter(next_attempt_at__lte=now).order_by("due_at", "id")


def _hours(customer: Any) -> str:
    if customer is None or customer.contact_from is None or customer.contact_until is None:
        return ""
    return f"{customer.contact_from:%H:%M}–{customer.contact_until:%H:%M}"


@require_GET
@mfa_required
def follow_up_queue(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    visible = _visible(user)
    now = timezone.now()
    tab = request.GET.get("show", "due")
    if tab not in TABS:
        tab = "due"
    rows = list(
        _tab(visible, tab, user, now).select_related(
            "case", "customer", "owner", "category", "case__category"
        )[:QUEUE_SHOWN]
    )
    counts = {key: _tab(visible, key, user, now).count() for key in TABS}
    return render(
        request,
        "console/followups.html",
        {
            "tabs": [
                {"key": key, "label": label, "count": counts[key], "current": key == tab}
                for key, label in TABS.items()
            ],
            "tab": tab,
            "rows": [
                {"follow_up": f, "hours": _hours(f.customer), "overdue": f.due_at < now}
                for f in rows
            ],
            "shown": QUEUE_SHOWN,
            "indicators": user.has_perm("feedback.view_indicators"),
        },
    )


def _when(text: str) -> datetime | None:
    """A <input type=datetime-local> value, on the bank's clock."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            _("Give the date and time to call back."), field="call_back_at"
        ) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _clock(text: str) -> time | None:
    """An <input type=time> value (HH:MM)."""
    text = text.strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Give the time as hours and minutes."), field="contact_from") from None


def _score(text: str, field: str, high: int) -> int | None:
    if not text.strip():
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(_("Choose one of the scores shown."), field=field) from None
    if not (0 if field == "nps" else 1) <= value <= high:
        raise InvalidInput(_("Choose one of the scores shown."), field=field)
    return value


def _call_result(post: Any) -> CallResult:
    outcome = post.get("outcome", "")
    reached = outcome == AttemptOutcome.REACHED
    return CallResult(
        outcome=outcome,
        note=post.get("note", ""),
        call_back_at=_when(post.get("call_back_at", "")) if outcome == "call_back" else None,
        verdict=post.get("verdict", "") if reached else "",
        remarks=post.get("remarks", "") if reached else "",
        wants_complaint=reached and post.get("wants_complaint") == "on",
        csat=_score(post.get("csat", ""), "csat", 5) if reached else None,
        nps=_score(post.get("nps", ""), "nps", 10) if reached else None,
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def follow_up_work(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    user = request_staff(request)
    follow_up = (
        _visible(user)
        .select_related("case", "customer", "owner", "category", "agent", "team")
        .filter(pk=follow_up_id)
        .first()
    )
    if follow_up is None:
        raise Http404
    may_call = user.has_perm("feedback.change_followup") and user.has_perm(
        "tickets.change_case", follow_up.case
    )
    revealed: list[str] = []
    status = 200
    if request.method == "POST":
        if not may_call:
            raise PermissionDenied
        action = request.POST.get("action", "")
        try:
            if action == "take":
                follow_up_take(follow_up=follow_up, actor=user)
                return HttpResponseRedirect(request.path)
            if action == "reveal":
                if follow_up.customer is None:
                    raise InvalidInput(_("The case has no customer."), field="customer")
                revealed = customer_reveal(
                    customer=follow_up.customer,
                    field=IdentityKind.PHONE,
                    reason=f"follow-up call of case {follow_up.case.number}",
                    actor=user,
                )
            elif action == "hours":
                if follow_up.customer is None:
                    raise InvalidInput(_("The case has no customer."), field="customer")
                customer_contact_hours_set(
                    customer=follow_up.customer,
                    start=_clock(request.POST.get("contact_from", "")),
                    end=_clock(request.POST.get("contact_until", "")),
                    actor=user,
                )
                messages.success(request, _("The customer's best time to call is saved."))
                return HttpResponseRedirect(request.path)
            elif action == "call":
                follow_up_call_record(
                    follow_up=follow_up, result=_call_result(request.POST), actor=user
                )
                messages.success(request, _("The call is recorded."))
                return HttpResponseRedirect(reverse("console:followups"))
            else:
                raise InvalidInput(_("Unknown action."), field="action")
        except BankdeskError as exc:
            messages.error(request, error_text(exc))
            status = 400
    return render(
        request,
        "console/followup.html",
        _work_context(follow_up, user, may_call, revealed),
        status=status,
    )


def _work_context(
    follow_up: FollowUp, user: User, may_call: bool, revealed: list[str]
) -> dict[str, Any]:
    customer = follow_up.customer
    phones = []
    if customer is not None:
        phones = [
            identity_shown(user, i.kind, i.value)
            for i in customer.identities.filter(kind=IdentityKind.PHONE).order_by("id")
        ]
    survey = Survey.objects.filter(case=follow_up.case).select_related("response").first()
    response = getattr(survey, "response", None) if survey is not None else None
    return {
        "follow_up": follow_up,
        "case": follow_up.case,
        "customer": customer,
        "hours": _hours(customer),
        "phones": phones,
        "revealed": revealed,
        "tries": follow_up.tries.select_related("by"),
        "survey": survey,
        "survey_answered": survey is not None and survey.status == SurveyStatus.ANSWERED,
        "response": response,
        "comment": json.loads(response.answers).get("comment", "") if response else "",
        "may_call": may_call and follow_up.status == FollowUpStatus.OPEN,
        "outcomes": AttemptOutcome.choices,
        "verdicts": Verdict.choices,
        "csat_scale": range(1, 6),
        "nps_scale": range(0, 11),
        "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


@require_GET
@mfa_required
def feedback_indicators(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    if not user.has_perm("feedback.view_indicators"):
        raise PermissionDenied
    today = timezone.localdate()
    first = _day(request.GET.get("from", ""), _quarter_start(today))
    last = _day(request.GET.get("to", ""), today + timedelta(days=1))
    by = request.GET.get("by", "")
    by = by if by in DIMENSIONS else ""
    zone = timezone.get_current_timezone()
    error = ""
    rows: list[Any] = []
    try:
        rows = indicators(
            since=datetime.combine(first, time(), tzinfo=zone),
            until=datetime.combine(last, time(), tzinfo=zone),
            by=by or None,
        )
    except InvalidInput:
        error = _("The period ends before it starts.")
    return render(
        request,
        "console/feedback_indicators.html",
        {
            "rows": rows,
            "first": first.isoformat(),
            "last": last.isoformat(),
            "by": by,
            "breakdowns": list(BREAKDOWNS.items()),
            "error": error,
        },
        status=400 if error else 200,
    )


def follow_up_panel(case: Any, user: User) -> dict[str, Any] | None:
    """What a case's workspace shows of its follow-up and survey."""
    if not user.has_perm("feedback.view_followup"):
        return None
    follow_up = FollowUp.objects.filter(case=case).first()
    survey = Survey.objects.filter(case=case).select_related("response").first()
    if follow_up is None and survey is None:
        return None
    return {
        "follow_up": follow_up,
        "survey": survey,
        "response": getattr(survey, "response", None) if survey is not None else None,
    }
