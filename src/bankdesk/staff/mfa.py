"""The second factor for staff: who must give one, setting up an authenticator, checking codes.

Signing in is two steps. The password makes the session authenticated; for the roles in
`mfa_required_for` the session is good for nothing but the second-factor pages until a TOTP code
from a confirmed authenticator has been checked (django-otp then marks the session verified).
Wrong codes slow the next attempt (django-otp's exponential back-off per device) and count as
failed sign-ins for django-axes, so guessing codes locks the account like guessing passwords.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.security.audit import audit_record
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User

P = ParamSpec("P")

# The screen that asks for the second factor; it sends people without an authenticator on to
# set one up.
MFA_URL_NAME = "console:mfa"
DEVICE_NAME = "authenticator"


def mfa_required_for(user: User) -> bool:
    """Whether this member of staff must give a TOTP code before using the console or the API.

    Every role but agent always does, as does anyone with Django staff or superuser rights;
    agents only when the bank turns on BANKDESK_MFA_FOR_AGENTS. An unknown role is treated as
    needing it: the safe side of a mistake.
    """
    if user.is_superuser or user.is_staff:
        return True
    if user.role == Role.AGENT:
        return bool(settings.BANKDESK_MFA_FOR_AGENTS)
    return True


def mfa_is_verified(user: Any) -> bool:
    """Whether this session's second factor has been checked (set up by django-otp's middleware)."""
    is_verified = getattr(user, "is_verified", None)
    return bool(callable(is_verified) and is_verified())


def mfa_is_satisfied(user: Any) -> bool:
    """A signed-in member of staff who may use the console: no code owed, or the code given."""
    if not (isinstance(user, User) and user.is_authenticated and user.is_active):
        return False
    return not mfa_required_for(user) or mfa_is_verified(user)


def mfa_required(
    view: Callable[Concatenate[HttpRequest, P], HttpResponseBase],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """Like `login_required`, and staff who still owe a second factor are sent to give it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not mfa_is_satisfied(request.user):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(MFA_URL_NAME)}?{query}")
        return view(request, *args, **kwargs)

    return wrapped


class MfaAdminSite(admin.AdminSite):
    """Django's admin behind the console's sign-in: one way in, with lockout, code and audit.

    Install in config/urls.py before `admin.site.urls` is read:
    `admin.site.__class__ = MfaAdminSite` (the way django-otp's own OTPAdminSite is installed).
    """

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and mfa_is_satisfied(request.user)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        index = reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(index)
        return redirect_to_login(request.GET.get("next") or index, reverse("console:login"))


def totp_device_confirmed(user: User) -> TOTPDevice | None:
    """The authenticator this member of staff proves themselves with, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def staff_sign_in(*, request: HttpRequest, user: User) -> None:
    """Start a session for someone whose password has been checked, and record it."""
    with transaction.atomic():
        auth_login(request, user)
        audit_record(actor=user, action="staff.login", target=user, fields=["last_login"])


class CodeResult(enum.Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # wrong or reused code
    THROTTLED = "throttled"  # too soon after a wrong code; the code was not checked
    LOCKED_OUT = "locked_out"  # too many failures: signed out, axes shows its lockout page
    NO_DEVICE = "no_device"  # nothing to check the code against (enrolment is the way on)
    ALREADY_ENROLLED = "already_enrolled"  # a confirmed authenticator exists; verify instead


@dataclass(frozen=True)
class CodeCheck:
    result: CodeResult
    retry_after: int = 0  # seconds until the next code will be checked, when throttled

    @property
    def is_accepted(self) -> bool:
        return self.result is CodeResult.ACCEPTED


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator being set up: the pending one, so a reload shows the same secret."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _locked_device(user: User, *, confirmed: bool) -> TOTPDevice | None:
    """The person's first authenticator in that state, locked until the transaction ends."""
    return (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=confirmed)
        .order_by("pk")
        .first()
    )


def totp_enrolment_confirm(*, request: HttpRequest, user: User, code: str) -> CodeCheck:
    """Confirm the pending authenticator with a code from it; the session is then verified.

    Only someone with no confirmed authenticator may enrol: otherwise a password alone would be
    enough to add a second one and skip the code.
    """
    with transaction.atomic():
        # Serialises two enrolments of the same person (two tabs, a double submit).
        User.objects.select_for_update().filter(pk=user.pk).first()
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return CodeCheck(CodeResult.ALREADY_ENROLLED)
        device = _locked_device(user, confirmed=False)
        if device is None:
            return CodeCheck(CodeResult.NO_DEVICE)
        check = _check_code(request=request, user=user, device=device, code=code)
        if not check.is_accepted:
            return check
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        _session_verify(request, device)
        audit_record(actor=user, action="staff.mfa_enrol", target=user, fields=["totp_device"])
        audit_record(actor=user, action="staff.mfa_verify", target=user, fields=["otp_device"])
    return check


def totp_verify(*, request: HttpRequest, user: User, code: str) -> CodeCheck:
    """Check the code from the person's authenticator and mark the session verified."""
    with transaction.atomic():
        device = _locked_device(user, confirmed=True)
        if device is None:
            return CodeCheck(CodeResult.NO_DEVICE)
        check = _check_code(request=request, user=user, device=device, code=code)
        if check.is_accepted:
            _session_verify(request, device)
            audit_record(actor=user, action="staff.mfa_verify", target=user, fields=["otp_device"])
    return check


def _session_verify(request: HttpRequest, device: TOTPDevice) -> None:
    otp_login(request, device)
    # A new session key for the newly trusted session: a key seen before the code is worthless.
    request.session.cycle_key()


def _check_code(*, request: HttpRequest, user: User, device: TOTPDevice, code: str) -> CodeCheck:
    is_allowed, details = device.verify_is_allowed()
    if not is_allowed:
        return CodeCheck(CodeResult.THROTTLED, _seconds_until((details or {}).get("locked_until")))
    # verify_token saves the device: last_t (no code is accepted twice) and the failure count.
    if device.verify_token(code):
        return CodeCheck(CodeResult.ACCEPTED)
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    if getattr(request, "axes_locked_out", False):
        auth_logout(request)
        return CodeCheck(CodeResult.LOCKED_OUT)
    return CodeCheck(CodeResult.REFUSED)


def _seconds_until(moment: Any) -> int:
    if moment is None:
        return 1
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))
