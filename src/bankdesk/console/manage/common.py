"""What more than one management screen shares: the permission gate, how categories and the
complaint condition are said on the routing and SLA screens, the in-use switch of a rule or a
policy, and the words for a staff service's refusal on the staff, team and channel screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankdesk.console.words import error_text
from bankdesk.customers.choices import Language, Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError
from bankdesk.lib.languages import active_language
from bankdesk.staff.admin import ROLE_CHANGE_PROBLEMS
from bankdesk.staff.models import User
from bankdesk.tickets.models import Category

YES, NO = "yes", "no"

# What the screens say when a service refuses, by its code, before the console's own words.
PROBLEMS: dict[str, Any] = {
    **ROLE_CHANGE_PROBLEMS,
    "forbidden": gettext_lazy("Your role may not do this."),
    "staff_deactivate_own": gettext_lazy("You cannot deactivate your own account."),
    "mfa_reset_own": gettext_lazy(
        "You cannot reset your own second factor; ask another administrator."
    ),
    "mfa_not_set_up": gettext_lazy("This member of staff has no authenticator to reset."),
    "mfa_reset_reason": gettext_lazy("Say why, in 5 to 500 characters."),
}


def require(user: User, *perms: str) -> None:
    """The API's and the admin screens' permissions, exactly: refused (403) without every one."""
    if not all(user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def problem_text(exc: BankdeskError) -> str:
    said = PROBLEMS.get(exc.code)
    return str(said) if said is not None else error_text(exc)


def category_label(category: Category) -> str:
    if active_language() == Language.EN and category.name_en:
        return category.name_en
    return category.name


def complaint_choices(any_label: str) -> list[tuple[str, str]]:
    return [("", any_label), (YES, _("Only complaints")), (NO, _("Only other cases"))]


def complaint_value(choice: str) -> bool | None:
    return {YES: True, NO: False}.get(choice)


def complaint_words(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Only complaints") if value else _("Only other cases")


class ActiveForm(forms.Form):
    is_active = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1"
    )


def rule_initial(rule: Any) -> dict[str, Any]:
    """What `RuleConditionsForm` shows of a rule that has its fields."""
    complaint = "" if rule.is_complaint is None else (YES if rule.is_complaint else NO)
    return {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "category": rule.category_id,
        "channel": rule.channel,
        "customer_tier": rule.customer_tier,
        "is_complaint": complaint,
    }


def rule_conditions(rule: Any, *extra: str) -> list[str]:
    """A rule's conditions in words, each that it has (`extra`: more of the rule's own)."""
    said = [
        category_label(rule.category) if rule.category else "",
        rule.get_channel_display() if rule.channel else "",
        *extra,
        rule.get_customer_tier_display() if rule.customer_tier else "",
        complaint_words(rule.is_complaint),
    ]
    return [condition for condition in said if condition]


class CategoryChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return category_label(obj)


class RuleConditionsForm(forms.Form):
    """What a rule tried in order has (its name, order and whether it is in use) and the
    conditions it matches a case on; the routing and follow-up rule forms build on it."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    position = forms.IntegerField(
        label=gettext_lazy("Order"),
        min_value=0,
        max_value=2_147_483_647,  # PositiveIntegerField's ceiling on every database
        initial=100,
        help_text=gettext_lazy("Rules are tried from the lowest number up; the first that fits."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)
    category = CategoryChoice(
        label=gettext_lazy("Category"),
        queryset=Category.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any"),
        help_text=gettext_lazy("Its sub-categories too."),
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    customer_tier = forms.ChoiceField(label=gettext_lazy("Customer tier"), required=False)
    is_complaint = forms.ChoiceField(label=gettext_lazy("Complaint"), required=False)

    def __init__(self, *args: Any, kept_category_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A category retired since the rule was written stays choosable on that rule only.
        kept = Q(pk=kept_category_id) if kept_category_id else Q(pk=None)
        self.fields["category"].queryset = Category.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | kept
        ).order_by("code")
        any_ = _("Any")
        self.fields["channel"].choices = [("", any_), *Channel.choices]  # type: ignore[attr-defined]
        self.fields["customer_tier"].choices = [("", any_), *Tier.choices]  # type: ignore[attr-defined]
        self.fields["is_complaint"].choices = complaint_choices(any_)  # type: ignore[attr-defined]
