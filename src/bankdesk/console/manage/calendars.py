"""Management screens for the business calendars the SLA clocks run on: each calendar's working
week, and each year's holidays and adjusted working days, loaded from the State Council's
notice.

Calendars are read by any member of staff; only those who configure them load a notice (as in
the admin screens), after which the open cases' clocks on the calendar are worked out again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from bankdesk.console.manage.common import require
from bankdesk.sla.calendar import EARLIEST_YEAR, LATEST_YEAR
from bankdesk.sla.choices import DayKind, Weekday
from bankdesk.sla.errors import NoticeInvalid
from bankdesk.sla.models import BusinessCalendar
from bankdesk.sla.notices import MAX_BYTES, notice_parse, notice_year_check
from bankdesk.sla.selectors import calendar_horizon_warnings, calendar_list
from bankdesk.sla.services import calendar_notice_load
from bankdesk.sla.tasks import sla_calendar_clocks_refresh_run
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required

# The admin screens' permission for loading a notice.
CALENDAR_CHANGE = "sla.change_businesscalendar"


def _calendar(code: str) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(code=code).first()
    if calendar is None:
        raise Http404
    return calendar


@require_GET
@mfa_required
def calendars(request: HttpRequest) -> HttpResponse:
    """Every business calendar and how far its holidays are known."""
    user = request_staff(request)
    warned = {horizon.calendar_id for horizon in calendar_horizon_warnings()}
    return render(
        request,
        "console/manage/calendars.html",
        {
            "calendars": [(c, c.pk in warned) for c in calendar_list()],
            "may_change": user.has_perm(CALENDAR_CHANGE),
        },
    )


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=EARLIEST_YEAR, max_value=LATEST_YEAR - 1, required=False)


@require_GET
@mfa_required
def calendar_page(request: HttpRequest, code: str) -> HttpResponse:
    """One calendar: its working week, and one year's holidays and adjusted working days."""
    user = request_staff(request)
    calendar = _calendar(code)
    form = YearForm(request.GET)
    valid = form.is_valid()
    year = (form.cleaned_data.get("year") if valid else None) or timezone.localdate().year
    week: dict[int, list[str]] = {}
    for period in calendar.periods.all():
        week.setdefault(period.weekday, []).append(f"{period.start:%H:%M}–{period.end:%H:%M}")
    days = [
        (day, Weekday(day.date.weekday()).label)
        for day in calendar.days.filter(date__year=year).order_by("date")
    ]
    return render(
        request,
        "console/manage/calendar.html",
        {
            "calendar": calendar,
            "year": year,
            "year_error": None if valid else form.errors.get("year"),
            "week": [(Weekday(n).label, week.get(n, [])) for n in range(7)],
            "holidays": [pair for pair in days if pair[0].kind == DayKind.HOLIDAY],
            "working_days": [pair for pair in days if pair[0].kind == DayKind.EXTRA_WORKING_DAY],
            "is_known": calendar.known_until is None or calendar.known_until >= date(year, 12, 31),
            "may_change": user.has_perm(CALENDAR_CHANGE),
        },
        status=200 if valid else 400,
    )


class NoticeForm(forms.Form):
    """A year's official holiday notice, typed or pasted, or as its CSV file (docs/calendars.md)."""

    year = forms.IntegerField(label=gettext_lazy("Year"))
    text = forms.CharField(
        label=gettext_lazy("The notice, one line per day"),
        required=False,
        strip=False,
        max_length=MAX_BYTES,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
    )
    file = forms.FileField(
        label=gettext_lazy("Or its file (CSV, UTF-8)"),
        required=False,
        help_text=gettext_lazy("A file chosen here is read instead of the text above."),
    )

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        try:
            notice_year_check(year)
        except NoticeInvalid as exc:
            raise ValidationError(list(exc.problems)) from exc
        return year

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > MAX_BYTES:
                self.add_error(
                    "file", _("the file is larger than %(limit)s KB") % {"limit": MAX_BYTES // 1024}
                )
            else:
                cleaned["content"] = upload.read()
        elif cleaned.get("text", "").strip():
            cleaned["content"] = cleaned["text"].encode("utf-8")
        elif "text" not in self.errors:
            self.add_error("text", _("Paste the notice here, or choose its file."))
        return cleaned


def _kept_text(form: NoticeForm) -> NoticeForm:
    """The form again with an uploaded file's text in the box, so a correction starts from it."""
    try:
        text = form.cleaned_data["content"].decode("utf-8-sig")
    except UnicodeDecodeError:
        return form
    data = form.data.copy()  # type: ignore[attr-defined]
    data["text"] = text
    return NoticeForm(data)


@require_http_methods(["GET", "POST"])
@mfa_required
def calendar_notice(request: HttpRequest, code: str) -> HttpResponse:
    """Load a year's official holiday notice. The open cases' clocks on the calendar are then
    worked out again by the worker, as after a load in the admin screens."""
    user = request_staff(request)
    require(user, CALENDAR_CHANGE)
    calendar = _calendar(code)
    problems: tuple[str, ...] = ()
    if request.method == "POST":
        form = NoticeForm(request.POST, request.FILES)
        if form.is_valid():
            year = form.cleaned_data["year"]
            try:
                with transaction.atomic():
                    notice = notice_parse(content=form.cleaned_data["content"], year=year)
                    report = calendar_notice_load(calendar=calendar, notice=notice, actor=user)
                    transaction.on_commit(
                        lambda: sla_calendar_clocks_refresh_run.enqueue(
                            calendar_code=calendar.code,
                            reason=f"official notice for {year} loaded into {calendar.code}",
                            actor_id=user.pk,
                        )
                    )
            except NoticeInvalid as exc:
                problems = exc.problems
                if form.cleaned_data.get("file") is not None:
                    form = _kept_text(form)
            else:
                messages.success(request, report.said)
                if report.kept:
                    messages.warning(
                        request,
                        _(
                            "Days of %(year)s already on the calendar that the notice does not "
                            "list were kept: %(dates)s."
                        )
                        % {"year": year, "dates": ", ".join(d.isoformat() for d in report.kept)},
                    )
                page = reverse("console:manage_calendar", args=[calendar.code])
                return HttpResponseRedirect(f"{page}?year={year}")
        status = 400
    else:
        next_year = (calendar.known_until or timezone.localdate()).year + 1
        form = NoticeForm(initial={"year": next_year})
        status = 200
    return render(
        request,
        "console/manage/calendar_notice.html",
        {"calendar": calendar, "form": form, "problems": problems},
        status=status,
    )


urlpatterns = [
    path("manage/calendars/", calendars, name="manage_calendars"),
    path("manage/calendars/<slug:code>/", calendar_page, name="manage_calendar"),
    path("manage/calendars/<slug:code>/notice/", calendar_notice, name="manage_calendar_notice"),
]
