"""Models holding encrypted values: each new row has its id before it is written.

An encrypted value is sealed to its row's id, so the id must be known when the value is
encrypted, and a new row has none until the database assigns it. Rather than write the row and
then seal its values in a second write, an EncryptedModel takes its id from the table's own
sequence first and inserts the row once, complete: no row ever holds a placeholder, not even
inside its transaction, and an insert costs one small query more, not a second write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import connections, models, router, transaction

from bankdesk.security.fields import EncryptedTextField


def row_ids_reserve(model: type[models.Model], count: int, *, using: str) -> list[int]:
    """`count` ids for new rows of `model`, taken as the database would have assigned them.

    PostgreSQL draws them from the id column's sequence. SQLite has no sequence: the ids follow
    the highest ever used, and stay safe only inside the write transaction that inserts them
    (bankdesk's SQLite transactions take the write lock at BEGIN), so this refuses to run outside
    one.
    """
    if count <= 0:
        return []
    connection = connections[using]
    quote = connection.ops.quote_name
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(table), column, count],
            )
            return [int(row[0]) for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            if not connection.in_atomic_block:
                raise RuntimeError("row ids are reserved inside the transaction that uses them")
            # AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, deleted rows too.
            used = "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0)"
            present = f"COALESCE((SELECT max({quote(column)}) FROM {quote(table)}), 0)"  # noqa: S608  # nosec B608 - names from the model
            cursor.execute(f"SELECT max({used}, {present})", [table])
            top = int(cursor.fetchone()[0])
            return list(range(top + 1, top + 1 + count))
    raise NotImplementedError(f"row ids cannot be reserved on {connection.vendor}")


def _encrypted_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)}


_Model = TypeVar("_Model", bound=models.Model)


class EncryptedManager(models.Manager[_Model]):
    """bulk_create gives the new rows their ids first, so their values are sealed to them."""

    def bulk_create(self, objs: Iterable[_Model], *args: Any, **kwargs: Any) -> list[_Model]:
        objs = list(objs)
        updated = set(kwargs.get("update_fields") or ())
        if kwargs.get("update_conflicts") and updated & _encrypted_names(self.model):
            # The conflicting row keeps its own id; values sealed to the new id would not open.
            raise TypeError("encrypted fields cannot be written by update_conflicts")
        fresh = [obj for obj in objs if obj.pk is None]
        # No savepoint (as Django's own bulk_create): a failure fails the caller's transaction.
        with transaction.atomic(using=self.db, savepoint=False):
            for obj, pk in zip(
                fresh, row_ids_reserve(self.model, len(fresh), using=self.db), strict=True
            ):
                obj.pk = pk
            try:
                return super().bulk_create(objs, *args, **kwargs)
            except BaseException:
                for obj in fresh:
                    obj.pk = None
                raise


class EncryptedModel(models.Model):
    """A model with encrypted fields: a new row is given its id, then inserted once, sealed."""

    objects = EncryptedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # The id and the insert share one transaction; inside the caller's, without a savepoint
        # (two more statements per row), as Django's own save: a failure fails the caller's.
        with transaction.atomic(using=using, savepoint=False):
            (self.pk,) = row_ids_reserve(type(self), 1, using=using)
            try:
                # The id is new, so there is nothing to update: insert without trying.
                kwargs["force_insert"] = kwargs.get("force_insert") or True
                super().save(*args, **kwargs)
            except BaseException:
                self.pk = None
                raise

    save.alters_data = True  # type: ignore[attr-defined]
