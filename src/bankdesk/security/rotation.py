"""Re-encrypting customer data under a new key, in batches, resumable at any point."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from bankdesk.security.crypto import KeyRing, split_ciphertext
from bankdesk.security.fields import EncryptedTextField


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return self.field.crypto_context


def encrypted_columns() -> list[EncryptedColumn]:
    return [
        EncryptedColumn(model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def _raw_rows(column: EncryptedColumn, after_pk: int, batch: int) -> list[tuple[int, str]]:
    quote = connection.ops.quote_name
    table, pk = quote(column.model._meta.db_table), quote(column.model._meta.pk.column)
    col = quote(column.field.column)
    sql = (
        f"SELECT {pk}, {col} FROM {table} WHERE {pk} > %s AND {col} IS NOT NULL "  # noqa: S608  # nosec B608 - names from the models
        f"AND {col} <> '' ORDER BY {pk} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [after_pk, batch])
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


def key_usage() -> dict[str, int]:
    """How many stored values each key id encrypts, over every encrypted column."""
    usage: dict[str, int] = {}
    for column in encrypted_columns():
        after = 0
        while rows := _raw_rows(column, after, 5000):
            for _pk, stored in rows:
                key_id, _ = split_ciphertext(stored)
                usage[key_id] = usage.get(key_id, 0) + 1
            after = rows[-1][0]
    return usage


def reencrypt_batches(ring: KeyRing, *, batch: int = 500) -> Iterator[tuple[str, int]]:
    """Re-encrypt every value not under the primary key; yields (column, rows rewritten).

    Each batch commits on its own, so an interrupted run loses nothing and simply continues
    where it stopped when started again.
    """
    quote = connection.ops.quote_name
    for column in encrypted_columns():
        table = quote(column.model._meta.db_table)
        pk, col = quote(column.model._meta.pk.column), quote(column.field.column)
        update = f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s"  # noqa: S608  # nosec B608
        after = 0
        while rows := _raw_rows(column, after, batch):
            after = rows[-1][0]
            changes = []
            for row_pk, stored in rows:
                key_id, _ = split_ciphertext(stored)
                if key_id == ring.primary_id:
                    continue
                plain = ring.decrypt(stored, context=column.label)
                changes.append((ring.encrypt(plain, context=column.label), row_pk, stored))
            if changes:
                with transaction.atomic(), connection.cursor() as cursor:
                    # "AND value = old" skips a row someone changed meanwhile (already re-keyed).
                    cursor.executemany(update, changes)
            yield column.label, len(changes)
