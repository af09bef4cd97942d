"""Business calendars: when the bank's clocks run. Data, edited by admins, never settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from bankdesk.sla.choices import DayKind, Weekday


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not an IANA time zone"), params={"value": value}
        ) from exc


class BusinessCalendar(models.Model):
    """The working time of a team or branch: SLA targets in business minutes run on it."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(
        max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_24x7 = models.BooleanField(
        default=False, help_text=_("Every minute is working time; periods and days are ignored.")
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working hours on a weekday; several make a split shift (lunch break)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="sla_period_starts_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="sla_period_weekday_in_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValidationError(_("A period must start before it ends."))
        if self.calendar_id is None or self.start is None or self.end is None:
            return
        overlapping = WorkingPeriod.objects.filter(
            calendar_id=self.calendar_id,
            weekday=self.weekday,
            start__lt=self.end,
            end__gt=self.start,
        ).exclude(pk=self.pk)
        if overlapping.exists():
            raise ValidationError(_("This period overlaps another on the same weekday."))


class CalendarDay(models.Model):
    """A date that breaks the weekly pattern: a public holiday, or a weekend worked (调休)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_one_entry_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()
