"""The bank's service-centre staff, the teams they work in and what they are skilled at."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import Language
from bankdesk.staff.choices import Presence, Role, SkillKind, TokenScope


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

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. One role decides what they may do; teams decide which cases they see."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    preferred_language = models.CharField(
        max_length=10,
        choices=Language.choices,
        default=Language.ZH_HANS,
    )
    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    skills = models.ManyToManyField(Skill, related_name="holders", blank=True)
    # Routing: only available agents receive work, up to their capacity.
    presence = models.CharField(max_length=10, choices=Presence.choices, default=Presence.OFFLINE)
    max_open_cases = models.PositiveSmallIntegerField(
        default=8, help_text=_("Open cases this person may hold at once.")
    )

    def __str__(self) -> str:
        return self.display_name or self.username


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
