"""The bank's service-centre staff, the teams they work in and what they are skilled at."""

from __future__ import annotations

from typing import Any, NoReturn

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import Language
from bankdesk.staff.choices import Presence, Role, RoleChangeStatus, SkillKind, TokenScope


class Team(models.Model):
    """A queue of people: cases are routed to a team, then to one of its members."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    is_complaint_team = models.BooleanField(
        default=False, help_text=_("The dedicated complaint-handling team.")
    )
    # By name, not import: the SLA app's models refer to teams, so teams cannot import them.
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
        help_text=_("The business calendar this team's service-level clocks run on."),
    )
    # Round-robin routing's place in the queue of people: the next case goes to the first
    # eligible member after this one, in id order. Written only under the team's row lock.
    round_robin_last_user = models.ForeignKey(
        "User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    """A physical branch (网点) of the bank. Cases raised at a branch run their service-level
    clocks on its calendar, which may differ from the service centre's (local holidays, hours)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="branches",
        help_text=_("The business calendar of cases raised at this branch."),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    """Something routing can require: a language, a product, a certification.

    A language skill's code is the language's code in `bankdesk.lib.languages.Language`
    ("zh-hans", "zh-hant", "en"): that is how a routing rule matches people to the case's language.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(max_length=20, choices=SkillKind.choices)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class StaffManager(UserManager["User"]):
    """Django's user manager without superusers: `bankdesk createsuperuser` and friends stop here
    with the way the bank creates administrators instead."""

    def create_superuser(self, *args: Any, **kwargs: Any) -> NoReturn:
        # A ValidationError is what `createsuperuser` turns into a clean one-line refusal.
        raise ValidationError(
            "bankdesk has no superusers: `bankdesk createadmin` creates the first two "
            "administrators; any other role is requested by one administrator and approved by "
            "another in the admin screens (Staff › Role change requests)."
        )


class User(AbstractUser):
    """A member of staff. One role decides what they may do; teams decide which cases they see.

    The role changes only through a RoleChangeRequest one administrator makes and another
    approves. Django's own flags follow from it and are held to it by the database: the admin
    screens (is_staff) are for administrators alone, and nobody is a superuser, who would pass
    every permission check, customers' data and cases included.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=Language.choices,
        default=Language.ZH_HANS,
    )
    teams = models.ManyToManyField(
        Team, related_name="members", blank=True, verbose_name=_("teams")
    )
    skills = models.ManyToManyField(
        Skill, related_name="holders", blank=True, verbose_name=_("skills")
    )
    # Routing: only available agents receive work, up to their capacity.
    presence = models.CharField(
        _("presence"), max_length=10, choices=Presence.choices, default=Presence.OFFLINE
    )
    max_open_cases = models.PositiveSmallIntegerField(
        _("open cases at most"), default=8, help_text=_("Open cases this person may hold at once.")
    )
    # The branch (网点) this person works at, if any: a complaint about that branch is never
    # theirs to handle (tickets.recusal).
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("branch"),
    )

    objects = StaffManager()  # type: ignore[misc]

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # keeps its verbose names
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_superuser=False), name="staff_no_superuser"
            ),
            models.CheckConstraint(
                condition=models.Q(role=Role.ADMIN, is_staff=True)
                | (~models.Q(role=Role.ADMIN) & models.Q(is_staff=False)),
                name="staff_admin_screens_for_administrators_only",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class RoleChangeRequest(models.Model):
    """One administrator asking that a member of staff be given another role, for a second
    administrator to approve or reject: four eyes on every change to what someone may see and do.

    The role they had when it was asked is kept, so the approver sees before and after, and an
    approval of a request overtaken by another change is refused. Nobody decides their own
    request or a request about themselves; the one who asked may withdraw it.
    """

    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="role_change_requests",
        verbose_name=_("member of staff"),
    )
    role_before = models.CharField(_("role before"), max_length=20, choices=Role.choices)
    role_requested = models.CharField(_("requested role"), max_length=20, choices=Role.choices)
    reason = models.CharField(_("reason"), max_length=500)
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RoleChangeStatus.choices,
        default=RoleChangeStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("role change request")
        verbose_name_plural = _("role change requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status=RoleChangeStatus.PENDING),
                name="staff_one_pending_role_change_per_person",
            ),
            models.CheckConstraint(
                condition=~models.Q(role_requested=models.F("role_before")),
                name="staff_role_change_changes_the_role",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status=RoleChangeStatus.PENDING,
                    decided_by__isnull=True,
                    decided_at__isnull=True,
                )
                | (
                    ~models.Q(status=RoleChangeStatus.PENDING)
                    & models.Q(decided_by__isnull=False, decided_at__isnull=False)
                ),
                name="staff_role_change_decided_once_decided",
            ),
            # Four eyes, held by the database too: an approval or rejection is by someone
            # other than the one who asked and the one it is about; a withdrawal by the asker.
            models.CheckConstraint(
                condition=models.Q(status=RoleChangeStatus.PENDING)
                | models.Q(status=RoleChangeStatus.WITHDRAWN, decided_by=models.F("requested_by"))
                | (
                    models.Q(status__in=[RoleChangeStatus.APPROVED, RoleChangeStatus.REJECTED])
                    & ~models.Q(decided_by=models.F("requested_by"))
                    & ~models.Q(decided_by=models.F("user"))
                ),
                name="staff_role_change_decided_by_another_administrator",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user}: {self.get_role_before_display()} → {self.get_role_requested_display()}"
        )


class ChannelCapacity(models.Model):
    """How many active cases one person may hold on one channel at once (say three web chats),
    on top of their overall `max_open_cases`. No row for a channel: only the overall limit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="channel_capacities")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    max_open_cases = models.PositiveSmallIntegerField(
        help_text=_("Active cases on this channel this person may hold at once.")
    )

    class Meta:
        ordering = ["user", "channel"]
        verbose_name = _("channel capacity")
        verbose_name_plural = _("channel capacities")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "channel"], name="staff_one_capacity_per_user_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.channel} ≤ {self.max_open_cases}"


class ApiToken(models.Model):
    """A bearer token for integrations. Only a SHA-256 of the secret is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=120, blank=True)
    # The first characters of the token, shown so people can tell their tokens apart.
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    # "read" tokens may only read; "write" tokens may also change things.
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.WRITE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
