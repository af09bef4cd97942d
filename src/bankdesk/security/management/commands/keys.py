"""`bankdesk keys status|rotate|retire`: the data key ring's life cycle, on the audit chain."""

from __future__ import annotations

import base64
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from bankdesk.security.audit import audit_record
from bankdesk.security.crypto import (
    KeyRing,
    KeyRingError,
    key_file_path,
    keyring,
    keyring_reset,
    keys_from_settings,
    new_key,
    new_key_id,
    write_key_file,
)
from bankdesk.security.files import PLAINTEXT, file_key_usage, files_reencrypt
from bankdesk.security.keycheck import keycheck_record
from bankdesk.security.rotation import reencrypt_all, value_census

# What the audit entries are about: a data key, named by its id (never its material).
DATA_KEY = "security.datakey"


class Command(BaseCommand):
    help = "Show, rotate and retire the keys that encrypt customer data."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="keys in the ring and how many values each encrypts")
        rotate = sub.add_parser(
            "rotate", help="add a new primary key and re-encrypt every value under it"
        )
        rotate.add_argument(
            "--resume",
            action="store_true",
            help="do not add a key; finish re-encrypting under the current primary",
        )
        rotate.add_argument("--batch-size", type=int, default=500)
        retire = sub.add_parser("retire", help="remove a key that no value uses any more")
        retire.add_argument("key_id")
        for command in (rotate, retire):
            command.add_argument(
                "--operator",
                metavar="USERNAME",
                help="the member of staff doing this, for the audit chain (default: system)",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except KeyRingError as exc:
            raise CommandError(str(exc)) from exc

    def _operator(self, options: dict[str, Any]) -> AbstractBaseUser | None:
        username = options.get("operator")
        if not username:
            return None
        operator = get_user_model().objects.filter(username=username, is_active=True).first()
        if operator is None:
            raise CommandError(f"no member of staff is called {username!r}")
        return operator

    def _status(self, options: dict[str, Any]) -> None:
        ring = keyring()
        census = value_census()
        usage = dict(census.by_key)
        files = file_key_usage()
        plaintext = files.pop(PLAINTEXT, 0)
        self.stdout.write(f"key ring: {ring.source}")
        for key_id in ring.keys:
            primary = " (primary)" if key_id == ring.primary_id else ""
            self.stdout.write(
                f"  {key_id}{primary}: {usage.pop(key_id, 0)} values, {files.pop(key_id, 0)} files"
            )
        for key_id in sorted(set(usage) | set(files)):
            self.stdout.write(
                f"  {key_id} MISSING FROM THE RING: {usage.get(key_id, 0)} values, "
                f"{files.get(key_id, 0)} files"
            )
        if census.column_bound:
            self.stdout.write(
                f"{census.column_bound} values are not yet bound to their rows: "
                "`bankdesk keys rotate --resume` binds them"
            )
        if plaintext:
            self.stdout.write(
                f"  {plaintext} uploaded files are not encrypted yet: run "
                "`bankdesk keys rotate --resume`"
            )

    def _rotate(self, options: dict[str, Any]) -> None:
        if not 1 <= options["batch_size"] <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100000")
        operator = self._operator(options)
        ring = keyring()
        if not options["resume"]:
            ring = self._primary_add(ring, operator)
        keycheck_record(ring)
        total = reencrypt_all(ring, batch=options["batch_size"], progress=self.stdout.isatty())
        self.stdout.write(f"re-encrypted {total} values under {ring.primary_id}")
        # Uploaded files too: those under an older key, and any kept from before encryption.
        files = 0
        for _name in tqdm(
            files_reencrypt(ring),
            desc="re-encrypting",
            unit=" files",
            disable=not self.stdout.isatty(),
        ):
            files += 1
        self.stdout.write(f"re-encrypted {files} uploaded files under {ring.primary_id}")
        left = {k: n for k, n in value_census().by_key.items() if k != ring.primary_id}
        with transaction.atomic():
            audit_record(
                actor=operator,
                action="keys.reencrypt",
                object_type=DATA_KEY,
                object_id=ring.primary_id,
                reason=f"{total} values re-encrypted under {ring.primary_id}, bound to their rows, "
                f"and {files} uploaded files; values under other keys: {sum(left.values())}",
            )
        self.stdout.write(
            "restart running bankdesk processes so they encrypt new values with it, then run "
            "`bankdesk keys rotate --resume` once more to catch values they wrote meanwhile"
        )
        old = sorted(k for k in ring.keys if k != ring.primary_id and not left.get(k))
        if old:
            self.stdout.write(f"no value uses {', '.join(old)} now; `bankdesk keys retire` them")

    def _primary_add(self, ring: KeyRing, operator: AbstractBaseUser | None) -> KeyRing:
        """Put a new primary key in the key file, on the audit chain in the same step."""
        if keys_from_settings():
            raise CommandError(
                "keys come from BANKDESK_DATA_KEYS: put the new key first there, restart, "
                "then run `bankdesk keys rotate --resume`"
            )
        key_id = new_key_id()
        keys = {key_id: base64.b64decode(new_key()), **ring.keys}
        with transaction.atomic():
            audit_record(
                actor=operator,
                action="keys.rotate",
                object_type=DATA_KEY,
                object_id=key_id,
                reason=f"new primary key {key_id} replaces {ring.primary_id}",
            )
            # Written last: if the file cannot be written the audit entry rolls back with it.
            write_key_file(key_file_path(), KeyRing(key_id, keys, ring.index_key, ring.source))
        keyring_reset()
        ring = keyring()
        self.stdout.write(f"new primary key {key_id} written to {ring.source}")
        return ring

    def _retire(self, options: dict[str, Any]) -> None:
        operator = self._operator(options)
        ring = keyring()
        key_id = options["key_id"]
        if key_id not in ring.keys:
            raise CommandError(f"{key_id!r} is not in the key ring")
        if key_id == ring.primary_id:
            raise CommandError("the primary key cannot be retired; rotate first")
        in_use = value_census().by_key.get(key_id, 0)
        if in_use:
            raise CommandError(f"{in_use} values still use {key_id}; run `keys rotate --resume`")
        files_in_use = file_key_usage().get(key_id, 0)
        if files_in_use:
            raise CommandError(
                f"{files_in_use} uploaded files still use {key_id}; run `keys rotate --resume`"
            )
        from_settings = keys_from_settings()
        with transaction.atomic():
            audit_record(
                actor=operator,
                action="keys.retire",
                object_type=DATA_KEY,
                object_id=key_id,
                reason=f"no value uses {key_id}; primary key {ring.primary_id}"
                + ("; to be removed from BANKDESK_DATA_KEYS" if from_settings else ""),
            )
            if not from_settings:
                keys = {k: v for k, v in ring.keys.items() if k != key_id}
                write_key_file(
                    key_file_path(), KeyRing(ring.primary_id, keys, ring.index_key, ring.source)
                )
        keyring_reset()
        if from_settings:
            self.stdout.write(f"remove {key_id} from BANKDESK_DATA_KEYS; nothing uses it")
            return
        self.stdout.write(f"retired {key_id}")
        self.stdout.write(
            f"note: backups made while {key_id} was primary, without BANKDESK_BACKUP_KEY, open "
            "only with a saved copy of the old key file; keep one with those backups"
        )
