"""Personalised service in the console: the panel on a case and on the customer page (the
customer's plan and its guidance, their segments and why, the next-best-actions their consents
allow, to accept or decline), and the personalisation overview at /personal/ (segments and
their members, plans, what became of the suggestions, coverage now)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count, JSONField, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bankdesk.console.words import error_text
from bankdesk.customers.access import access_customer_by_id
from bankdesk.lib.errors import BankdeskError, NotFound
from bankdesk.lib.languages import named_in
from bankdesk.personalization.choices import SuggestionStatus
from bankdesk.personalization.models import Membership, Segment, ServicePlan
from bankdesk.personalization.segments import reason_text, rule_text
from bankdesk.personalization.selectors import (
    Personal,
    coverage_at,
    personal_of,
    suggestion_outcomes,
)
from bankdesk.personalization.services import suggestion_decide
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.access import access_case_by_id, cases_visible_to
from bankdesk.tickets.models import Case

OUTCOME_DAYS = 90


def personal_panel(customer: Any, user: User) -> Personal | None:
    """What the case or customer page shows of the customer's personalised service (the cases
    decisions were taken on, only where the reader may see them)."""
    if not user.has_perm("customers.view_customer"):
        return None
    shown = personal_of(customer)
    if shown is None:
        return None
    named = [d.case_id for d in shown.decided if d.case_id is not None]
    visible = set(cases_visible_to(user).filter(pk__in=named).values_list("pk", flat=True))
    shown.decided = [
        d if d.case_id in visible else replace(d, case_id=None, case_number="")
        for d in shown.decided
    ]
    return shown


@require_POST
@mfa_required
def suggestion_decide_view(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """Accept or decline a next-best-action, from a case (its customer's) or the customer page."""
    user = request_staff(request)
    if not user.has_perm("personalization.decide_suggestion"):
        raise Http404
    case: Case | None = None
    back = request.POST.get("next", "")
    try:
        case_id = int(request.POST.get("case") or 0)
        if case_id:
            case = access_case_by_id(user, case_id, change=True)
            customer_id = case.customer_id or 0
        else:
            customer_id = access_customer_by_id(
                user, int(request.POST.get("customer") or 0), whole=False
            ).pk
        suggestion_decide(
            suggestion_id=suggestion_id,
            customer_id=customer_id,
            outcome=request.POST.get("outcome", ""),
            actor=user,
            case=case,
        )
    except (NotFound, ValueError) as exc:
        raise Http404 from exc
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
    else:
        accepted = request.POST.get("outcome") == SuggestionStatus.ACCEPTED
        messages.success(
            request,
            _("Suggestion accepted: it counts toward personalised service.")
            if accepted
            else _("Suggestion declined."),
        )
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("console:home")
    return HttpResponseRedirect(back)


@require_GET
@mfa_required
def personal_overview(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    if not user.has_perm("personalization.view_personalization"):
        raise Http404
    now = timezone.now()
    # The reasons of each segment's longest-standing member, read with the segments.
    first_reasons = Membership.objects.filter(segment=OuterRef("pk")).order_by("since", "id")
    segments = [
        {
            "segment": segment,
            "name": segment.shown_name(),
            "members": segment.members,
            "rule": _rule_text(segment),
            "example": [reason_text(r) for r in segment.example or []],
        }
        for segment in Segment.objects.annotate(
            members=Count("memberships"),
            example=Subquery(first_reasons.values("reasons")[:1], output_field=JSONField()),
        ).order_by("kind", "code")
    ]
    plans = [
        {
            "plan": plan,
            "name": named_in(plan.name, plan.name_en),
            "segment": plan.segment.shown_name(),
            "guidance": named_in(plan.guidance, plan.guidance_en),
            "customers": plan.current,
        }
        for plan in ServicePlan.objects.select_related("segment", "team").annotate(
            current=Count("assignments", filter=Q(assignments__ended_at=None))
        )
    ]
    coverage = coverage_at(now)
    outcomes = suggestion_outcomes(now - timedelta(days=OUTCOME_DAYS), now)
    return render(
        request,
        "console/personal.html",
        {
            "segments": segments,
            "plans": plans,
            "coverage": coverage,
            "covered": coverage.covered,
            "active": coverage.active,
            "outcomes": outcomes,
            "outcome_days": OUTCOME_DAYS,
            "can_drill": user.has_perm("analytics.view_dashboard"),
            "can_run_events": user.has_perm("personalization.run_events"),
            "can_change": user.has_perm("personalization.change_plans"),
        },
    )


def _rule_text(segment: Segment) -> str:
    if segment.kind != "rule":
        return _("Computed from holdings and contacts by the background task")
    return rule_text(segment.rule)
