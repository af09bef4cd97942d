"""The teams in the console at /manage/teams/: adding one, its members, and the business
calendar its service-level clocks run on; what administrators keep instead of the Django admin,
with the admin screens' permissions, services and audit entries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bankdesk.console.manage.common import problem_text, require
from bankdesk.lib.errors import BankdeskError
from bankdesk.sla.models import BusinessCalendar
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team
from bankdesk.staff.services import team_calendar_set, team_create


class TeamCreateForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=40,
        help_text=gettext_lazy("Letters, digits, - and _ only; it does not change later."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    is_complaint_team = forms.BooleanField(
        label=gettext_lazy("The dedicated complaint-handling team."), required=False
    )
    calendar = forms.ModelChoiceField(
        label=gettext_lazy("Business calendar"),
        queryset=BusinessCalendar.objects.all(),
        required=False,
        empty_label=gettext_lazy("The default calendar"),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if Team.objects.filter(code=code).exists():
            raise ValidationError(_("A team with this code already exists."))
        return code


class TeamCalendarForm(forms.Form):
    calendar = TeamCreateForm.base_fields["calendar"]


@require_http_methods(["GET", "POST"])
@mfa_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The teams, their members and calendars, and a form for a new one."""
    user = request_staff(request)
    require(user, "staff.view_team")
    status = 200
    form = TeamCreateForm()
    if request.method == "POST":
        require(user, "staff.add_team")
        form = TeamCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():  # the team and its calendar, or neither
                    team = team_create(
                        code=data["code"],
                        name=data["name"],
                        is_complaint_team=data["is_complaint_team"],
                        actor=user,
                    )
                    if data["calendar"] is not None:
                        team_calendar_set(team=team, calendar=data["calendar"], actor=user)
            except ValidationError as exc:
                form.add_error(None, exc)
            except BankdeskError as exc:
                form.add_error(None, problem_text(exc))
            else:
                messages.success(request, _("Team added."))
                return HttpResponseRedirect(reverse("console:manage_teams"))
        status = 400
    teams = Team.objects.select_related("calendar").prefetch_related("members")
    return render(
        request,
        "console/manage/team_list.html",
        {"teams": teams, "form": form, "can_add": user.has_perm("staff.add_team")},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    """One team: its members, and the business calendar its service-level clocks run on."""
    user = request_staff(request)
    require(user, "staff.view_team")
    team = Team.objects.select_related("calendar").filter(pk=team_id).first()
    if team is None:
        raise Http404
    status = 200
    form = TeamCalendarForm(initial={"calendar": team.calendar})
    if request.method == "POST":
        require(user, "staff.change_team")
        form = TeamCalendarForm(request.POST)
        if form.is_valid():
            team_calendar_set(team=team, calendar=form.cleaned_data["calendar"], actor=user)
            messages.success(request, _("Team calendar saved."))
            return HttpResponseRedirect(reverse("console:manage_team", args=[team.pk]))
        status = 400
    return render(
        request,
        "console/manage/team_detail.html",
        {
            "team": team,
            "members": team.members.order_by("username"),
            "form": form,
            "can_change": user.has_perm("staff.change_team"),
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("manage/teams/", team_list, name="manage_teams"),
    path("manage/teams/<int:team_id>/", team_detail, name="manage_team"),
]
