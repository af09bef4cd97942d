"""Each encrypted value is sealed to its table, column and row: anywhere else, it is refused."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction

from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.services import HoldingInput, IdentityInput, customer_create
from bankdesk.security import rotation
from bankdesk.security.crypto import DecryptionError, keyring
from bankdesk.security.fields import EncryptedTextField
from bankdesk.security.rotation import reencrypt_batches

pytestmark = pytest.mark.django_db

NAME = "customers.customer.name"


def _customer(number: int, name: str) -> Customer:
    return customer_create(
        customer_number=f"66{number:08d}",
        name=name,
        identities=[IdentityInput(kind="phone", value=f"+8613{number:09d}")],
        holdings=[
            HoldingInput(kind="account", product="储蓄", reference=f"ACC-{number}", last4="0001")
        ],
    )


def _stored(model: type, column: str, pk: int) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def _store(model: type, column: str, pk: int, value: str) -> None:
    """What an attacker with write access to the database can do."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])


def test_names_swapped_between_two_customers_are_refused_on_every_read() -> None:
    wang, li = _customer(1, "王小明"), _customer(2, "李四")
    wang_name, li_name = _stored(Customer, "name", wang.pk), _stored(Customer, "name", li.pk)

    _store(Customer, "name", wang.pk, li_name)
    _store(Customer, "name", li.pk, wang_name)

    with pytest.raises(DecryptionError, match=rf"{NAME}.*row {wang.pk}\b"):
        Customer.objects.get(pk=wang.pk)
    with pytest.raises(DecryptionError, match=rf"{NAME}.*row {li.pk}\b"):
        list(Customer.objects.filter(pk=li.pk).values_list("name", flat=True))
    with pytest.raises(DecryptionError, match=rf"{NAME}.*row {li.pk}\b"):
        Identity.objects.select_related("customer").get(customer=li).customer.name  # noqa: B018


def test_identities_and_holdings_moved_to_another_row_are_refused() -> None:
    wang, li = _customer(3, "王小明"), _customer(4, "李四")
    wang_phone, li_phone = wang.identities.get(), li.identities.get()
    wang_ref, li_ref = wang.holdings.get(), li.holdings.get()

    _store(Identity, "value", li_phone.pk, _stored(Identity, "value", wang_phone.pk))
    _store(Holding, "reference", li_ref.pk, _stored(Holding, "reference", wang_ref.pk))

    with pytest.raises(DecryptionError, match=rf"customers.identity.value.*row {li_phone.pk}\b"):
        Identity.objects.get(pk=li_phone.pk)
    with pytest.raises(DecryptionError, match=rf"customers.holding.reference.*row {li_ref.pk}\b"):
        list(Holding.objects.filter(customer=li).values("reference"))
    assert Identity.objects.get(pk=wang_phone.pk).value == "+8613000000003"


def test_new_rows_are_sealed_to_their_own_id_on_every_way_in() -> None:
    created = _customer(5, "张三")
    saved = Customer(customer_number="6600000006", name="赵六")
    saved.save()
    bulk = Customer.objects.bulk_create(
        [Customer(customer_number=f"66000001{i:02d}", name=f"客户{i}") for i in range(3)]
    )
    created.name = "张三丰"
    created.save()

    ring = keyring()
    for customer in [created, saved, *bulk]:
        stored = _stored(Customer, "name", customer.pk)
        assert stored.startswith("bdx2$")
        assert ring.decrypt(stored, context=NAME, row=str(customer.pk)) == customer.name
        with pytest.raises(DecryptionError):
            ring.decrypt(stored, context=NAME, row=str(customer.pk + 1000))
    assert sorted(Customer.objects.filter(pk__in=[c.pk for c in bulk]).values_list("name")) == [
        ("客户0",),
        ("客户1",),
        ("客户2",),
    ]


def test_a_value_cannot_be_written_without_its_row() -> None:
    customer = _customer(7, "王五")
    with pytest.raises(TypeError, match=rf"{NAME}.*save"), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(name="王五五")
    assert Customer.objects.get(pk=customer.pk).name == "王五"


def _column_bound(model: type, column: str, context: str) -> int:
    """Rewrite every value of a column as bankdesk wrote it before values were bound to rows."""
    ring = keyring()
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {column} FROM {table}")
        rows = cursor.fetchall()
    for pk, stored in rows:
        plain = ring.decrypt(stored, context=context, row=str(pk))
        _store(model, column, pk, ring.encrypt(plain, context=context))
    return len(rows)


def _bind_step():
    """The data migration that binds values written before row binding to their rows."""
    return importlib.import_module(
        "bankdesk.security.migrations.0004_encrypted_values_bound_to_rows"
    )


def test_values_written_before_row_binding_are_read_then_bound_resumably() -> None:
    people = {_customer(10 + i, f"客户{i:02d}").pk: f"客户{i:02d}" for i in range(12)}
    old = _column_bound(Customer, "name", NAME)
    old += _column_bound(Identity, "value", "customers.identity.value")
    assert all(_stored(Customer, "name", pk).startswith("bdx1$") for pk in people)

    # Still readable, on every read path, while they wait for the re-encryption.
    assert dict(Customer.objects.filter(pk__in=people).values_list("pk", "name")) == people
    assert rotation.value_census().column_bound == old
    status = io.StringIO()
    call_command("keys", "status", stdout=status)
    assert f"{old} values are not yet bound to their rows" in status.getvalue()

    # Interrupted after two batches of five: those rows are bound, the rest are still readable.
    batches = reencrypt_batches(keyring(), batch=5)
    rewritten = next(batches)[1] + next(batches)[1]
    batches.close()
    assert rewritten == 10
    assert rotation.value_census().column_bound == old - 10
    assert dict(Customer.objects.filter(pk__in=people).values_list("pk", "name")) == people

    # Started again (as `migrate` does after an interruption), it finishes the rest.
    _bind_step().values_bind_to_rows(apps, connection.schema_editor())
    assert rotation.value_census().column_bound == 0
    assert all(_stored(Customer, "name", pk).startswith("bdx2$") for pk in people)
    assert dict(Customer.objects.filter(pk__in=people).values_list("pk", "name")) == people
    assert {i.customer_id: i.value for i in Identity.objects.filter(customer__in=people)} == {
        pk: f"+8613{i + 10:09d}" for i, pk in enumerate(people)
    }


def test_a_column_bound_value_moved_to_another_column_is_still_refused() -> None:
    customer = _customer(30, "钱七")
    _column_bound(Customer, "name", NAME)
    phone = customer.identities.get()
    _store(Identity, "value", phone.pk, _stored(Customer, "name", customer.pk))
    with pytest.raises(DecryptionError, match=rf"customers.identity.value.*row {phone.pk}\b"):
        Identity.objects.get(pk=phone.pk)


def test_an_encrypted_field_outside_an_encrypted_model_fails_the_system_check() -> None:
    class Loose(models.Model):
        secret = EncryptedTextField()

        class Meta:
            abstract = True
            app_label = "security"

    assert "security.E001" in [error.id for error in Loose._meta.get_field("secret").check()]
