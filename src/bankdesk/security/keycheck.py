"""Proof that the loaded keys are the ones this database was encrypted and indexed with.

Each data key is remembered by a known text it encrypted; the index key by the blind index it
made of a known text. Both are compared at start, so a wrong key stops bankdesk there rather than
decrypting nothing (a data key) or missing every look-up and registering every returning customer
again (the index key).
"""

from __future__ import annotations

import hmac

from django.db import IntegrityError, transaction
from django.db.utils import OperationalError, ProgrammingError

from bankdesk.security.crypto import KeyRing, KeyRingError, keyring_from_settings

CANARY = "bankdesk key check"
CANARY_CONTEXT = "security.keycheck"
# The index key's check shares the table with the data keys' checks under an id no data key can
# have (key ids are letters, digits, "-" and "_").
INDEX_KEY_CHECK = "~index"


def _checks() -> list[tuple[str, str]] | None:
    from bankdesk.security.models import KeyCheck

    try:
        return list(KeyCheck.objects.values_list("key_id", "canary"))
    except (OperationalError, ProgrammingError):
        return None  # not migrated yet: nothing can be encrypted yet either


def index_canary(ring: KeyRing) -> str:
    """The blind index of the known text: equal for equal index keys, and reveals neither."""
    return ring.blind_index(CANARY_CONTEXT, CANARY)


def keyring_verify(ring: KeyRing, checks: list[tuple[str, str]]) -> None:
    data_checks = [(key_id, canary) for key_id, canary in checks if key_id != INDEX_KEY_CHECK]
    for key_id, canary in data_checks:
        if key_id not in ring.keys:
            continue  # retired key; `keys retire` made sure no value still uses it
        if ring.decrypt(canary, context=CANARY_CONTEXT) != CANARY:
            raise KeyRingError(f"key {key_id!r} does not match this database")
    known = {key_id for key_id, _ in data_checks}
    if data_checks and not known & set(ring.keys):
        raise KeyRingError(
            f"none of the keys in {ring.source} was ever used by this database "
            f"(it knows {', '.join(sorted(known))}): wrong key file?"
        )
    for key_id, canary in checks:
        if key_id == INDEX_KEY_CHECK and not hmac.compare_digest(canary, index_canary(ring)):
            raise KeyRingError(
                f"the index key in {ring.source} is not the one this database's look-ups were "
                "made with: every search for a customer would miss and register them again. "
                "Restore the index key (BANKDESK_INDEX_KEY, or index_key in the key file) "
                "this database was built with"
            )


def keycheck_record(ring: KeyRing) -> None:
    """Remember each key of the ring, and the index key, so a wrong one is caught later."""
    from bankdesk.security.models import KeyCheck

    known = set(KeyCheck.objects.values_list("key_id", flat=True))
    checks = {
        key_id: ring.encrypt(CANARY, context=CANARY_CONTEXT, key_id=key_id)
        for key_id in ring.keys
        if key_id not in known
    }
    if INDEX_KEY_CHECK not in known:
        checks[INDEX_KEY_CHECK] = index_canary(ring)
    for key_id, canary in checks.items():
        try:
            with transaction.atomic():
                KeyCheck.objects.create(key_id=key_id, canary=canary)
        except IntegrityError:
            pass  # another process recorded it at the same moment


def keyring_open() -> tuple[KeyRing, bool]:
    """Load and verify the ring; also say whether it could be checked against the database.

    A missing or wrong key raises KeyRingError; there is never a plaintext fallback.
    """
    checks = _checks()
    ring = keyring_from_settings(create=not checks)
    if checks is None:
        return ring, False
    keyring_verify(ring, checks)
    keycheck_record(ring)
    return ring, True
