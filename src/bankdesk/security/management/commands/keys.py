"""`bankdesk keys status|rotate|retire`: the data key ring's life cycle."""

from __future__ import annotations

import base64
import os
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bankdesk.security.crypto import (
    KeyRing,
    KeyRingError,
    key_file_path,
    keyring,
    keyring_reset,
    new_key,
    new_key_id,
    write_key_file,
)
from bankdesk.security.files import PLAINTEXT, file_key_usage, files_reencrypt
from bankdesk.security.keycheck import keycheck_record
from bankdesk.security.rotation import key_usage, reencrypt_batches


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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except KeyRingError as exc:
            raise CommandError(str(exc)) from exc

    def _from_env(self) -> bool:
        return bool(os.environ.get("BANKDESK_DATA_KEYS", "").strip())

    def _status(self, options: dict[str, Any]) -> None:
        ring = keyring()
        usage = key_usage()
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
        if plaintext:
            self.stdout.write(
                f"  {plaintext} uploaded files are not encrypted yet: run "
                "`bankdesk keys rotate --resume`"
            )

    def _rotate(self, options: dict[str, Any]) -> None:
        if not 1 <= options["batch_size"] <= 100_000:
            raise CommandError("--batch-size must be between 1 and 100000")
        ring = keyring()
        if not options["resume"]:
            if self._from_env():
                raise CommandError(
                    "keys come from BANKDESK_DATA_KEYS: put the new key first there, restart, "
                    "then run `bankdesk keys rotate --resume`"
                )
            key_id = new_key_id()
            keys = {key_id: base64.b64decode(new_key()), **ring.keys}
            ring = KeyRing(key_id, keys, ring.index_key, source=ring.source)
            write_key_file(key_file_path(), ring)
            keyring_reset()
            ring = keyring()
            self.stdout.write(f"new primary key {key_id} written to {ring.source}")
        keycheck_record(ring)
        total = 0
        progress = tqdm(desc="re-encrypting", unit=" values", disable=not self.stdout.isatty())
        for _label, count in reencrypt_batches(ring, batch=options["batch_size"]):
            total += count
            progress.update(count)
        progress.close()
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
        self.stdout.write(
            "restart running bankdesk processes so they encrypt new values with it, then run "
            "`bankdesk keys rotate --resume` once more to catch values they wrote meanwhile"
        )
        old = sorted(k for k in ring.keys if k != ring.primary_id)
        if old:
            self.stdout.write(f"no value uses {', '.join(old)} now; `bankdesk keys retire` them")

    def _retire(self, options: dict[str, Any]) -> None:
        ring = keyring()
        key_id = options["key_id"]
        if key_id not in ring.keys:
            raise CommandError(f"{key_id!r} is not in the key ring")
        if key_id == ring.primary_id:
            raise CommandError("the primary key cannot be retired; rotate first")
        in_use = key_usage().get(key_id, 0)
        if in_use:
            raise CommandError(f"{in_use} values still use {key_id}; run `keys rotate --resume`")
        files_in_use = file_key_usage().get(key_id, 0)
        if files_in_use:
            raise CommandError(
                f"{files_in_use} uploaded files still use {key_id}; run `keys rotate --resume`"
            )
        if self._from_env():
            self.stdout.write(f"remove {key_id} from BANKDESK_DATA_KEYS; nothing uses it")
            return
        keys = {k: v for k, v in ring.keys.items() if k != key_id}
        write_key_file(key_file_path(), KeyRing(ring.primary_id, keys, ring.index_key, ring.source))
        keyring_reset()
        self.stdout.write(f"retired {key_id}")
        self.stdout.write(
            f"note: backups made while {key_id} was primary, without BANKDESK_BACKUP_KEY, open "
            "only with a saved copy of the old key file; keep one with those backups"
        )
