"""`bankdesk token create --user NAME`: issue an API token; `bankdesk token revoke PREFIX`."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bankdesk.staff.models import ApiToken, User
from bankdesk.staff.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create or revoke API tokens for a member of staff."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token and print it once")
        create.add_argument("--user", required=True, help="username of the member of staff")
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument("--days", type=int, default=None, help="expire after this many days")
        create.add_argument(
            "--scope", choices=["read", "write"], default="write", help="read-only or read-write"
        )
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            self._create(options)
        else:
            self._revoke(options["prefix"])

    def _create(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active member of staff called {options['user']!r}")
        days = options["days"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--days must be between 1 and 3650")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        issued = api_token_create(
            user=user, name=options["name"], expires_at=expires_at, scope=options["scope"]
        )
        # The secret alone on stdout, so scripts can capture it: TOKEN=$(bankdesk token create …)
        self.stdout.write(issued.secret)

    def _revoke(self, prefix: str) -> None:
        tokens = list(ApiToken.objects.filter(prefix=prefix))
        if len(tokens) != 1:
            raise CommandError(f"{len(tokens)} tokens have the prefix {prefix!r}; need exactly one")
        api_token_revoke(token=tokens[0])
        self.stdout.write(f"revoked {prefix}")
