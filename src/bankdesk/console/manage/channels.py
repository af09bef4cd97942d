"""The channel endpoints in the console at /manage/channels/: the bank's mailboxes, official
accounts and provider accounts, switched on or off, renamed and given new settings or secrets
(written, never shown); what administrators keep instead of the Django admin, with the admin
screens' permissions, services and audit entries."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bankdesk.console.manage.common import problem_text, require
from bankdesk.intake.endpoints import (
    ENDPOINT_NAME_MAX,
    ENDPOINT_SETTINGS_MAX,
    channel_endpoint_active_set,
    channel_endpoint_update,
)
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User


class EndpointForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=ENDPOINT_NAME_MAX)
    settings = forms.CharField(
        label=gettext_lazy("Settings (JSON)"),
        max_length=ENDPOINT_SETTINGS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=gettext_lazy("Addresses, app ids, URLs: never tokens, passwords or keys."),
    )
    new_secrets = forms.CharField(
        label=gettext_lazy("New secrets (JSON)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=gettext_lazy(
            "Tokens, passwords and keys as one JSON object, replacing the stored ones. Leave "
            "empty to keep them. They are stored encrypted and never shown again."
        ),
    )

    def clean_settings(self) -> dict[str, Any]:
        return self._json_object(self.cleaned_data["settings"] or "{}")

    def clean_new_secrets(self) -> dict[str, Any] | None:
        raw: str = self.cleaned_data["new_secrets"]
        if not raw.strip():
            return None
        parsed = self._json_object(raw)
        if not parsed:
            raise ValidationError(_("Enter at least one secret, or leave the field empty."))
        return parsed

    @staticmethod
    def _json_object(raw: str) -> dict[str, Any]:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValidationError(_('Enter a JSON object, such as {"app_id": "wx123"}.'))
        return parsed


@require_GET
@mfa_required
def channel_list(request: HttpRequest) -> HttpResponse:
    """The bank's ways in and out (mailboxes, official accounts, provider accounts): whether each
    is on, and whether its secrets are set; never the secrets."""
    user = request_staff(request)
    require(user, "intake.view_channelendpoint")
    rows = [
        {"endpoint": endpoint, "has_secrets": bool(endpoint.secrets)}
        for endpoint in ChannelEndpoint.objects.all()
    ]
    return render(
        request,
        "console/manage/channel_list.html",
        {"rows": rows, "can_change": user.has_perm("intake.change_channelendpoint")},
    )


def _endpoint(request: HttpRequest, endpoint_id: int) -> tuple[User, ChannelEndpoint]:
    user = request_staff(request)
    require(user, "intake.view_channelendpoint", "intake.change_channelendpoint")
    endpoint = ChannelEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404
    return user, endpoint


@require_POST
@mfa_required
def channel_active(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Switch an endpoint on or off from the list."""
    user, endpoint = _endpoint(request, endpoint_id)
    wanted = request.POST.get("is_active")
    if wanted not in {"on", "off"}:
        messages.error(request, _("Choose on or off."))
        return HttpResponseRedirect(reverse("console:manage_channels"))
    channel_endpoint_active_set(endpoint=endpoint, is_active=wanted == "on", actor=user)
    said = _("%(name)s is on.") if wanted == "on" else _("%(name)s is off.")
    messages.success(request, said % {"name": endpoint.name})
    return HttpResponseRedirect(reverse("console:manage_channels"))


@require_http_methods(["GET", "POST"])
@mfa_required
def channel_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """An endpoint's name and plain settings, and new secrets written without the old shown."""
    user, endpoint = _endpoint(request, endpoint_id)
    status = 200
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel_endpoint_update(
                    endpoint=endpoint,
                    name=data["name"],
                    settings=data["settings"],
                    secrets=data["new_secrets"],
                    actor=user,
                )
            except BankdeskError as exc:
                form.add_error(None, problem_text(exc))
            else:
                messages.success(request, _("Channel endpoint saved."))
                return HttpResponseRedirect(reverse("console:manage_channels"))
        status = 400
    else:
        settings_text = json.dumps(endpoint.settings, ensure_ascii=False, indent=2)
        form = EndpointForm(initial={"name": endpoint.name, "settings": settings_text})
    return render(
        request,
        "console/manage/channel_edit.html",
        {"endpoint": endpoint, "form": form, "has_secrets": bool(endpoint.secrets)},
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("manage/channels/", channel_list, name="manage_channels"),
    path("manage/channels/<int:endpoint_id>/", channel_edit, name="manage_channel"),
    path("manage/channels/<int:endpoint_id>/active/", channel_active, name="manage_channel_active"),
]
