"""The audit log screen: auditors read who did what, narrowed as with the API, newest first."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from bankdesk.lib.cursor import InvalidCursorError
from bankdesk.lib.text import is_unusable
from bankdesk.security.api import READ_PERMISSION
from bankdesk.security.selectors import AuditFilters, AuditPage, audit_entry_page
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required

PAGE_SIZE = 50
FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")
DAY = forms.DateInput(attrs={"type": "date"})


class AuditFilterForm(forms.Form):
    """The log's filters; days are the bank's days (BANKDESK_TIME_ZONE), both ends included."""

    actor = forms.CharField(label=gettext_lazy("Who"), max_length=150, required=False)
    action = forms.CharField(label=gettext_lazy("Action"), max_length=60, required=False)
    object_type = forms.CharField(label=gettext_lazy("Object type"), max_length=60, required=False)
    object_id = forms.CharField(label=gettext_lazy("Object ID"), max_length=64, required=False)
    since = forms.DateField(label=gettext_lazy("First day"), required=False, widget=DAY)
    until = forms.DateField(label=gettext_lazy("Last day"), required=False, widget=DAY)
    cursor = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in cleaned.items():
            if isinstance(value, str) and is_unusable(value):
                self.add_error(name, _("This contains characters that cannot be searched for."))
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day comes before the first."))
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor=data["actor"] or None,
            action=data["action"] or None,
            object_type=data["object_type"] or None,
            object_id=data["object_id"] or None,
            since=_start_of(data["since"]) if data["since"] else None,
            until=_start_of(data["until"] + timedelta(days=1)) if data["until"] else None,
        )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _next_page_query(form: AuditFilterForm, cursor: str) -> str:
    kept = {name: form.data[name] for name in FILTERS if form.data.get(name)}
    return urlencode({**kept, "cursor": cursor})


@require_GET
@mfa_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not request_staff(request).has_perm(READ_PERMISSION):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    page = AuditPage(items=[], next_cursor=None)
    if form.is_valid():
        try:
            page = audit_entry_page(
                filters=form.filters(), cursor=form.cleaned_data["cursor"] or None, limit=PAGE_SIZE
            )
        except InvalidCursorError:
            form.add_error(None, _("This page link is no longer valid; start from the first page."))
    return render(
        request,
        "console/audit_log.html",
        {
            "form": form,
            "entries": page.items,
            "next_page": _next_page_query(form, page.next_cursor) if page.next_cursor else "",
            "is_first_page": not request.GET.get("cursor"),
        },
    )
