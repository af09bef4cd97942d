"""`bankdesk createadmin`: add one of an installation's first two administrators (asks for the
password unless given). With two active administrators it refuses: from then on a role is asked
for by one administrator and approved by another, in the admin screens or the API."""

from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.models import User
from bankdesk.staff.role_changes import (
    ADMINISTRATORS_FOR_FOUR_EYES,
    administrator_bootstrap,
    administrators_active,
)


class Command(BaseCommand):
    help = (
        f"Create one of the first {ADMINISTRATORS_FOR_FOUR_EYES} administrators; after that, "
        "roles are requested and approved by two administrators."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env",
            default="",
            help="read the password from this environment variable instead of asking",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        # Checked again, under the transaction, when the account is made; asked here first so
        # nobody types a password twice for nothing.
        if administrators_active() >= ADMINISTRATORS_FOR_FOUR_EYES:
            raise CommandError(
                f"this installation already has {ADMINISTRATORS_FOR_FOUR_EYES} or more active "
                "administrators: add the person in the admin screens, then have one administrator "
                "ask for the administrator role and another approve it"
            )
        if User.objects.filter(username=username).exists():
            raise CommandError(f"{username!r} already exists")
        if options["password_env"]:
            password = os.environ.get(options["password_env"], "")
            if not password:
                raise CommandError(f"${options['password_env']} is empty")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            validate_password(password, User(username=username))
            administrator_bootstrap(username=username, password=password, email=options["email"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"administrator {username!r} created")
