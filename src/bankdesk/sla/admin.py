from datetime import time

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from bankdesk.security.admin_audit import AuditedModelAdmin
from bankdesk.sla.models import (
    BusinessCalendar,
    CalendarDay,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    WorkingPeriod,
)


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


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "time_zone", "is_24x7")
    search_fields = ("code", "name")
    inlines = [WorkingPeriodInline]


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
