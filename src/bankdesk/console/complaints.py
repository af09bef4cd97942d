"""Complaints in the console: the complaint panel of a complaint case's workspace (its record
and the next steps of the process) and the complaint register at /complaints/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bankdesk.complaints.choices import (
    MOVES,
    ClassKind,
    ComplaintStatus,
    CustomerResponse,
    Step,
)
from bankdesk.complaints.extensions import (
    APPROVE,
    DAY_MINUTES,
    complaint_extension_decide,
    complaint_extension_request,
    statutory_clocks,
)
from bankdesk.complaints.models import Complaint, ComplaintClass, ComplaintExtension
from bankdesk.complaints.selectors import closure_within_24h
from bankdesk.complaints.services import (
    Details,
    complaint_acknowledge,
    complaint_classify,
    complaint_close,
    complaint_decide,
    complaint_details_set,
    complaint_investigate,
    complaint_owner_set,
    complaint_reopen,
    complaint_response_record,
)
from bankdesk.console.complaint_hotspots import register_filter
from bankdesk.console.words import error_text
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.sla.extensions import clock_extendable, clock_next_limit
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.access import access_case_by_id, cases_visible_to
from bankdesk.tickets.models import Case
from bankdesk.tickets.recusal import recused_staff

REGISTER_SHOWN = 100
EXTENSION_DECIDED = "extension_decided"  # the panel's form for a supervisor's decision


def complaint_panel(
    case: Case, user: User, typed: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """What the workspace shows of a complaint case's record, and which steps it offers."""
    if not case.is_complaint or not user.has_perm("complaints.view_complaint"):
        return None
    complaint = (
        Complaint.objects.filter(case=case)
        .select_related(
            "owner", "product", "issue", "cause", "suggested_product", "suggested_issue"
        )
        .first()
    )
    if complaint is None:
        return None
    may_act = user.has_perm("complaints.change_complaint") and user.has_perm(
        "tickets.change_case", case
    )
    steps = [step for step, (allowed, _to) in MOVES.items() if complaint.status in allowed]
    recused = recused_staff(case)
    owners = (
        [
            person
            for person in User.objects.filter(teams__is_complaint_team=True, is_active=True)
            .distinct()
            .order_by("username")
            if person.pk not in recused
        ]
        if may_act
        else []
    )
    classes: dict[str, list[ComplaintClass]] = {kind: [] for kind in ClassKind.values}
    if may_act:
        for node in ComplaintClass.objects.filter(is_active=True).order_by("code"):
            classes[node.kind].append(node)
    return {
        "record": complaint,
        "may_act": may_act,
        "steps": steps,
        "owners": owners,
        "recused": User.objects.filter(pk__in=recused).order_by("username") if recused else [],
        "products": classes[ClassKind.PRODUCT],
        "issues": classes[ClassKind.ISSUE],
        "causes": classes[ClassKind.CAUSE],
        "responses": CustomerResponse.choices,
        "typed": typed or {},
        "closed_within_24h": complaint.closed_within_24h,
        "deadlines": _deadlines(complaint),
        "extensions": list(
            complaint.extensions.select_related("clock", "requested_by", "decided_by")
        ),
        "may_approve": user.has_perm(APPROVE),
        "user_id": user.pk,
    }


def _deadlines(complaint: Complaint) -> list[dict[str, Any]]:
    """The regulator's deadlines on the complaint: where each stands and how far it could be
    extended."""
    rows = []
    for clock in statutory_clocks(complaint):
        limit = clock_next_limit(clock)
        rows.append(
            {
                "clock": clock,
                "regulator": clock.target.policy.regulator,
                "days": clock.minutes // DAY_MINUTES,
                "next_days": limit // DAY_MINUTES if limit else None,
                "extendable": not clock_extendable(clock),
            }
        )
    return rows


def _class(raw: str, kind: str) -> ComplaintClass | None:
    if not raw:
        return None
    node = ComplaintClass.objects.filter(pk=int(raw), kind=kind).first() if raw.isdigit() else None
    if node is None:
        raise InvalidInput("choose from the list", field=kind)
    return node


def _amount(raw: str) -> Decimal | None:
    raw = raw.strip().replace(",", "")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation as exc:
        raise InvalidInput("the disputed amount is a number", field="disputed_amount") from exc


def _take(step: str, complaint: Complaint, data: Any, user: User) -> None:
    if step == Step.OWNER:
        raw = data.get("owner", "")
        owner = User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if owner is None:
            raise InvalidInput("choose the owner", field="owner_id")
        complaint_owner_set(complaint=complaint, owner=owner, actor=user)
    elif step == Step.DETAILS:
        details = Details(
            demand=data.get("demand", ""),
            disputed_amount=_amount(data.get("disputed_amount", "")),
            regulator_forwarded=data.get("regulator_forwarded") == "on",
            regulator_reference=data.get("regulator_reference", ""),
        )
        complaint_details_set(complaint=complaint, details=details, actor=user)
    elif step == Step.CLASSIFIED:
        complaint_classify(
            complaint=complaint,
            product=_class(data.get("product", ""), ClassKind.PRODUCT),
            issue=_class(data.get("issue", ""), ClassKind.ISSUE),
            cause=_class(data.get("cause", ""), ClassKind.CAUSE),
            actor=user,
        )
    elif step == Step.ACKNOWLEDGED:
        complaint_acknowledge(complaint=complaint, actor=user)
    elif step == Step.INVESTIGATING:
        complaint_investigate(complaint=complaint, actor=user)
    elif step == Step.DECIDED:
        complaint_decide(
            complaint=complaint,
            decision=data.get("decision", ""),
            remedy=data.get("remedy", ""),
            actor=user,
        )
    elif step == Step.RESPONSE:
        complaint_response_record(
            complaint=complaint, response=data.get("response", ""), actor=user
        )
    elif step == Step.CLOSED:
        complaint_close(complaint=complaint, actor=user)
    elif step == Step.REOPENED:
        complaint_reopen(complaint=complaint, reason=data.get("reason", ""), actor=user)
    elif step == Step.EXTENSION_REQUESTED:
        clock = next(
            (c for c in statutory_clocks(complaint) if str(c.pk) == data.get("clock", "")), None
        )
        if clock is None:
            raise InvalidInput("choose the deadline to extend", field="clock_id")
        complaint_extension_request(
            complaint=complaint, clock=clock, reason=data.get("reason", ""), actor=user
        )
    elif step == EXTENSION_DECIDED:
        raw = data.get("extension", "")
        extension = (
            ComplaintExtension.objects.filter(pk=int(raw), complaint=complaint).first()
            if raw.isdigit()
            else None
        )
        if extension is None or data.get("decision") not in {"approve", "refuse"}:
            raise InvalidInput("choose the extension, then approve or refuse it",
                               field="extension_id")  # fmt: skip
        complaint_extension_decide(
            extension=extension,
            approve=data.get("decision") == "approve",
            note=data.get("note", ""),
            actor=user,
        )
    else:
        raise InvalidInput("unknown step", field="step")


@require_POST
@mfa_required
def complaint_step(request: HttpRequest, case_id: int) -> HttpResponse:
    """Take one step of the case's complaint. A refused step says why and keeps what was typed."""
    from bankdesk.console.cases import workspace_page

    user = request_staff(request)
    try:
        case = access_case_by_id(user, case_id, change=True)
    except BankdeskError as exc:
        raise PermissionDenied from exc
    if not user.has_perm("complaints.change_complaint"):
        raise PermissionDenied
    complaint = Complaint.objects.filter(case=case).first()
    if complaint is None:
        raise PermissionDenied
    step = request.POST.get("step", "")
    try:
        _take(step, complaint, request.POST, user)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return workspace_page(
            request,
            Case.objects.get(pk=case.pk),
            complaint_typed={
                key: request.POST.get(key, "")
                for key in request.POST
                if key != "csrfmiddlewaretoken"
            },
            status=400 if exc.status == 422 else exc.status,  # a form's refusal is a 400
        )
    messages.success(request, _("The complaint is updated."))
    return HttpResponseRedirect(reverse("console:case_live", args=[case.pk]))


@require_GET
@mfa_required
def complaint_register(request: HttpRequest) -> HttpResponse:
    """The complaints the reader may see, newest first, with their owner, state, deadline
    and whether they closed within the plan's 24 hours."""
    user = request_staff(request)
    if not user.has_perm("complaints.view_complaint"):
        raise PermissionDenied
    status = request.GET.get("status", "")
    mine = request.GET.get("owner") == "me"
    records = Complaint.objects.filter(case__in=cases_visible_to(user)).select_related(
        "case", "owner", "product", "issue"
    )
    if status in ComplaintStatus.values:
        records = records.filter(status=status)
    if mine:
        records = records.filter(owner=user)
    try:  # the complaints of one hotspot, as its count links here (console/complaint_hotspots.py)
        records, hotspot = register_filter(request.GET, records, user)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        records, hotspot = records.none(), None
    shown = list(records.order_by("-received_at", "-id")[:REGISTER_SHOWN])
    now = timezone.now()
    ratio = closure_within_24h(
        Complaint.objects.filter(case__in=cases_visible_to(user)),
        since=now - timedelta(days=30),
        until=now,
    )
    return render(
        request,
        "console/complaints.html",
        {
            "records": shown,
            "statuses": ComplaintStatus.choices,
            "status": status,
            "mine": mine,
            "closed_30_days": ratio.total,
            "within_24h": ratio.within,
            "ratio": ratio.percent,
            "shown": REGISTER_SHOWN,
            "hotspot": hotspot,
            "export_from": request.GET.get("from", ""),
            "export_to": request.GET.get("to", ""),
        },
    )
