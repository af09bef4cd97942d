"""Channel endpoints in the admin screens: settings in the open, secrets written but never shown."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.security.admin_audit import AuditedModelAdmin


class ChannelEndpointForm(forms.ModelForm):
    new_secrets = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="A JSON object of tokens, passwords and keys. Leave empty to keep the current "
        "ones; they are stored encrypted and never shown again.",
    )

    class Meta:
        model = ChannelEndpoint
        fields = ("code", "channel", "name", "is_active", "settings")

    def clean_new_secrets(self) -> str:
        raw: str = self.cleaned_data.get("new_secrets") or ""
        if not raw.strip():
            return ""
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError("Secrets must be a JSON object.") from exc
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Secrets must be a JSON object.")
        return json.dumps(parsed)

    def save(self, commit: bool = True) -> ChannelEndpoint:
        endpoint: ChannelEndpoint = super().save(commit=False)
        if self.cleaned_data.get("new_secrets"):
            endpoint.secrets = self.cleaned_data["new_secrets"]
        if commit:
            endpoint.save()
        return endpoint


@admin.register(ChannelEndpoint)
class ChannelEndpointAdmin(AuditedModelAdmin):
    form = ChannelEndpointForm
    list_display = ("code", "channel", "name", "is_active", "has_secrets")
    list_filter = ("channel", "is_active")
    search_fields = ("code", "name")

    @admin.display(boolean=True, description="secrets set")
    def has_secrets(self, endpoint: ChannelEndpoint) -> bool:
        return bool(endpoint.secrets)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What is waiting to go out and what failed; recipients and texts stay out of sight, and the
    case is named by its number alone (its subject is the customer's words)."""

    list_display = (
        "id",
        "channel",
        "case_number",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "channel")
    list_select_related = ("case",)
    fields = (
        "channel",
        "endpoint",
        "case_number",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "provider_message_id",
        "idempotency_key",
        "last_error",
    )
    readonly_fields = fields

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, message: OutboxMessage) -> str:
        return message.case.number if message.case else "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
