"""Proof that the loaded keys are the ones this database was encrypted with."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.utils import OperationalError, ProgrammingError

from bankdesk.security.crypto import KeyRing, KeyRingError, keyring_from_environment

CANARY = "bankdesk key check"
CANARY_CONTEXT = "security.keycheck"


def _checks() -> list[tuple[str, str]] | None:
    from bankdesk.security.models import KeyCheck

    try:
        return list(KeyCheck.objects.values_list("key_id", "canary"))
    except (OperationalError, ProgrammingError):
        return None  # not migrated yet: nothing can be encrypted yet either


def keyring_verify(ring: KeyRing, checks: list[tuple[str, str]]) -> None:
    for key_id, canary in checks:
        if key_id not in ring.keys:
            continue  # retired key; `keys retire` made sure no value still uses it
        if ring.decrypt(canary, context=CANARY_CONTEXT) != CANARY:
            raise KeyRingError(f"key {key_id!r} does not match this database")
    known = {key_id for key_id, _ in checks}
    if checks and not known & set(ring.keys):
        raise KeyRingError(
            f"none of the keys in {ring.source} was ever used by this database "
            f"(it knows {', '.join(sorted(known))}): wrong key file?"
        )


def keycheck_record(ring: KeyRing) -> None:
    """Remember each key of the ring by a canary it encrypted, so a wrong key is caught later."""
    from bankdesk.security.models import KeyCheck

    known = set(KeyCheck.objects.values_list("key_id", flat=True))
    for key_id in ring.keys:
        if key_id in known:
            continue
        try:
            with transaction.atomic():
                KeyCheck.objects.create(
                    key_id=key_id,
                    canary=ring.encrypt(CANARY, context=CANARY_CONTEXT, key_id=key_id),
                )
        except IntegrityError:
            pass  # another process recorded it at the same moment


def keyring_open() -> tuple[KeyRing, bool]:
    """Load and verify the ring; also say whether it could be checked against the database.

    A missing or wrong key raises KeyRingError; there is never a plaintext fallback.
    """
    checks = _checks()
    ring = keyring_from_environment(create=not checks)
    if checks is None:
        return ring, False
    keyring_verify(ring, checks)
    keycheck_record(ring)
    return ring, True
