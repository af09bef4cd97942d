"""`bankdesk createadmin`: add an administrator (asks for the password unless given)."""

from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User
from bankdesk.staff.services import staff_create


class Command(BaseCommand):
    help = "Create an administrator account."

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
            staff_create(
                username=username, password=password, role=Role.ADMIN, email=options["email"]
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"administrator {username!r} created")
