"""Management screens for personalised service: a rule segment's conditions (new or changed)
and a service plan's handling. Administrators change them (audited); the next background run
moves customers between segments and plans. The overview at /personal/ lists both."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bankdesk.console.manage.common import require
from bankdesk.console.words import error_text
from bankdesk.customers.choices import AccessibilityNeed, HoldingKind, LifeEventKind, Tier
from bankdesk.customers.choices import Segment as Line
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError
from bankdesk.personalization.models import Segment, ServicePlan
from bankdesk.personalization.segments import AGE_MAX, COUNT_MAX
from bankdesk.personalization.services import GUIDANCE_MAX, plan_change, segment_save
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import Priority

CHANGE = "personalization.change_plans"
_LISTS = {
    "tiers": (gettext_lazy("Tier is one of"), Tier.choices),
    "lines": (gettext_lazy("Business line is one of"), Line.choices),
    "holds": (gettext_lazy("Holds one of"), HoldingKind.choices),
    "channels": (gettext_lazy("Most contacts by one of"), Channel.choices),
    "life_events": (gettext_lazy("Life event recorded"), LifeEventKind.choices),
    "accessibility": (gettext_lazy("Needs one of"), AccessibilityNeed.choices),
}
_NUMBERS = {
    "age_min": (gettext_lazy("Age at least"), AGE_MAX),
    "age_max": (gettext_lazy("Age at most"), AGE_MAX),
    "products_min": (gettext_lazy("At least this many products"), COUNT_MAX),
    "complaints_min": (gettext_lazy("At least this many complaints in the last year"), COUNT_MAX),
    "life_event_days": (gettext_lazy("Life event within (days)"), 3660),
}


class SegmentForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=40, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    name_en = forms.CharField(label=gettext_lazy("English name"), max_length=120, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, (label, choices) in _LISTS.items():
            self.fields[key] = forms.MultipleChoiceField(
                label=label,
                choices=choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        for key, (label, top) in _NUMBERS.items():
            self.fields[key] = forms.IntegerField(
                label=label, min_value=0, max_value=top, required=False
            )

    def rule(self) -> dict[str, Any]:
        data = self.cleaned_data
        rule: dict[str, Any] = {key: data[key] for key in _LISTS if data.get(key)}
        rule |= {key: data[key] for key in _NUMBERS if data.get(key) is not None}
        return rule


class PlanForm(forms.Form):
    team = forms.ModelChoiceField(
        label=gettext_lazy("Their cases join the queue of"),
        queryset=Team.objects.order_by("name"),
        required=False,
    )
    to_relationship_manager = forms.BooleanField(
        label=gettext_lazy("Relationship manager first"), required=False
    )
    priority = forms.ChoiceField(
        label=gettext_lazy("Priority at least"),
        choices=[("", "—"), *Priority.choices],
        required=False,
    )
    guidance = forms.CharField(
        label=gettext_lazy("What the agent is told"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=GUIDANCE_MAX,
        required=False,
    )
    guidance_en = forms.CharField(
        label=gettext_lazy("In English"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=GUIDANCE_MAX,
        required=False,
    )
    position = forms.IntegerField(
        label=gettext_lazy("Order"),
        min_value=0,
        max_value=100_000,
        help_text=gettext_lazy("A customer in several segments gets the plan lowest in order."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False)


def _segment_initial(segment: Segment) -> dict[str, Any]:
    return {
        "code": segment.code,
        "name": segment.name,
        "name_en": segment.name_en,
        "is_active": segment.is_active,
        **segment.rule,
    }


@require_http_methods(["GET", "POST"])
@mfa_required
def segment_edit(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    user = request_staff(request)
    require(user, CHANGE)
    segment = None
    if segment_id is not None:
        segment = Segment.objects.filter(pk=segment_id).first()
        if segment is None:
            raise Http404
    status = 200
    if request.method == "POST":
        form = SegmentForm(request.POST)
        if form.is_valid():
            try:
                segment_save(
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                    name_en=form.cleaned_data["name_en"],
                    rule=form.rule(),
                    is_active=form.cleaned_data["is_active"],
                    actor=user,
                    segment=segment,
                )
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Segment saved: the next refresh moves its customers."))
                return HttpResponseRedirect(reverse("console:personal"))
        status = 400
    else:
        form = SegmentForm(initial=_segment_initial(segment) if segment else None)
    return render(
        request,
        "console/manage/segment_form.html",
        {"form": form, "segment": segment, "lists": list(_LISTS), "numbers": list(_NUMBERS)},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def plan_edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    user = request_staff(request)
    require(user, CHANGE)
    plan = ServicePlan.objects.select_related("segment").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = PlanForm(request.POST)
        if form.is_valid():
            try:
                plan_change(plan=plan, fields=dict(form.cleaned_data), actor=user)
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Service plan saved."))
                return HttpResponseRedirect(reverse("console:personal"))
        status = 400
    else:
        form = PlanForm(
            initial={
                "team": plan.team,
                "to_relationship_manager": plan.to_relationship_manager,
                "priority": plan.priority,
                "guidance": plan.guidance,
                "guidance_en": plan.guidance_en,
                "position": plan.position,
                "is_active": plan.is_active,
            }
        )
    return render(
        request, "console/manage/plan_form.html", {"form": form, "plan": plan}, status=status
    )


urlpatterns = [
    path("manage/segments/new/", segment_edit, name="manage_segment_new"),
    path("manage/segments/<int:segment_id>/", segment_edit, name="manage_segment"),
    path("manage/plans/<int:plan_id>/", plan_edit, name="manage_plan"),
]
