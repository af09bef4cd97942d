"""Staff in the admin screens: people, teams, branches and skills, every change on the audit
chain; roles only through requests one administrator makes and another decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from bankdesk.lib.errors import BankdeskError
from bankdesk.security.admin_audit import AuditedModelAdmin
from bankdesk.staff.auth import request_staff
from bankdesk.staff.choices import RoleChangeStatus
from bankdesk.staff.models import (
    ApiToken,
    Branch,
    ChannelCapacity,
    RoleChangeRequest,
    Skill,
    Team,
    User,
)
from bankdesk.staff.role_changes import (
    role_change_approve,
    role_change_reject,
    role_change_request,
    role_change_request_check,
    role_change_withdraw,
)

if TYPE_CHECKING:  # the type of lazy translations, from the type-checking stubs only
    from django_stubs_ext import StrPromise


class ChannelCapacityInline(admin.TabularInline):
    model = ChannelCapacity
    extra = 0


def _role_change_shown(change: RoleChangeRequest) -> str:
    return format_html(
        "<strong>{}</strong> → <strong>{}</strong>",
        change.get_role_before_display(),
        change.get_role_requested_display(),
    )


@admin.register(User)
class StaffUserAdmin(AuditedModelAdmin, UserAdmin):
    """The people of the service centre. The role is shown, never edited here: a change is a
    request another administrator decides. Django's superuser, staff, group and permission
    switches are not offered at all; the role decides them."""

    list_display = ("username", "display_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Personal info"),
            {"fields": ("display_name", "first_name", "last_name", "email", "preferred_language")},
        ),
        (_("Role and access"), {"fields": ("role", "role_change", "is_active")}),
        # Teams widen which cases a person works within what their role allows, never what
        # the role allows; a change here is audited like every other.
        (_("Work"), {"fields": ("teams", "skills", "max_open_cases")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "description": _(
                    "New staff start as agents. Another role is requested after saving, and "
                    "approved by a second administrator."
                ),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("role", "role_change", "last_login", "date_joined")
    inlines = (ChannelCapacityInline,)

    @admin.display(description=_("Role change"))
    def role_change(self, user: User) -> str:
        pending = user.role_change_requests.filter(status=RoleChangeStatus.PENDING).first()
        if pending is not None:
            return format_html(
                '<a href="{}">{}</a>: {}',
                reverse("admin:staff_rolechangerequest_change", args=[pending.pk]),
                _("Awaiting a decision"),
                _role_change_shown(pending),
            )
        return format_html(
            '<a href="{}?user={}">{}</a>',
            reverse("admin:staff_rolechangerequest_add"),
            user.pk,
            _("Request a role change"),
        )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        # The new password and its audit entry commit together, as every admin change does.
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().user_change_password(request, id, form_url)


class StaffChoiceField(forms.ModelChoiceField):
    """Active staff, each shown with the role they have now."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.username}) · {obj.get_role_display()}"


class RoleChangeRequestForm(forms.ModelForm):
    """Asking for a role: for whom, which role, and why. The role they have now is kept with it."""

    actor: User  # set per request by the admin, for the checks the service makes

    class Meta:
        model = RoleChangeRequest
        fields = ("user", "role_requested", "reason")
        field_classes = {"user": StaffChoiceField}
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = self.fields.get("user")  # absent on a request's own page, where all is read-only
        if isinstance(people, StaffChoiceField):
            people.queryset = User.objects.filter(is_active=True).order_by("username")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user, role = cleaned.get("user"), cleaned.get("role_requested")
        if user is not None and role:
            try:
                role_change_request_check(user=user, role=role, actor=self.actor)
            except BankdeskError as exc:
                raise forms.ValidationError(
                    ROLE_CHANGE_PROBLEMS.get(exc.code, exc.message)
                ) from exc
        return cleaned


# What the screens say when a step is refused, by the service's error code.
ROLE_CHANGE_PROBLEMS = {
    "invalid_role": _("This member of staff already has that role."),
    "role_change_pending": _(
        "A role change for this member of staff is already awaiting a decision."
    ),
    "role_change_refused": _("Only an administrator may ask for or decide a role change."),
    "role_change_own_request": _(
        "A role change is decided by an administrator other than the one who asked for it."
    ),
    "role_change_own_role": _("Nobody decides a change to their own role."),
    "role_change_not_requester": _("Only the administrator who asked may withdraw a request."),
    "role_change_decided": _("This request has already been decided."),
    "role_changed_since_request": _(
        "The person's role has changed since this was asked; ask again."
    ),
    "invalid": _("Say why, in at most 500 characters."),
}

DECISIONS: dict[str, tuple[Callable[..., RoleChangeRequest], StrPromise]] = {
    "approve": (role_change_approve, _("Approved: the new role applies now.")),
    "reject": (role_change_reject, _("Rejected: the role stays as it is.")),
    "withdraw": (role_change_withdraw, _("Withdrawn.")),
}


@admin.register(RoleChangeRequest)
class RoleChangeRequestAdmin(admin.ModelAdmin):
    """Role changes awaiting a second administrator, and every decision made. Requests are asked
    and decided through the services, which write the audit entries; nothing here is edited or
    deleted."""

    form = RoleChangeRequestForm
    list_display = ("user", "change_shown", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("user", "requested_by", "decided_by")
    search_fields = ("user__username", "user__display_name")
    shown_fields = (
        "user",
        "change_shown",
        "reason",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )

    @admin.display(description=_("Role: before → after"))
    def change_shown(self, change: RoleChangeRequest) -> str:
        return _role_change_shown(change)

    def get_fields(self, request: HttpRequest, obj: RoleChangeRequest | None = None) -> Any:
        return ("user", "role_requested", "reason") if obj is None else self.shown_fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: RoleChangeRequest | None = None
    ) -> Any:
        return () if obj is None else self.shown_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request_staff(request)})

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("staff.view_rolechangerequest"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("staff.add_rolechangerequest"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided with the buttons on its page, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of who asked and who decided stays

    def save_model(
        self, request: HttpRequest, obj: RoleChangeRequest, form: Any, change: bool
    ) -> None:
        made = role_change_request(
            user=obj.user, role=obj.role_requested, reason=obj.reason, actor=request_staff(request)
        )
        obj.pk, obj.role_before, obj.requested_by = made.pk, made.role_before, made.requested_by

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        change = self.get_object(request, unquote(object_id))
        if change is None or not self.has_view_permission(request, change):
            return super().change_view(request, object_id, form_url, extra_context)
        if request.method == "POST":
            return self._decide(request, change)
        context = {**(extra_context or {}), **self._decision_context(request, change)}
        return super().change_view(request, object_id, form_url, context)

    def _decision_context(self, request: HttpRequest, change: RoleChangeRequest) -> dict[str, Any]:
        """What the viewer may do with the request: the screen offers only that."""
        viewer = request.user
        is_pending = change.status == RoleChangeStatus.PENDING
        may_decide = (
            is_pending
            and viewer.has_perm("staff.decide_rolechangerequest")
            and viewer.pk not in {change.requested_by_id, change.user_id}
        )
        return {
            "role_change": change,
            "may_decide": may_decide,
            "may_withdraw": is_pending and viewer.pk == change.requested_by_id,
            "is_about_viewer": is_pending and viewer.pk == change.user_id,
        }

    def _decide(self, request: HttpRequest, change: RoleChangeRequest) -> HttpResponse:
        decision = DECISIONS.get(str(request.POST.get("decision", "")))
        here = reverse("admin:staff_rolechangerequest_change", args=[change.pk])
        if decision is None:
            return HttpResponseRedirect(here)
        service, done = decision
        try:
            service(change=change, actor=request_staff(request), note=request.POST.get("note", ""))
        except BankdeskError as exc:
            messages.error(request, ROLE_CHANGE_PROBLEMS.get(exc.code, exc.message))
            return HttpResponseRedirect(here)
        messages.success(request, done)
        return HttpResponseRedirect(reverse("admin:staff_rolechangerequest_changelist"))


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "is_complaint_team", "calendar")
    exclude = ("round_robin_last_user",)  # routing's bookmark, not configuration


@admin.register(Branch)
class BranchAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "calendar", "is_active")
    list_filter = ("is_active",)


@admin.register(Skill)
class SkillAdmin(AuditedModelAdmin):
    list_display = ("code", "name", "kind")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
