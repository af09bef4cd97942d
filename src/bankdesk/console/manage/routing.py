"""Management screens for where a new case goes: the routing rules in the order they are tried,
what each matches (category, channel, language, customer tier, complaint) and the team and way
of assigning it sends the case to.

Each screen checks what the API checks: routing rules are read by supervisors, admins and
auditors; supervisors and admins add them and change, disable or put back the ones there are.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankdesk.console.manage.common import (
    ActiveForm,
    RuleConditionsForm,
    complaint_value,
    require,
    rule_conditions,
    rule_initial,
)
from bankdesk.console.words import error_text
from bankdesk.customers.choices import Language
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Skill, Team
from bankdesk.tickets.choices import RoutingStrategy
from bankdesk.tickets.models import RoutingRule
from bankdesk.tickets.routing_rules import (
    routing_rule_active_set,
    routing_rule_create,
    routing_rule_list,
    routing_rule_update,
)

# The API's permissions.
ROUTING_READ = "tickets.view_routingrule"
ROUTING_ADD = "tickets.add_routingrule"
ROUTING_CHANGE = "tickets.change_routingrule"


class RoutingRuleForm(RuleConditionsForm):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    team = forms.ModelChoiceField(
        label=gettext_lazy("Send to team"), queryset=Team.objects.order_by("name")
    )
    strategy = forms.ChoiceField(
        label=gettext_lazy("Then"),
        choices=RoutingStrategy.choices,
        initial=RoutingStrategy.LEAST_LOADED,
    )
    required_skills = forms.ModelMultipleChoiceField(
        label=gettext_lazy("The assignee must hold"),
        queryset=Skill.objects.order_by("kind", "name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    match_language_skill = forms.BooleanField(
        label=gettext_lazy("The assignee must speak the case's language"), required=False
    )

    field_order = [
        *("name", "position", "is_active", "category", "channel", "language"),
        *("customer_tier", "is_complaint", "team", "strategy", "required_skills"),
        "match_language_skill",
    ]

    def __init__(self, *args: Any, rule: RoutingRule | None = None, **kwargs: Any) -> None:
        super().__init__(*args, kept_category_id=rule.category_id if rule else None, **kwargs)
        any_ = _("Any")
        self.fields["language"].choices = [("", any_), *Language.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("strategy") == RoutingStrategy.MANUAL:
            # A queue-only rule picks nobody, so a requirement on the person is never checked.
            if cleaned.get("required_skills"):
                self.add_error("required_skills", _("A queue-only rule assigns nobody."))
            if cleaned.get("match_language_skill"):
                self.add_error("match_language_skill", _("A queue-only rule assigns nobody."))
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "position": data["position"],
            "is_active": data["is_active"],
            "category": data["category"],
            "channel": data["channel"],
            "language": data["language"],
            "customer_tier": data["customer_tier"],
            "is_complaint": complaint_value(data["is_complaint"]),
            "team": data["team"],
            "strategy": data["strategy"],
            "required_skills": list(data["required_skills"]),
            "match_language_skill": data["match_language_skill"],
        }


def _rule_initial(rule: RoutingRule) -> dict[str, Any]:
    return {
        **rule_initial(rule),
        "language": rule.language,
        "team": rule.team_id,
        "strategy": rule.strategy,
        "required_skills": list(rule.required_skills.values_list("pk", flat=True)),
        "match_language_skill": rule.match_language_skill,
    }


def _rule_row(rule: RoutingRule) -> dict[str, Any]:
    language = rule.get_language_display() if rule.language else ""
    return {
        "rule": rule,
        "conditions": rule_conditions(rule, language),
        "skills": [skill.name for skill in rule.required_skills.all()],
    }


@require_GET
@mfa_required
def routing_list(request: HttpRequest) -> HttpResponse:
    """The routing rules in the order they are tried, with what each matches and does."""
    user = request_staff(request)
    require(user, ROUTING_READ)
    rules = [_rule_row(rule) for rule in routing_rule_list().order_by("position", "id")]
    may_add, may_change = user.has_perm(ROUTING_ADD), user.has_perm(ROUTING_CHANGE)
    return render(
        request,
        "console/manage/routing.html",
        {
            "rows": rules,
            "may_add": may_add,
            "may_change": may_change,
            # routing.html still draws "New routing rule" and each rule's Change and Disable from
            # this one flag; until it reads the two above, they show only to whoever holds both.
        },
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def routing_rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    """Add a routing rule, or change one."""
    user = request_staff(request)
    require(user, ROUTING_ADD if rule_id is None else ROUTING_CHANGE)
    rule = None
    if rule_id is not None:
        rule = RoutingRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise Http404
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, rule=rule)
        if form.is_valid():
            try:
                if rule is None:
                    routing_rule_create(actor=user, **form.service_arguments())
                else:
                    routing_rule_update(rule=rule, actor=user, **form.service_arguments())
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Routing rule saved."))
                return HttpResponseRedirect(reverse("console:manage_routing"))
        status = 400
    else:
        form = RoutingRuleForm(initial=_rule_initial(rule) if rule else None, rule=rule)
        status = 200
    return render(
        request, "console/manage/routing_form.html", {"form": form, "rule": rule}, status=status
    )


@require_POST
@mfa_required
def routing_rule_active(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Take a rule out of routing, or put it back."""
    user = request_staff(request)
    require(user, ROUTING_CHANGE)
    rule = RoutingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    form = ActiveForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Say whether the rule is in use."), status=400)
    is_active = form.cleaned_data["is_active"]
    routing_rule_active_set(rule=rule, is_active=is_active, actor=user)
    if is_active:
        messages.success(request, _("Routing rule “%(name)s” is in use.") % {"name": rule.name})
    else:
        messages.success(request, _("Routing rule “%(name)s” is disabled.") % {"name": rule.name})
    return HttpResponseRedirect(reverse("console:manage_routing"))


urlpatterns = [
    path("manage/routing/", routing_list, name="manage_routing"),
    path("manage/routing/new/", routing_rule_edit, name="manage_routing_new"),
    path("manage/routing/<int:rule_id>/", routing_rule_edit, name="manage_routing_rule"),
    path(
        "manage/routing/<int:rule_id>/active/",
        routing_rule_active,
        name="manage_routing_rule_active",
    ),
]
