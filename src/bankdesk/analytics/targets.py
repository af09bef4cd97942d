"""The plan's targets, kept by administrators at /manage/targets/: the value an indicator should
reach, which way is better, and for CSAT's change the baseline quarter. Every change is
audited; supervisors, the complaint team and auditors read them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods

from bankdesk.analytics.catalogue import BY_CODE, KPIS, target_text
from bankdesk.analytics.models import Direction, Target
from bankdesk.analytics.periods import quarter_period
from bankdesk.console.manage.common import require
from bankdesk.console.words import error_text
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User

TARGETS_READ = "analytics.view_target"
TARGETS_CHANGE = "analytics.change_target"
LIMIT = Decimal("1000000")


@dataclass(frozen=True)
class TargetSpec:
    code: str
    value: Decimal
    direction: str
    baseline_quarter: str = ""
    in_plan: bool = False


def target_save(*, spec: TargetSpec, actor: User) -> Target:
    """Set (or add) the target of one indicator."""
    kpi = BY_CODE.get(spec.code)
    if kpi is None:
        raise InvalidInput("unknown indicator", field="code")
    if spec.direction not in Direction.values:
        raise InvalidInput("the direction is higher or lower", field="direction")
    if not spec.value.is_finite() or abs(spec.value) >= LIMIT:
        raise InvalidInput("the target is a number below a million", field="value")
    if kpi.unit == "percent" and not Decimal(0) <= spec.value <= Decimal(100):
        raise InvalidInput("a percentage is between 0 and 100", field="value")
    baseline = spec.baseline_quarter.strip().upper()
    if baseline:
        if spec.code != "csat_change":
            raise InvalidInput(
                "only CSAT's change has a baseline quarter", field="baseline_quarter"
            )
        quarter_period(baseline)  # refuses what is not a quarter
    with transaction.atomic():
        target, created = Target.objects.select_for_update().get_or_create(
            code=spec.code,
            defaults={"value": spec.value, "direction": spec.direction, "in_plan": spec.in_plan},
        )
        target.value = spec.value.quantize(Decimal("0.01"))
        target.direction = spec.direction
        target.baseline_quarter = baseline
        if created:
            target.in_plan = spec.in_plan
        target.updated_by = actor
        target.updated_at = timezone.now()
        target.save()
        audit_record(
            actor=actor,
            action="analytics.target_created" if created else "analytics.target_changed",
            target=target,
            fields=("value", "direction", "baseline_quarter"),
        )
    return target


def target_remove(*, code: str, actor: User) -> None:
    with transaction.atomic():
        target = Target.objects.select_for_update().filter(code=code).first()
        if target is None:
            raise InvalidInput("no target for this indicator", field="code")
        if target.in_plan:
            raise InvalidInput("the plan's own targets stay; change their value", field="code")
        audit_record(actor=actor, action="analytics.target_removed", target=target)
        target.delete()


class TargetForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Indicator"))
    value = forms.DecimalField(
        label=pgettext_lazy("indicator", "Target"), max_digits=10, decimal_places=2
    )
    direction = forms.ChoiceField(label=gettext_lazy("Better when"), choices=Direction.choices)
    baseline_quarter = forms.CharField(
        label=gettext_lazy("Baseline quarter"),
        required=False,
        max_length=6,
        help_text=gettext_lazy("CSAT's change only, like 2025Q4; empty: a year before."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        assert isinstance(code, forms.ChoiceField)
        code.choices = [(kpi.code, _name(kpi.code)) for kpi in KPIS if kpi.measurable]


def _name(code: str) -> str:
    kpi = BY_CODE[code]
    suffix = " p90" if code.endswith("_p90") else _(" (median)") if code.endswith("_p50") else ""
    return f"{kpi.name}{suffix}"


@require_http_methods(["GET", "POST"])
@mfa_required
def targets_screen(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    require(user, TARGETS_READ)
    may_change = user.has_perm(TARGETS_CHANGE)
    form = TargetForm()
    status = 200
    problem = ""
    if request.method == "POST":
        require(user, TARGETS_CHANGE)
        try:
            if request.POST.get("action") == "remove":
                target_remove(code=request.POST.get("code", "")[:60], actor=user)
                messages.success(request, _("Target removed."))
                return HttpResponseRedirect(request.path)
            form = TargetForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                target_save(
                    spec=TargetSpec(
                        code=data["code"],
                        value=data["value"],
                        direction=data["direction"],
                        baseline_quarter=data["baseline_quarter"],
                    ),
                    actor=user,
                )
                messages.success(request, _("Target saved."))
                return HttpResponseRedirect(request.path)
        except (BankdeskError, InvalidOperation) as exc:
            problem = error_text(exc) if isinstance(exc, BankdeskError) else str(exc)
        status = 400
    rows = [
        {
            "target": target,
            "name": _name(target.code) if target.code in BY_CODE else target.code,
            "text": target_text(BY_CODE[target.code], target) if target.code in BY_CODE else "",
        }
        for target in Target.objects.select_related("updated_by").order_by("-in_plan", "code")
    ]
    return render(
        request,
        "analytics/targets.html",
        {"rows": rows, "form": form, "may_change": may_change, "problem": problem},
        status=status,
    )
