"""The members of staff in the console at /manage/staff/: adding them, their teams, skills and
how many cases they hold, deactivating them, roles and second factors; what administrators keep
instead of the Django admin. The same permissions as the admin screens (the configuration
administrators' model permissions), the same services, the same audit entries; roles only by
request and approval, and a second factor reset only by another administrator, for a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.console.manage.common import problem_text, require
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError
from bankdesk.lib.languages import Language
from bankdesk.staff.auth import request_staff
from bankdesk.staff.choices import Role, RoleChangeStatus
from bankdesk.staff.mfa import mfa_required, mfa_required_for
from bankdesk.staff.models import Branch, ChannelCapacity, RoleChangeRequest, Skill, Team, User
from bankdesk.staff.predicates import is_admin
from bankdesk.staff.role_changes import (
    REASON_MAX,
    role_change_approve,
    role_change_reject,
    role_change_request,
    role_change_withdraw,
)
from bankdesk.staff.services import (
    CAPACITY_MAX,
    MFA_RESET_REASON_MAX,
    MFA_RESET_REASON_MIN,
    channel_capacity_set,
    staff_create,
    staff_deactivate,
    staff_mfa_reset,
    staff_work_set,
)

if TYPE_CHECKING:  # the type of lazy translations, from the type-checking stubs only
    from django_stubs_ext import StrPromise


def _status(exc: BankdeskError) -> int:
    """Refusals keep their own status; anything about the input is a 400, form redisplayed."""
    return exc.status if exc.status in {403, 404, 409} else 400


# --- forms -----------------------------------------------------------------------------------


class TeamChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class SkillChoices(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


class StaffCreateForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=gettext_lazy("Letters, digits and @ . + - _ only."),
    )
    display_name = forms.CharField(
        label=gettext_lazy("Display name"), max_length=120, required=False
    )
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    preferred_language = forms.ChoiceField(
        label=gettext_lazy("Preferred language"), choices=Language.choices
    )
    teams = TeamChoices(label=gettext_lazy("Teams"), queryset=Team.objects.all(), required=False)
    password1 = forms.CharField(
        label=gettext_lazy("Initial password"), strip=False, widget=forms.PasswordInput
    )
    password2 = forms.CharField(
        label=gettext_lazy("Initial password again"), strip=False, widget=forms.PasswordInput
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A member of staff with this username already exists."))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            probe = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(first, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class StaffWorkForm(forms.Form):
    teams = TeamChoices(label=gettext_lazy("Teams"), queryset=Team.objects.all(), required=False)
    skills = SkillChoices(
        label=gettext_lazy("Skills"), queryset=Skill.objects.all(), required=False
    )
    max_open_cases = forms.IntegerField(
        label=gettext_lazy("Open cases at most"), min_value=0, max_value=CAPACITY_MAX
    )
    branch = forms.ModelChoiceField(
        label=gettext_lazy("Works at branch (complaints about it go to others)"),
        queryset=Branch.objects.filter(is_active=True),
        required=False,
    )


class CapacityForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=Channel.choices)
    max_open_cases = forms.IntegerField(
        label=gettext_lazy("Active cases at most on this channel"),
        min_value=0,
        max_value=CAPACITY_MAX,
        required=False,
        help_text=gettext_lazy("Empty: no limit on this channel beyond the overall one."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        min_length=MFA_RESET_REASON_MIN,
        max_length=MFA_RESET_REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Requested role"), choices=Role.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=REASON_MAX, widget=forms.Textarea({"rows": 2})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", ""), ("reject", ""), ("withdraw", "")])
    note = forms.CharField(label=gettext_lazy("Note"), max_length=REASON_MAX, required=False)


# --- staff -----------------------------------------------------------------------------------


def _people() -> Any:
    return User.objects.prefetch_related(
        "teams",
        "skills",
        Prefetch("channel_capacities", queryset=ChannelCapacity.objects.order_by("channel")),
        Prefetch(
            "role_change_requests",
            queryset=RoleChangeRequest.objects.filter(status=RoleChangeStatus.PENDING),
            to_attr="pending_role_changes",
        ),
    )


@require_GET
@mfa_required
def staff_list(request: HttpRequest) -> HttpResponse:
    """Everyone on the staff, active first: role, teams, skills, presence and capacities."""
    user = request_staff(request)
    require(user, "staff.view_user")
    people = list(_people().order_by("-is_active", "username"))
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True).distinct()
    )
    rows = [{"person": person, "has_authenticator": person.pk in enrolled} for person in people]
    return render(
        request,
        "console/manage/staff_list.html",
        {"rows": rows, "can_add": user.has_perm("staff.add_user")},
    )


@require_http_methods(["GET", "POST"])
@mfa_required
def staff_new(request: HttpRequest) -> HttpResponse:
    """Add a member of staff: an agent with an initial password. Another role is asked for on
    their page and approved by a second administrator; a second factor, where their role needs
    one, they set up themselves at their first sign-in."""
    user = request_staff(request)
    require(user, "staff.add_user")
    status = 200
    if request.method == "POST":
        form = StaffCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = staff_create(
                    username=data["username"],
                    password=data["password1"],
                    role=Role.AGENT,
                    display_name=data["display_name"],
                    email=data["email"],
                    teams=list(data["teams"]),
                    preferred_language=data["preferred_language"],
                    actor=user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except BankdeskError as exc:
                form.add_error(None, problem_text(exc))
            else:
                messages.success(request, _("Member of staff added."))
                return HttpResponseRedirect(
                    reverse("console:manage_staff_member", args=[person.pk])
                )
        status = 400
    else:
        form = StaffCreateForm(initial={"preferred_language": Language.ZH_HANS})
    return render(request, "console/manage/staff_new.html", {"form": form}, status=status)


def _pending(person: User) -> RoleChangeRequest | None:
    """The member's role change awaiting a decision (there is at most one), as prefetched."""
    changes: list[RoleChangeRequest] = getattr(person, "pending_role_changes", [])
    return changes[0] if changes else None


def _member(staff_id: int) -> User:
    person = _people().filter(pk=staff_id).first()
    if person is None:
        raise Http404
    return person


def _member_page(
    request: HttpRequest, person: User, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    """A member's page with every control the viewer may use; a form sent back is shown as sent."""
    viewer = request_staff(request)
    pending = _pending(person)
    can_change = person.is_active and viewer.has_perm("staff.change_user")
    context: dict[str, Any] = {
        "person": person,
        "has_authenticator": TOTPDevice.objects.filter(user=person, confirmed=True).exists(),
        "needs_second_factor": mfa_required_for(person),
        "pending": pending,
        "can_change": can_change,
        "can_capacity": can_change and viewer.has_perm("staff.change_channelcapacity"),
        "can_deactivate": can_change and person.pk != viewer.pk,
        "can_reset_mfa": person.is_active and is_admin(viewer) and person.pk != viewer.pk,
        "can_request_role": person.is_active
        and pending is None
        and viewer.has_perm("staff.add_rolechangerequest"),
        "can_decide": pending is not None
        and viewer.has_perm("staff.decide_rolechangerequest")
        and viewer.pk not in {pending.requested_by_id, pending.user_id},
        "can_withdraw": pending is not None and viewer.pk == pending.requested_by_id,
        "work_form": bound.get("work_form")
        or StaffWorkForm(
            initial={
                "teams": list(person.teams.all()),
                "skills": list(person.skills.all()),
                "max_open_cases": person.max_open_cases,
                "branch": person.branch_id,
            }
        ),
        "capacity_form": bound.get("capacity_form") or CapacityForm(),
        "mfa_form": bound.get("mfa_form") or ReasonForm(),
        "role_form": bound.get("role_form") or RoleChangeForm(),
        "decision_form": bound.get("decision_form") or DecisionForm(),
    }
    return render(request, "console/manage/staff_member.html", context, status=status)


def _done(request: HttpRequest, person: User, said: str) -> HttpResponse:
    messages.success(request, said)
    return HttpResponseRedirect(reverse("console:manage_staff_member", args=[person.pk]))


@require_GET
@mfa_required
def staff_member(request: HttpRequest, staff_id: int) -> HttpResponse:
    require(request_staff(request), "staff.view_user")
    return _member_page(request, _member(staff_id))


def _active_member(request: HttpRequest, staff_id: int, *perms: str) -> tuple[User, User]:
    viewer = request_staff(request)
    require(viewer, "staff.view_user", *perms)
    person = _member(staff_id)
    if not person.is_active:
        raise Http404
    return viewer, person


@require_POST
@mfa_required
def staff_work(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Teams, skills and the overall number of open cases."""
    viewer, person = _active_member(request, staff_id, "staff.change_user")
    form = StaffWorkForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            staff_work_set(
                user=person,
                teams=list(data["teams"]),
                skills=list(data["skills"]),
                max_open_cases=data["max_open_cases"],
                actor=viewer,
                branch=data["branch"],
            )
        except BankdeskError as exc:
            form.add_error(None, problem_text(exc))
            return _member_page(request, person, status=_status(exc), work_form=form)
        return _done(request, person, _("Teams, skills and capacity saved."))
    return _member_page(request, person, status=400, work_form=form)


@require_POST
@mfa_required
def staff_capacity(request: HttpRequest, staff_id: int) -> HttpResponse:
    """How many active cases the member holds at once on one channel; empty lifts the limit."""
    viewer, person = _active_member(
        request, staff_id, "staff.change_user", "staff.change_channelcapacity"
    )
    form = CapacityForm(request.POST)
    if form.is_valid():
        try:
            channel_capacity_set(
                user=person,
                channel=form.cleaned_data["channel"],
                max_open_cases=form.cleaned_data["max_open_cases"],
                actor=viewer,
            )
        except BankdeskError as exc:
            form.add_error(None, problem_text(exc))
            return _member_page(request, person, status=_status(exc), capacity_form=form)
        return _done(request, person, _("Channel capacity saved."))
    return _member_page(request, person, status=400, capacity_form=form)


@require_POST
@mfa_required
def staff_deactivate_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    viewer, person = _active_member(request, staff_id, "staff.change_user")
    try:
        staff_deactivate(user=person, actor=viewer)
    except BankdeskError as exc:
        messages.error(request, problem_text(exc))
        return _member_page(request, person, status=_status(exc))
    return _done(request, person, _("Deactivated: they can no longer sign in."))


@require_POST
@mfa_required
def staff_mfa_reset_view(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Remove the member's authenticators: they set up a new one at their next sign-in."""
    viewer, person = _active_member(request, staff_id)
    if not is_admin(viewer):
        raise PermissionDenied
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            staff_mfa_reset(user=person, actor=viewer, reason=form.cleaned_data["reason"])
        except BankdeskError as exc:
            form.add_error(None, problem_text(exc))
            return _member_page(request, person, status=_status(exc), mfa_form=form)
        return _done(
            request, person, _("Second factor reset: they set up a new authenticator next time.")
        )
    return _member_page(request, person, status=400, mfa_form=form)


@require_POST
@mfa_required
def staff_role_request(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Ask for another role; a second administrator decides."""
    viewer, person = _active_member(request, staff_id, "staff.add_rolechangerequest")
    form = RoleChangeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            role_change_request(user=person, role=data["role"], reason=data["reason"], actor=viewer)
        except BankdeskError as exc:
            form.add_error(None, problem_text(exc))
            return _member_page(request, person, status=_status(exc), role_form=form)
        return _done(request, person, _("Role change requested: another administrator decides."))
    return _member_page(request, person, status=400, role_form=form)


DECISIONS: dict[str, tuple[Callable[..., RoleChangeRequest], StrPromise]] = {
    "approve": (role_change_approve, gettext_lazy("Approved: the new role applies now.")),
    "reject": (role_change_reject, gettext_lazy("Rejected: the role stays as it is.")),
    "withdraw": (role_change_withdraw, gettext_lazy("Withdrawn.")),
}


@require_POST
@mfa_required
def staff_role_decide(request: HttpRequest, staff_id: int) -> HttpResponse:
    """Approve, reject or withdraw the member's pending role change (the service holds four
    eyes: never one's own request, never about oneself)."""
    viewer, person = _active_member(request, staff_id)
    form = DecisionForm(request.POST)
    pending = _pending(person)
    if pending is None:
        raise Http404
    if not form.is_valid():
        return _member_page(request, person, status=400, decision_form=form)
    decision = form.cleaned_data["decision"]
    perm = (
        "staff.add_rolechangerequest"
        if decision == "withdraw"
        else "staff.decide_rolechangerequest"
    )
    require(viewer, perm)
    service, said = DECISIONS[decision]
    try:
        service(change=pending, actor=viewer, note=form.cleaned_data["note"])
    except BankdeskError as exc:
        form.add_error(None, problem_text(exc))
        return _member_page(request, person, status=_status(exc), decision_form=form)
    return _done(request, person, str(said))


urlpatterns: list[URLPattern] = [
    path("manage/staff/", staff_list, name="manage_staff"),
    path("manage/staff/new/", staff_new, name="manage_staff_new"),
    path("manage/staff/<int:staff_id>/", staff_member, name="manage_staff_member"),
    path("manage/staff/<int:staff_id>/work/", staff_work, name="manage_staff_work"),
    path("manage/staff/<int:staff_id>/capacity/", staff_capacity, name="manage_staff_capacity"),
    path(
        "manage/staff/<int:staff_id>/deactivate/",
        staff_deactivate_view,
        name="manage_staff_deactivate",
    ),
    path(
        "manage/staff/<int:staff_id>/mfa-reset/",
        staff_mfa_reset_view,
        name="manage_staff_mfa_reset",
    ),
    path("manage/staff/<int:staff_id>/role/", staff_role_request, name="manage_staff_role"),
    path(
        "manage/staff/<int:staff_id>/role/decide/",
        staff_role_decide,
        name="manage_staff_role_decide",
    ),
]
