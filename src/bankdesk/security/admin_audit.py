"""Configuration edited in the admin screens joins the audit chain, like every other change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from bankdesk.security.audit import audit_record


def _fields(message: Any) -> list[str]:
    """Field names (and inline objects) out of the admin's structured change message."""
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


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose additions, changes and deletions are also audit entries."""

    def _audit(self, request: HttpRequest, obj: models.Model, verb: str, fields: list[str]) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.admin_{verb}",
                target=obj,
                fields=fields,
            )

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "add", _fields(message) or ["*"])
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, obj, "change", _fields(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        for obj in queryset:
            self._audit(request, obj, "delete", ["*"])
        return super().log_deletions(request, queryset)
