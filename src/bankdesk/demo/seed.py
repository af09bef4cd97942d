"""The demo bank's fixed part: teams, the case taxonomy, the staff who log in, and its WeChat
account."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from bankdesk.demo.service_levels import demo_service_levels_seed
from bankdesk.demo.taxonomy import NAMED_LOGINS, STAFF, STAFF_EMAIL_DOMAIN, TAXONOMY, TEAMS
from bankdesk.feedback.models import FollowUpRule, SurveyTemplate
from bankdesk.feedback.seed import feedback_seed
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.channels import Channel
from bankdesk.lib.env import private_file_secret
from bankdesk.staff.models import Team, User
from bankdesk.staff.services import staff_create, team_create
from bankdesk.tickets.models import Category
from bankdesk.tickets.services import category_create


def _category_codes() -> list[str]:
    return [
        code for group in TAXONOMY for code in (group.code, *(leaf.code for leaf in group.leaves))
    ]


def demo_base_exists() -> bool:
    """Whether the demo teams, taxonomy and named logins are all in place."""
    team_codes = [team.code for team in TEAMS]
    category_codes = _category_codes()
    return (
        Team.objects.filter(code__in=team_codes).count() == len(team_codes)
        and Category.objects.filter(code__in=category_codes).count() == len(category_codes)
        and User.objects.filter(username__in=NAMED_LOGINS).count() == len(NAMED_LOGINS)
    )


@transaction.atomic
def demo_base_seed(*, password: str) -> None:
    """Create the demo bank's teams, case taxonomy and staff, all through the services.

    Meant for an empty database; anything already there under the same code or username is
    left exactly as it is (so an existing admin keeps their password), and the rest is added.
    """
    teams = {team.code: team for team in Team.objects.filter(code__in=[t.code for t in TEAMS])}
    for spec in TEAMS:
        if spec.code not in teams:
            teams[spec.code] = team_create(
                code=spec.code, name=spec.name, is_complaint_team=spec.is_complaint_team
            )

    existing_categories = {
        category.code: category for category in Category.objects.filter(code__in=_category_codes())
    }
    for group in TAXONOMY:
        parent = existing_categories.get(group.code) or category_create(
            code=group.code,
            name=group.name,
            name_en=group.name_en,
            is_complaint=group.is_complaint,
        )
        for leaf in group.leaves:
            if leaf.code not in existing_categories:
                category_create(
                    code=leaf.code,
                    name=leaf.name,
                    name_en=leaf.name_en,
                    parent=parent,
                    is_complaint=group.is_complaint,
                )

    # Follow-up rules and the survey, as a fresh install has them (kept if the bank has its own).
    feedback_seed(SurveyTemplate, FollowUpRule)
    demo_service_levels_seed(
        complaint_team=next(team for team in teams.values() if team.is_complaint_team)
    )

    usernames = set(
        User.objects.filter(username__in=[s.username for s in STAFF]).values_list(
            "username", flat=True
        )
    )
    for staff in STAFF:
        if staff.username in usernames:
            continue
        staff_create(
            username=staff.username,
            password=password,
            role=staff.role,
            display_name=staff.display_name,
            email=f"{staff.username}@{STAFF_EMAIL_DOMAIN}",
            teams=[teams[code] for code in staff.teams],
        )

    demo_wechat_endpoint_seed()


DEMO_WECHAT_CODE = "demo-wechat"


def demo_wechat_endpoint_seed() -> ChannelEndpoint:
    """The demo bank's WeChat official account, served at /intake/wechat/.

    Its secret stays empty, so the webhook takes the token from BANKDESK_WECHAT_TOKEN at each
    request: changing the variable needs no re-seed.
    """
    endpoint, _ = ChannelEndpoint.objects.get_or_create(
        code=DEMO_WECHAT_CODE,
        defaults={
            "channel": Channel.WECHAT,
            "name": "演示银行微信公众号",
            "settings": {"app_id": "", "original_id": ""},
            "secrets": "",
        },
    )
    return endpoint


def demo_password_file() -> Path:
    return Path(settings.BANKDESK_HOME) / "demo_password"


def demo_password() -> tuple[str, bool]:
    """The demo staff password and whether it was generated here (so it must be shown).

    BANKDESK_DEMO_PASSWORD wins; otherwise one is generated once and kept, readable by the owner
    only, in BANKDESK_HOME/demo_password, so `bankdesk up` and `bankdesk demo` agree on it.
    """
    if settings.BANKDESK_DEMO_PASSWORD:
        return settings.BANKDESK_DEMO_PASSWORD, False
    return private_file_secret(demo_password_file(), nbytes=12), True
