"""Macros: canned replies with placeholders, in the case's language, and the field changes
that go with them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from bankdesk.lib.errors import InvalidInput, PermissionDenied
from bankdesk.lib.languages import Language
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.staff.predicates import assigns_cases
from bankdesk.tickets import services
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.models import Case, Macro

# The placeholders a macro's text may hold; anything else in braces is left as written.
PLACEHOLDERS = ("customer_name", "case_number", "agent")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
TEXT_MAX = 4000


def macros_for(user: User) -> QuerySet[Macro]:
    """The macros `user` may use: the shared ones and their own."""
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True).order_by(
        "name"
    )


def macro_text(macro: Macro, case: Case, agent: User) -> str:
    """The macro's text in the case's language (Simplified Chinese when that one is missing),
    placeholders filled for this case."""
    by_language: dict[str, str] = {
        Language.ZH_HANT: macro.text_zh_hant,
        Language.EN: macro.text_en,
    }
    text = by_language.get(case.language, "") or macro.text_zh_hans
    values = {
        "customer_name": case.customer.name if case.customer else "",
        "case_number": case.number,
        "agent": agent.get_full_name() or agent.get_username(),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


@dataclass(frozen=True)
class MacroSpec:
    name: str
    text_zh_hans: str
    text_zh_hant: str = ""
    text_en: str = ""
    set_status: str = ""
    set_priority: str = ""
    add_tag: str = ""
    shared: bool = False


def _check(spec: MacroSpec) -> None:
    if not spec.name.strip():
        raise InvalidInput("give the macro a name", field="name")
    if not spec.text_zh_hans.strip():
        raise InvalidInput("write the macro's Simplified Chinese text", field="text_zh_hans")
    for field in ("text_zh_hans", "text_zh_hant", "text_en"):
        if len(getattr(spec, field)) > TEXT_MAX:
            raise InvalidInput(f"at most {TEXT_MAX} characters", field=field)
    if spec.set_status and spec.set_status not in CaseStatus.values:
        raise InvalidInput("unknown status", field="set_status")
    if spec.set_priority and spec.set_priority not in Priority.values:
        raise InvalidInput("unknown priority", field="set_priority")


@transaction.atomic
def macro_save(*, spec: MacroSpec, actor: User | None, macro: Macro | None = None) -> Macro:
    """Create or change a macro. Shared macros are kept by supervisors and complaint officers;
    a personal one only by its owner. Without an actor (the demo bank's seed) it is shared."""
    _check(spec)
    if actor is not None:
        if spec.shared and not assigns_cases(actor):
            raise PermissionDenied("only supervisors keep shared macros")
        if macro is not None and not macro_may_change(macro, actor):
            raise PermissionDenied("this macro is someone else's")
    macro = macro or Macro()
    for field in ("name", "text_zh_hans", "text_zh_hant", "text_en", "add_tag"):
        setattr(macro, field, getattr(spec, field).strip())
    macro.set_status, macro.set_priority = spec.set_status, spec.set_priority
    macro.owner = None if spec.shared or actor is None else actor
    macro.save()
    audit_record(actor=actor, action="macro.save", target=macro, fields=["name", "text"])
    return macro


def macro_may_change(macro: Macro, user: User) -> bool:
    return macro.owner_id == user.pk if macro.owner_id else bool(assigns_cases(user))


@transaction.atomic
def macro_apply(*, macro: Macro, case: Case, actor: User) -> Case:
    """The changes that go with a macro's reply, each recorded as its own change of the case."""
    if macro.set_priority and macro.set_priority != case.priority:
        case = services.case_priority_change(case=case, priority=macro.set_priority, actor=actor)
    if macro.add_tag:
        names = list(case.tags.values_list("name", flat=True))
        if macro.add_tag not in names:
            case = services.case_tags_set(case=case, tags=[*names, macro.add_tag], actor=actor)
    if macro.set_status and macro.set_status != case.status:
        case = services.case_status_change(case=case, status=macro.set_status, actor=actor)
    return case
