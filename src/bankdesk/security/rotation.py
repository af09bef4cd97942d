"""Re-encrypting customer data in batches, resumable at any point.

One pass serves two purposes: after a rotation it moves every value under the new primary key,
and it binds to its row every value written before values were bound to rows (`bdx1`). A value
already in the current form under the primary key is left alone, so a run that was interrupted
simply continues where it stopped when started again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps as installed_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from tqdm import tqdm

from bankdesk.security.crypto import COLUMN_BOUND, KeyRing, ciphertext_parse
from bankdesk.security.fields import EncryptedTextField, row_identity


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField

    @property
    def label(self) -> str:
        return self.field.crypto_context


def encrypted_columns(registry: Apps = installed_apps) -> list[EncryptedColumn]:
    """Every encrypted column, of the installed models or of a migration's historical ones."""
    return [
        EncryptedColumn(model, field)
        for model in registry.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def _names(column: EncryptedColumn, using: str) -> tuple[str, str, str]:
    quote = connections[using].ops.quote_name
    meta = column.model._meta
    return quote(meta.db_table), quote(meta.pk.column), quote(column.field.column)


def _raw_rows(
    column: EncryptedColumn, after_pk: int, batch: int, *, using: str
) -> list[tuple[int, str]]:
    table, pk, col = _names(column, using)
    sql = (
        f"SELECT {pk}, {col} FROM {table} WHERE {pk} > %s AND {col} IS NOT NULL "  # noqa: S608  # nosec B608 - names from the models
        f"AND {col} <> '' ORDER BY {pk} LIMIT %s"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [after_pk, batch])
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


@dataclass(frozen=True)
class ValueCensus:
    """How the stored values stand: how many each key encrypts, and how many are still bound to
    their column only (written before row binding, waiting for the re-encryption)."""

    by_key: dict[str, int]
    column_bound: int


def value_census(
    *, columns: list[EncryptedColumn] | None = None, using: str = DEFAULT_DB_ALIAS
) -> ValueCensus:
    by_key: dict[str, int] = {}
    column_bound = 0
    for column in encrypted_columns() if columns is None else columns:
        after = 0
        while rows := _raw_rows(column, after, 5000, using=using):
            for _pk, stored in rows:
                value = ciphertext_parse(stored)
                by_key[value.key_id] = by_key.get(value.key_id, 0) + 1
                column_bound += not value.is_row_bound
            after = rows[-1][0]
    return ValueCensus(by_key, column_bound)


def key_usage() -> dict[str, int]:
    """How many stored values each key id encrypts, over every encrypted column."""
    return value_census().by_key


def column_bound_values_exist(
    *, columns: list[EncryptedColumn] | None = None, using: str = DEFAULT_DB_ALIAS
) -> bool:
    """Whether any value still waits to be bound to its row (each scan stops at the first)."""
    for column in encrypted_columns() if columns is None else columns:
        table, _pk, col = _names(column, using)
        with connections[using].cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {table} WHERE {col} LIKE %s LIMIT 1",  # noqa: S608  # nosec B608 - names from the models
                [f"{COLUMN_BOUND}$%"],
            )
            if cursor.fetchone() is not None:
                return True
    return False


def reencrypt_batches(
    ring: KeyRing,
    *,
    batch: int = 500,
    columns: list[EncryptedColumn] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[tuple[str, int]]:
    """Rewrite every value not under the primary key or not bound to its row, each bound to the
    row it is in; yields (column, rows rewritten) per batch.

    Each batch commits on its own, so an interrupted run loses nothing and simply continues
    where it stopped when started again. A value that does not open for its row (moved there
    from another) stops the run with a DecryptionError naming it.
    """
    connection = connections[using]
    for column in encrypted_columns() if columns is None else columns:
        table, pk, col = _names(column, using)
        update = f"UPDATE {table} SET {col} = %s WHERE {pk} = %s AND {col} = %s"  # noqa: S608  # nosec B608
        after = 0
        while rows := _raw_rows(column, after, batch, using=using):
            after = rows[-1][0]
            changes = []
            for row_pk, stored in rows:
                value = ciphertext_parse(stored)
                if value.key_id == ring.primary_id and value.is_row_bound:
                    continue
                row = row_identity(row_pk)
                plain = ring.decrypt(stored, context=column.label, row=row)
                changes.append((ring.encrypt(plain, context=column.label, row=row), row_pk, stored))
            if changes:
                with transaction.atomic(using=using), connection.cursor() as cursor:
                    # "AND value = old" skips a row someone changed meanwhile (already re-keyed).
                    cursor.executemany(update, changes)
            yield column.label, len(changes)


def reencrypt_all(
    ring: KeyRing,
    *,
    batch: int = 500,
    columns: list[EncryptedColumn] | None = None,
    using: str = DEFAULT_DB_ALIAS,
    progress: bool = False,
) -> int:
    """Run the re-encryption to the end, with a progress bar; how many values it rewrote."""
    total = 0
    with tqdm(desc="re-encrypting", unit=" values", disable=not progress) as bar:
        for _label, count in reencrypt_batches(ring, batch=batch, columns=columns, using=using):
            total += count
            bar.update(count)
    return total
