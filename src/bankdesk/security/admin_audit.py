"""Configuration edited in the admin screens joins the audit chain, like every other change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from bankdesk.security.audit import audit_record

# Where construct_change_message leaves the changed fields' names for log_addition/log_change,
# on the request being served (a ModelAdmin is shared by every request).
_CHANGED_FIELDS = "_bankdesk_admin_changed_fields"


def _fields(message: Any) -> list[str]:
    """Field labels (and inline objects) out of the admin's structured change message: only
    for a change logged without a form to name its fields."""
    names: list[str] = []
    for item in message if isinstance(message, list) else []:
        for kind, detail in item.items():
            if kind == "changed":
                names += [str(field) for field in detail.get("fields", [])]
                if "name" in detail:
                    names.append(str(detail["name"]))
            elif "name" in detail:
                names.append(f"{kind} {detail['name']}")
    return names


def _changed_fields(form: Any, formsets: Any) -> list[str]:
    """The names of the fields a form changed, and the related rows (by their relation's name,
    e.g. `channel_capacities`) its inline formsets added, changed or deleted. Names, never
    values, as on every audit entry."""
    names = [str(name) for name in getattr(form, "changed_data", [])]
    for formset in formsets or ():
        if formset.new_objects or formset.changed_objects or formset.deleted_objects:
            names.append(formset.prefix)
    return names


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions are also audit entries, in the
    transaction of the change (the admin's add, change and delete views each run in one)."""

    def _audit(self, request: HttpRequest, obj: models.Model, verb: str, fields: list[str]) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.admin_{verb}",
                target=obj,
                fields=fields,
            )

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        setattr(request, _CHANGED_FIELDS, _changed_fields(form, formsets))
        return super().construct_change_message(request, form, formsets, add)

    def _logged_fields(self, request: HttpRequest, message: Any) -> list[str]:
        return getattr(request, _CHANGED_FIELDS, None) or _fields(message)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "add", self._logged_fields(request, message) or ["*"])
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "change", self._logged_fields(request, message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            self._audit(request, obj, "delete", ["*"])
        return super().log_deletions(request, queryset)
