"""Management screen for which resolved cases get a follow-up call, and how soon: the follow-up
rules in the order they are tried. Supervisors and admins change them; auditors read them.
Complaints are followed up whatever the rules say."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from bankdesk.console.manage.common import (
    RuleConditionsForm,
    complaint_value,
    require,
    rule_conditions,
    rule_initial,
)
from bankdesk.console.words import error_text
from bankdesk.feedback.followups import (
    DUE_HOURS_MAX,
    RuleSpec,
    follow_up_rule_save,
)
from bankdesk.feedback.models import FollowUpRule
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required

RULES_READ = "feedback.view_followuprule"
RULES_CHANGE = "feedback.change_followuprule"


class FollowUpRuleForm(RuleConditionsForm):
    follow_up = forms.BooleanField(
        label=gettext_lazy("Call these customers back"), required=False, initial=True
    )
    due_hours = forms.IntegerField(
        label=gettext_lazy("Within (business hours)"),
        min_value=1,
        max_value=DUE_HOURS_MAX,
        initial=24,
        help_text=gettext_lazy("On the case's business calendar, from when it is resolved."),
    )

    def __init__(self, *args: Any, rule: FollowUpRule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, kept_category_id=rule.category_id if rule else None, **kwargs)

    def spec(self) -> RuleSpec:
        data = self.cleaned_data
        return RuleSpec(
            name=data["name"],
            position=data["position"],
            is_active=data["is_active"],
            category=data["category"],
            channel=data["channel"],
            customer_tier=data["customer_tier"],
            is_complaint=complaint_value(data["is_complaint"]),
            follow_up=data["follow_up"],
            due_hours=data["due_hours"],
        )


def _initial(rule: FollowUpRule) -> dict[str, Any]:
    return {
        **rule_initial(rule),
        "follow_up": rule.follow_up,
        "due_hours": rule.due_hours,
    }


def _row(rule: FollowUpRule) -> dict[str, Any]:
    return {"rule": rule, "conditions": rule_conditions(rule)}


@require_GET
@mfa_required
def follow_up_rules(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    require(user, RULES_READ)
    rules = FollowUpRule.objects.select_related("category").order_by("position", "id")
    return render(
        request,
        "console/manage/followup_rules.html",
        {"rows": [_row(rule) for rule in rules], "may_change": user.has_perm(RULES_CHANGE)},
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def follow_up_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    user = request_staff(request)
    require(user, RULES_CHANGE)
    rule = None
    if rule_id is not None:
        rule = FollowUpRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise Http404
    status = 200
    if request.method == "POST":
        form = FollowUpRuleForm(request.POST, rule=rule)
        if form.is_valid():
            try:
                follow_up_rule_save(spec=form.spec(), actor=user, rule=rule)
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Follow-up rule saved."))
                return HttpResponseRedirect(reverse("console:manage_followup_rules"))
        status = 400
    else:
        form = FollowUpRuleForm(initial=_initial(rule) if rule else None, rule=rule)
    return render(
        request,
        "console/manage/followup_rule_form.html",
        {"form": form, "rule": rule},
        status=status,
    )


urlpatterns = [
    path("manage/followups/", follow_up_rules, name="manage_followup_rules"),
    path("manage/followups/new/", follow_up_rule_edit, name="manage_followup_rule_new"),
    path("manage/followups/<int:rule_id>/", follow_up_rule_edit, name="manage_followup_rule"),
]
