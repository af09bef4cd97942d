from datetime import time

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from bankdesk.sla.models import BusinessCalendar, CalendarDay, WorkingPeriod


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
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "is_24x7")
    search_fields = ("code", "name")
    inlines = [WorkingPeriodInline]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("calendar", "date", "kind", "name")
    list_filter = ("calendar", "kind")
    date_hierarchy = "date"
    search_fields = ("name",)
