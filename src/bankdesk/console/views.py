"""The shell of the staff screens: sign-in, the home page and the language switch."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from bankdesk.staff.auth import request_staff
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.choices import ACTIVE_STATUSES
from bankdesk.tickets.selectors import CaseFilters, case_page


class LoginView(auth_views.LoginView):
    template_name = "console/login.html"
    redirect_authenticated_user = True


def root(request: HttpRequest) -> HttpResponseBase:
    """`/`: the sign-in page for visitors, the console for signed-in staff."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("console:home"))
    return LoginView.as_view()(request)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    visible = cases_visible_to(user)
    mine = case_page(
        queryset=visible,
        filters=CaseFilters(status=sorted(ACTIVE_STATUSES), assignee_id=user.pk),
        cursor=None,
        limit=20,
    )
    latest = case_page(queryset=visible, filters=CaseFilters(), cursor=None, limit=20)
    return render(
        request,
        "console/home.html",
        {"my_cases": mine.items, "latest_cases": latest.items},
    )
