"""Management screens for how long a case may take: the SLA policies in the order they are
tried, what cases each applies to, the targets it sets (first response, resolution) with their
warnings, and the escalations when a target's clock reaches its warning or its breach.

Each screen checks what the API checks for the same thing: SLA policies are read by everyone
who deals with cases and written by admins. A change applies to cases opened from then on.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankdesk.console.manage.common import (
    ActiveForm,
    category_label,
    complaint_choices,
    complaint_value,
    complaint_words,
    require,
)
from bankdesk.console.words import error_text
from bankdesk.customers.choices import Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError
from bankdesk.sla.choices import DAY_BASES, EscalationAction, Metric, Threshold, TimeBasis
from bankdesk.sla.errors import PolicyExists
from bankdesk.sla.models import BusinessCalendar, SlaPolicy, SlaTarget
from bankdesk.sla.selectors import policy_list
from bankdesk.sla.services import (
    PAUSABLE_STATUSES,
    EscalationSpec,
    TargetSpec,
    sla_policy_active_set,
    sla_policy_create,
)
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.models import Category

# The API's permissions.
SLA_READ = "sla.view_slapolicy"
SLA_ADD = "sla.add_slapolicy"
SLA_CHANGE = "sla.change_slapolicy"

TARGET_ROWS = 4
ESCALATION_ROWS = 6
MINUTES_MAX = 5_256_000  # SlaTarget.minutes: ten years
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}


def duration_words(minutes: int, basis: str) -> str:
    """A target's time limit as staff say it: "4 working hours", "15 days"."""
    if basis == TimeBasis.WORKING_DAYS:
        days = minutes // (24 * 60)
        return ngettext("%(count)d working day", "%(count)d working days", days) % {"count": days}
    if basis == TimeBasis.BUSINESS:
        if minutes % 60 == 0:
            hours = minutes // 60
            return ngettext("%(count)d working hour", "%(count)d working hours", hours) % {
                "count": hours
            }
        return ngettext("%(count)d working minute", "%(count)d working minutes", minutes) % {
            "count": minutes
        }
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class CategoriesChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return category_label(obj)


class PolicyForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code"),
        max_length=60,
        regex=r"^[-a-z0-9_]+$",
        error_messages={
            "invalid": gettext_lazy("Lower-case letters, digits, hyphens and underscores only.")
        },
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    position = forms.IntegerField(
        label=gettext_lazy("Order"),
        min_value=0,
        max_value=1_000_000,
        initial=100,
        help_text=gettext_lazy(
            "Policies are tried from the lowest number up; the first that fits."
        ),
    )
    categories = CategoriesChoice(
        label=gettext_lazy("Categories"),
        queryset=Category.objects.filter(is_active=True).order_by("code"),
        required=False,
        help_text=gettext_lazy("Any of these and their sub-categories; none chosen: any."),
    )
    priorities = forms.MultipleChoiceField(
        label=gettext_lazy("Priorities"),
        choices=Priority.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"),
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    customer_tiers = forms.MultipleChoiceField(
        label=gettext_lazy("Customer tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_complaint = forms.ChoiceField(label=gettext_lazy("Complaint"), required=False)
    pause_statuses = forms.MultipleChoiceField(
        label=gettext_lazy("Clocks stop while the case is"),
        choices=[(status, CaseStatus(status).label) for status in PAUSABLE_STATUSES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business calendar"),
        queryset=BusinessCalendar.objects.order_by("code"),
        required=False,
        empty_label=gettext_lazy("The calendar of the case's team"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_complaint"].choices = complaint_choices(_("Any"))  # type: ignore[attr-defined]

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if SlaPolicy.objects.filter(code=code).exists():
            raise ValidationError(_("An SLA policy with this code already exists."))
        return code


class TargetForm(forms.Form):
    """One time limit; a row left blank is no target."""

    name = forms.CharField(label=gettext_lazy("Target name"), max_length=120, required=False)
    metric = forms.ChoiceField(
        label=gettext_lazy("Measures"), choices=[("", "—"), *Metric.choices], required=False
    )
    amount = forms.IntegerField(
        label=gettext_lazy("Limit"), min_value=1, max_value=MINUTES_MAX, required=False
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Unit"),
        choices=[
            ("hours", gettext_lazy("hours")),
            ("minutes", gettext_lazy("minutes")),
            ("days", gettext_lazy("days (not for business minutes)")),
        ],
        initial="hours",
    )
    basis = forms.ChoiceField(
        label=gettext_lazy("Counted in"), choices=TimeBasis.choices, initial=TimeBasis.BUSINESS
    )
    warning_percent = forms.IntegerField(
        label=gettext_lazy("Warning at (percentage used)"),
        min_value=1,
        max_value=99,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(field) for field in ("name", "metric", "amount")):
            if not self.errors:
                cleaned["empty"] = True
            return cleaned
        for field in ("name", "metric", "amount"):
            if not cleaned.get(field) and field not in self.errors:
                self.add_error(field, _("A target needs this."))
        amount, unit = cleaned.get("amount"), cleaned.get("unit")
        if amount and unit:
            if unit == "days" and cleaned.get("basis") == TimeBasis.BUSINESS:
                self.add_error(
                    "unit",
                    _(
                        "Working time is given in hours or minutes: a working day's length "
                        "depends on the calendar."
                    ),
                )
            elif unit != "days" and cleaned.get("basis") in DAY_BASES:
                self.add_error("unit", _("A limit counted in days is given in days."))
            elif amount * UNIT_MINUTES[unit] > MINUTES_MAX:
                self.add_error("amount", _("A target is at most ten years."))
            else:
                cleaned["minutes"] = amount * UNIT_MINUTES[unit]
        return cleaned


class EscalationForm(forms.Form):
    """What happens when one target's clock reaches its warning or its breach."""

    target = forms.TypedChoiceField(label=gettext_lazy("Target"), coerce=int, required=False)
    threshold = forms.ChoiceField(
        label=gettext_lazy("When"), choices=[("", "—"), *Threshold.choices], required=False
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Do"), choices=[("", "—"), *EscalationAction.choices], required=False
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team (for reassignment)"),
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="—",
    )
    priority = forms.ChoiceField(label=gettext_lazy("Priority (for raising)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((str(n), _("Target %(number)s") % {"number": n}) for n in range(1, TARGET_ROWS + 1)),
        ]
        self.fields["priority"].choices = [("", _("One step up")), *Priority.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(field) for field in ("target", "threshold", "action")):
            if not self.errors:
                cleaned["empty"] = True
            return cleaned
        for field in ("target", "threshold", "action"):
            if not cleaned.get(field) and field not in self.errors:
                self.add_error(field, _("An escalation needs this."))
        if cleaned.get("action") == EscalationAction.REASSIGN_TEAM and not cleaned.get("team"):
            self.add_error("team", _("Choose the team that takes the case over."))
        return cleaned


# A fixed number of rows, so the page works without script; rows left blank are skipped.
TargetFormSet = forms.formset_factory(
    TargetForm, extra=TARGET_ROWS, max_num=TARGET_ROWS, absolute_max=TARGET_ROWS
)
EscalationFormSet = forms.formset_factory(
    EscalationForm, extra=ESCALATION_ROWS, max_num=ESCALATION_ROWS, absolute_max=ESCALATION_ROWS
)


def _policy_targets(targets: Any, escalations: Any) -> list[TargetSpec] | None:
    """The targets as the service takes them, or None with the errors added to the rows."""
    filled = {
        number: form.cleaned_data
        for number, form in enumerate(targets.forms, start=1)
        if form.cleaned_data and not form.cleaned_data.get("empty")
    }
    per_target: dict[int, list[EscalationSpec]] = {number: [] for number in filled}
    for form in escalations.forms:
        data = form.cleaned_data
        if not data or data.get("empty"):
            continue
        target = filled.get(data["target"])
        if target is None:
            form.add_error("target", _("That target row is empty."))
            continue
        if data["threshold"] == Threshold.WARNING and not target.get("warning_percent"):
            form.add_error("threshold", _("Give the target a warning share first."))
            continue
        action = data["action"]
        per_target[data["target"]].append(
            EscalationSpec(
                threshold=data["threshold"],
                action=action,
                team=data["team"] if action == EscalationAction.REASSIGN_TEAM else None,
                priority=data["priority"] if action == EscalationAction.RAISE_PRIORITY else "",
            )
        )
    names: set[str] = set()
    for number, data in filled.items():
        if data["name"] in names:
            targets.forms[number - 1].add_error("name", _("Another target has this name."))
        names.add(data["name"])
    if not filled:
        targets.forms[0].add_error(None, _("A policy needs at least one target."))
    if not (targets.is_valid() and escalations.is_valid()):
        return None
    return [
        TargetSpec(
            name=data["name"],
            metric=data["metric"],
            minutes=data["minutes"],
            basis=data["basis"],
            warning_percent=data["warning_percent"],
            escalations=tuple(per_target[number]),
        )
        for number, data in filled.items()
    ]


def _target_row(target: SlaTarget) -> dict[str, Any]:
    escalations = []
    for escalation in target.escalations.all():
        then = escalation.get_action_display()
        if escalation.action == EscalationAction.REASSIGN_TEAM and escalation.team is not None:
            then = f"{then}: {escalation.team.name}"
        elif escalation.action == EscalationAction.RAISE_PRIORITY:
            then = f"{then}: " + (
                _("at least %(priority)s") % {"priority": escalation.get_priority_display()}
                if escalation.priority
                else _("one step up")
            )
        escalations.append({"when": escalation.get_threshold_display(), "then": then})
    return {
        "target": target,
        "limit": duration_words(target.minutes, target.basis),
        "extensions": [duration_words(int(m), target.basis) for m in target.extensions],
        "basis": target.get_basis_display(),
        "escalations": escalations,
    }


def _policy_row(policy: SlaPolicy) -> dict[str, Any]:
    conditions = [
        *(category_label(category) for category in policy.categories.all()),
        *(str(Priority(p).label) for p in policy.priorities if p in Priority.values),
        *(str(Channel(c).label) for c in policy.channels if c in Channel.values),
        *(str(Tier(t).label) for t in policy.customer_tiers if t in Tier.values),
        complaint_words(policy.is_complaint),
    ]
    return {
        "policy": policy,
        "conditions": [condition for condition in conditions if condition],
        "pauses": [
            str(CaseStatus(s).label) for s in policy.pause_statuses if s in CaseStatus.values
        ],
        "targets": [_target_row(target) for target in policy.targets.all()],
    }


@require_GET
@mfa_required
def sla_list(request: HttpRequest) -> HttpResponse:
    """The SLA policies in the order they are tried, each with its targets and escalations."""
    user = request_staff(request)
    require(user, SLA_READ)
    policies = (
        policy_list().prefetch_related("targets__escalations__team").order_by("position", "code")
    )
    return render(
        request,
        "console/manage/sla.html",
        {
            "rows": [_policy_row(policy) for policy in policies],
            "may_add": user.has_perm(SLA_ADD),
            "may_change": user.has_perm(SLA_CHANGE),
        },
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def sla_policy_new(request: HttpRequest) -> HttpResponse:
    """Add an SLA policy with its targets and their escalations."""
    user = request_staff(request)
    require(user, SLA_ADD)
    if request.method == "POST":
        form = PolicyForm(request.POST)
        targets = TargetFormSet(request.POST, prefix="targets")
        escalations = EscalationFormSet(request.POST, prefix="escalations")
        valid = [form.is_valid(), targets.is_valid(), escalations.is_valid()]
        if all(valid):
            specs = _policy_targets(targets, escalations)
            if specs is not None:
                data = form.cleaned_data
                try:
                    sla_policy_create(
                        code=data["code"],
                        name=data["name"],
                        position=data["position"],
                        categories=list(data["categories"]),
                        priorities=data["priorities"],
                        channels=data["channels"],
                        customer_tiers=data["customer_tiers"],
                        is_complaint=complaint_value(data["is_complaint"]),
                        pause_statuses=data["pause_statuses"],
                        calendar=data["calendar"],
                        targets=specs,
                        actor=user,
                    )
                except PolicyExists:
                    form.add_error("code", _("An SLA policy with this code already exists."))
                except BankdeskError as exc:
                    form.add_error(None, error_text(exc))
                else:
                    messages.success(
                        request,
                        _("SLA policy saved. It applies to cases opened from now on."),
                    )
                    return HttpResponseRedirect(reverse("console:manage_sla"))
        status = 400
    else:
        form = PolicyForm()
        targets = TargetFormSet(prefix="targets")
        escalations = EscalationFormSet(prefix="escalations")
        status = 200
    return render(
        request,
        "console/manage/sla_form.html",
        {"form": form, "targets": targets, "escalations": escalations},
        status=status,
    )


@require_POST
@mfa_required
def sla_policy_active(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Take a policy out of use, or put it back."""
    user = request_staff(request)
    require(user, SLA_CHANGE)
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise Http404
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Say whether the policy is in use."), status=400)
    is_active = form.cleaned_data["is_active"]
    sla_policy_active_set(policy=policy, is_active=is_active, actor=user)
    if is_active:
        said = _("SLA policy “%(name)s” is in use for cases opened from now on.")
    else:
        said = _(
            "SLA policy “%(name)s” is out of use for cases opened from now on; open cases keep "
            "their clocks."
        )
    messages.success(request, said % {"name": policy.name})
    return HttpResponseRedirect(reverse("console:manage_sla"))


urlpatterns = [
    path("manage/sla/", sla_list, name="manage_sla"),
    path("manage/sla/new/", sla_policy_new, name="manage_sla_new"),
    path("manage/sla/<int:policy_id>/active/", sla_policy_active, name="manage_sla_policy_active"),
]
