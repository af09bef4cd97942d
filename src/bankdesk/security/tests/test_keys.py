"""The key ring: wrong or missing keys stop bankdesk; rotation re-keys everything, resumably."""

from __future__ import annotations

import base64
import io
import json
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.services import HoldingInput, IdentityInput, customer_create
from bankdesk.security.audit import audit_verify
from bankdesk.security.crypto import (
    DecryptionError,
    KeyRingError,
    keyring,
    keyring_reset,
    new_key,
    split_ciphertext,
)
from bankdesk.security.models import AuditEntry
from bankdesk.security.rotation import key_usage

pytestmark = pytest.mark.django_db


def _customers(count: int) -> list[int]:
    return [
        customer_create(
            customer_number=f"77{i:08d}",
            name=f"Customer {i}",
            identities=[IdentityInput(kind="phone", value=f"+8613{i:09d}")],
            holdings=[
                HoldingInput(kind="account", product="储蓄账户", reference=f"ACC-{i}", last4="0001")
            ],
        ).pk
        for i in range(count)
    ]


def _raw_key_ids() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name FROM {Customer._meta.db_table}")
        return {split_ciphertext(row[0])[0] for row in cursor.fetchall()}


def test_the_key_file_is_readable_by_its_owner_only(isolated_keys):
    assert stat.S_IMODE(os.stat(isolated_keys).st_mode) == 0o600


def test_rotation_rekeys_every_value_and_the_old_key_can_then_go(isolated_keys, capsys):
    ids = _customers(25)
    old_id = keyring().primary_id
    assert _raw_key_ids() == {old_id}

    call_command("keys", "rotate", "--batch-size", "7")
    new_id = keyring().primary_id
    assert new_id != old_id
    assert _raw_key_ids() == {new_id}
    assert key_usage().get(old_id, 0) == 0

    call_command("keys", "retire", old_id)
    assert old_id not in json.loads(isolated_keys.read_text())["keys"]
    keyring_reset()
    names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
    assert names == {pk: f"Customer {i}" for i, pk in enumerate(ids)}
    assert Identity.objects.filter(customer_id=ids[3]).get().value == "+8613000000003"
    assert Holding.objects.get(customer_id=ids[5]).reference == "ACC-5"


def test_an_interrupted_rotation_resumes(isolated_keys):
    _customers(10)
    old_id = keyring().primary_id
    from bankdesk.security.rotation import reencrypt_batches

    call_command("keys", "rotate", "--batch-size", "3")  # completes; simulate a half-done state:
    ring = keyring()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, name FROM {Customer._meta.db_table} ORDER BY id LIMIT 4")
        rows = cursor.fetchall()
        for pk, stored in rows:
            context, row = "customers.customer.name", str(pk)
            plain = ring.decrypt(stored, context=context, row=row)
            again = ring.encrypt(plain, context=context, key_id=old_id, row=row)
            cursor.execute(
                f"UPDATE {Customer._meta.db_table} SET name = %s WHERE id = %s", [again, pk]
            )
    assert key_usage()[old_id] == 4
    rewritten = sum(count for _label, count in reencrypt_batches(ring, batch=2))
    assert rewritten == 4
    assert key_usage().get(old_id, 0) == 0


def test_retiring_a_key_still_in_use_is_refused(isolated_keys):
    _customers(3)
    old_id = keyring().primary_id
    call_command("keys", "rotate")
    call_command("keys", "rotate")
    with pytest.raises(CommandError, match="primary"):
        call_command("keys", "retire", keyring().primary_id)
    assert old_id in keyring().keys


def test_a_missing_key_file_stops_bankdesk_with_a_clear_message(isolated_keys):
    _customers(2)
    isolated_keys.unlink()
    keyring_reset()
    with pytest.raises(KeyRingError, match="no data keys"):
        keyring()
    assert not isolated_keys.exists()  # and no new key was quietly made up


def test_a_wrong_key_stops_bankdesk_and_nothing_decrypts_to_garbage(isolated_keys):
    _customers(2)
    data = json.loads(isolated_keys.read_text())
    data["keys"][data["primary"]] = new_key()
    isolated_keys.write_text(json.dumps(data))
    keyring_reset()
    with pytest.raises(KeyRingError):
        keyring()


def test_keys_from_the_settings_must_match_too(isolated_keys, settings):
    _customers(1)
    ring = keyring()
    pairs = [f"{kid}:{base64.b64encode(k).decode()}" for kid, k in ring.keys.items()]
    settings.BANKDESK_DATA_KEYS = ",".join(pairs)
    settings.BANKDESK_INDEX_KEY = base64.b64encode(ring.index_key).decode()
    keyring_reset()
    assert keyring().source == "BANKDESK_DATA_KEYS"
    assert Customer.objects.get().name == "Customer 0"
    settings.BANKDESK_DATA_KEYS = f"{ring.primary_id}:{new_key()}"
    keyring_reset()
    with pytest.raises(KeyRingError):
        keyring()
    settings.BANKDESK_DATA_KEYS = "not a key list"
    keyring_reset()
    with pytest.raises(KeyRingError, match="BANKDESK_DATA_KEYS"):
        keyring()


def test_a_value_moved_to_another_column_does_not_decrypt(isolated_keys):
    ring = keyring()
    stored = ring.encrypt("王小明", context="customers.customer.name")
    with pytest.raises(DecryptionError):
        ring.decrypt(stored, context="customers.identity.value")
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    with pytest.raises(DecryptionError):
        ring.decrypt(flipped, context="customers.customer.name")


def test_a_wrong_index_key_stops_bankdesk_at_start(isolated_keys):
    _customers(2)
    data = json.loads(isolated_keys.read_text())
    data["index_key"] = new_key()
    isolated_keys.write_text(json.dumps(data))
    keyring_reset()
    with pytest.raises(KeyRingError, match="index key"):
        keyring()


def test_rotation_and_retirement_are_on_the_audit_chain(isolated_keys, make_staff):
    _customers(3)
    operator = make_staff("keyholder", role="admin")
    first = keyring().primary_id

    call_command("keys", "rotate", "--operator", "keyholder", stdout=io.StringIO())
    second = keyring().primary_id
    call_command("keys", "retire", first, stdout=io.StringIO())

    entries = list(AuditEntry.objects.filter(action__startswith="keys.").order_by("sequence"))
    assert [(e.action, e.object_id, e.actor_id, e.actor_name) for e in entries] == [
        ("keys.rotate", second, operator.pk, "keyholder"),
        ("keys.reencrypt", second, operator.pk, "keyholder"),
        ("keys.retire", first, None, "system"),
    ]
    assert first in entries[0].reason and "9 values" in entries[1].reason
    material = json.loads(isolated_keys.read_text())
    secrets = [*material["keys"].values(), material["index_key"]]
    for entry in entries:
        written = json.dumps([entry.reason, entry.fields, entry.object_type])
        assert not any(secret in written or secret[:16] in written for secret in secrets)
    assert audit_verify().is_intact


def test_an_unknown_operator_is_refused_before_anything_changes(isolated_keys, capsys):
    before = keyring().primary_id
    with pytest.raises(CommandError, match="no member of staff is called 'nobody'"):
        call_command("keys", "rotate", "--operator", "nobody", stdout=io.StringIO())
    keyring_reset()
    assert keyring().primary_id == before
    assert not AuditEntry.objects.filter(action__startswith="keys.").exists()
