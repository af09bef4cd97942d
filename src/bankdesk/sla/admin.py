"""The admin screens for business calendars and service levels: the administrators' console."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bankdesk.security.admin_audit import AuditedModelAdmin
from bankdesk.sla.errors import NoticeInvalid
from bankdesk.sla.models import (
    BusinessCalendar,
    CalendarDay,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    WorkingPeriod,
)
from bankdesk.sla.notices import MAX_BYTES, notice_parse, notice_year_check
from bankdesk.sla.services import calendar_notice_load
from bankdesk.sla.tasks import sla_calendar_clocks_refresh_run


class WorkingPeriodFormSet(BaseInlineFormSet):
    """Refuse overlapping periods among the rows edited together, before any is saved."""

    def clean(self) -> None:
        super().clean()
        seen: dict[int, list[tuple[time, time]]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if (
                not data
                or data.get("DELETE")
                or data.get("start") is None
                or data.get("end") is None
            ):
                continue
            spans = seen.setdefault(data["weekday"], [])
            for start, end in spans:
                if data["start"] < end and start < data["end"]:
                    raise ValidationError("Two periods overlap on the same weekday.")
            spans.append((data["start"], data["end"]))


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    formset = WorkingPeriodFormSet
    extra = 0


class NoticeForm(forms.Form):
    """A year's official holiday notice, as a CSV file (docs/calendars.md)."""

    year = forms.IntegerField(label=gettext_lazy("Year"))
    file = forms.FileField(
        label=gettext_lazy("Notice file (CSV, UTF-8)"),
        help_text=gettext_lazy(
            "One line per day: date,kind,name_zh,name_en, with kind holiday or working_day."
        ),
    )

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        try:
            notice_year_check(year)
        except NoticeInvalid as exc:
            raise ValidationError(list(exc.problems)) from exc
        return year

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("the file is larger than %(limit)s KB") % {"limit": MAX_BYTES // 1024}
            )
        content: bytes = upload.read()
        return content


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "time_zone", "is_24x7", "known_until")
    search_fields = ("code", "name")
    inlines = [WorkingPeriodInline]
    change_form_template = "admin/sla/businesscalendar/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        notice = path(
            "<int:calendar_id>/notice/",
            self.admin_site.admin_view(self.notice_view),
            name="sla_businesscalendar_notice",
        )
        return [notice, *super().get_urls()]

    def notice_view(self, request: HttpRequest, calendar_id: int) -> HttpResponse:
        """Load a year's official holiday notice; the worker then works the open cases' clocks
        out again (a web request does not walk every open case)."""
        calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
        if not self.has_change_permission(request, calendar):
            raise PermissionDenied
        next_year = (calendar.known_until or timezone.localdate()).year + 1
        form = NoticeForm(request.POST or None, request.FILES or None, initial={"year": next_year})
        if request.method == "POST" and form.is_valid():
            year = form.cleaned_data["year"]
            try:
                with transaction.atomic():
                    notice = notice_parse(content=form.cleaned_data["file"], year=year)
                    report = calendar_notice_load(
                        calendar=calendar, notice=notice, actor=request.user
                    )
                    transaction.on_commit(
                        lambda: sla_calendar_clocks_refresh_run.enqueue(
                            calendar_code=calendar.code,
                            reason=f"official notice for {year} loaded into {calendar.code}",
                            actor_id=request.user.pk,
                        )
                    )
            except NoticeInvalid as exc:
                for problem in exc.problems:
                    form.add_error("file", problem)
            else:
                self.message_user(request, report.said, messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:sla_businesscalendar_change", args=[calendar.pk])
                )
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("Load an official holiday notice"),
            "calendar": calendar,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/sla/businesscalendar/notice_form.html", context)


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedModelAdmin):
    list_display = ("calendar", "date", "kind", "name")
    list_filter = ("calendar", "kind")
    date_hierarchy = "date"
    search_fields = ("name",)


class SlaTargetInline(admin.TabularInline):
    model = SlaTarget
    extra = 0
    fields = ("name", "metric", "minutes", "basis", "warning_percent")
    show_change_link = True  # escalations are edited on the target's own page


class SlaEscalationInline(admin.TabularInline):
    model = SlaEscalation
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedModelAdmin):
    """Editing a policy changes new clocks only; `bankdesk sla recompute` applies it to open
    cases, with a reason, audited."""

    list_display = ("position", "code", "name", "is_active", "is_complaint", "calendar")
    list_display_links = ("code", "name")
    list_filter = ("is_active", "is_complaint")
    search_fields = ("code", "name")
    filter_horizontal = ("categories",)
    inlines = [SlaTargetInline]


@admin.register(SlaTarget)
class SlaTargetAdmin(AuditedModelAdmin):
    list_display = ("policy", "name", "metric", "minutes", "basis", "warning_percent")
    list_filter = ("policy", "metric", "basis")
    inlines = [SlaEscalationInline]
