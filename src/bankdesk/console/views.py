"""The shell of the staff screens: sign-in with its second factor, and the home page."""

from __future__ import annotations

import re
from base64 import b32encode
from urllib.parse import urlencode
from xml.etree import ElementTree

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import (
    CodeCheck,
    CodeResult,
    mfa_is_satisfied,
    mfa_required,
    mfa_required_for,
    staff_sign_in,
    totp_device_confirmed,
    totp_enrolment_confirm,
    totp_enrolment_start,
    totp_verify,
)
from bankdesk.staff.models import User
from bankdesk.staff.services import staff_presence_set
from bankdesk.tickets.access import case_page_for
from bankdesk.tickets.choices import ACTIVE_STATUSES
from bankdesk.tickets.selectors import CaseFilters


class LoginView(auth_views.LoginView):
    """Step one: the password. Staff who owe a second factor go on to give it."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if not isinstance(user, User):
            raise TypeError("AUTH_USER_MODEL is bankdesk's staff User")
        staff_sign_in(request=self.request, user=user)
        if mfa_required_for(user):
            return HttpResponseRedirect(_with_next(reverse("console:mfa"), self.get_success_url()))
        return HttpResponseRedirect(self.get_success_url())


def root(request: HttpRequest) -> HttpResponseBase:
    """`/`: the sign-in page for visitors, the console for signed-in staff."""
    if request.user.is_authenticated:
        return HttpResponseRedirect(reverse("console:home"))
    return LoginView.as_view()(request)


class CodeForm(forms.Form):
    """The six digits from an authenticator app; spaces and dashes people type are dropped."""

    code = forms.CharField(max_length=20, strip=True)

    def clean_code(self) -> str:
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(
                _("Enter the 6-digit code shown in your authenticator app.")
            )
        return code


@never_cache
@require_http_methods(["GET", "POST"])
def mfa(request: HttpRequest) -> HttpResponseBase:
    """Step two: the code from the authenticator the member of staff has set up."""
    if not request.user.is_authenticated:
        return auth_views.redirect_to_login(request.get_full_path())
    user = request_staff(request)
    next_url = _next_url(request)
    if mfa_is_satisfied(user):
        return HttpResponseRedirect(next_url)
    if totp_device_confirmed(user) is None:
        return HttpResponseRedirect(_with_next(reverse("console:mfa_enrol"), next_url))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        check = totp_verify(request=request, user=user, code=form.cleaned_data["code"])
        if check.is_accepted:
            return HttpResponseRedirect(next_url)
        if check.result is CodeResult.LOCKED_OUT:
            # Answered by django-axes's lockout page; the session has been ended.
            return HttpResponseRedirect(reverse("console:login"))
        form.add_error("code", _refusal(check))
    return render(request, "console/mfa.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponseBase:
    """First sign-in with a second factor: set up an authenticator app and prove it works."""
    if not request.user.is_authenticated:
        return auth_views.redirect_to_login(request.get_full_path())
    user = request_staff(request)
    next_url = _next_url(request)
    if mfa_is_satisfied(user):
        return HttpResponseRedirect(next_url)
    if totp_device_confirmed(user) is not None:
        return HttpResponseRedirect(_with_next(reverse("console:mfa"), next_url))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        check = totp_enrolment_confirm(request=request, user=user, code=form.cleaned_data["code"])
        if check.is_accepted:
            return HttpResponseRedirect(next_url)
        if check.result is CodeResult.LOCKED_OUT:
            return HttpResponseRedirect(reverse("console:login"))
        if check.result is CodeResult.ALREADY_ENROLLED:
            return HttpResponseRedirect(_with_next(reverse("console:mfa"), next_url))
        form.add_error("code", _refusal(check))
    device = totp_enrolment_start(user=user)
    secret = b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "next": next_url,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr_svg": _qr_svg(device.config_url),
    }
    return render(request, "console/mfa_enrol.html", context)


@mfa_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    mine = case_page_for(
        user,
        filters=CaseFilters(status=sorted(ACTIVE_STATUSES), assignee_id=user.pk),
        cursor=None,
        limit=20,
    )
    latest = case_page_for(user, filters=CaseFilters(), cursor=None, limit=20)
    return render(
        request,
        "console/home.html",
        {"my_cases": mine.items, "latest_cases": latest.items},
    )


def _refusal(check: CodeCheck) -> str:
    if check.result is CodeResult.THROTTLED:
        return ngettext(
            "Too many wrong codes. Wait %(seconds)d second, then enter the current code.",
            "Too many wrong codes. Wait %(seconds)d seconds, then enter the current code.",
            check.retry_after,
        ) % {"seconds": check.retry_after}
    if check.result is CodeResult.NO_DEVICE:
        return _("The authenticator could not be found. Reload the page and try again.")
    return _(
        "That code is not correct or has already been used. Check the time on your phone "
        "and enter the current code."
    )


def _next_url(request: HttpRequest) -> str:
    """Where to go once signed in: the page asked for, if it is one of ours, else home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    is_ours = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and is_ours else reverse("console:home")


def _with_next(url: str, next_url: str) -> str:
    if not next_url or next_url == reverse("console:home"):
        return url
    return f"{url}?{urlencode({'next': next_url})}"


def _qr_svg(uri: str) -> SafeString:
    """The otpauth:// address as a QR code, drawn here as inline SVG: no network, no script."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, border=2)
    svg: ElementTree.Element = image.get_image()
    svg.set("aria-hidden", "true")  # the secret is also written out, for screen readers
    svg.set("class", "qr")
    # Our own drawing of our own data: ElementTree escapes every attribute value it writes.
    return mark_safe(ElementTree.tostring(svg, encoding="unicode"))  # noqa: S308  # nosec B308 B703


@require_http_methods(["POST"])
@mfa_required
def presence(request: HttpRequest) -> HttpResponseBase:
    """The top bar's presence switch: routing hands new work only to staff who are available."""
    user = request_staff(request)
    try:
        staff_presence_set(user=user, presence=request.POST.get("presence", ""))
    except BankdeskError:
        messages.error(request, _("Choose available, away or offline."))
    next_url = _next_url(request)
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    return HttpResponseRedirect(next_url)
