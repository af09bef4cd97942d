"""Model fields for personal financial information: encrypted at rest, classified, and sealed to
the row they belong to.

A value's authenticated data is its table, column and row id, so one copied into another row by
someone with write access to the database (another customer's name, phone or reference) does not
decrypt there; reading it raises DecryptionError naming the column and row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core import checks
from django.db import models
from django.db.models.expressions import Col, Expression

from bankdesk.security.classification import PFIClass
from bankdesk.security.crypto import DecryptionError, decrypt_value, is_ciphertext, keyring

# Between the row id and the stored value as they are selected together; neither holds one.
ROW_SEPARATOR = ":"


def row_identity(pk: Any) -> str:
    """The row id as the authenticated data holds it: the text the database gives for the key."""
    return str(int(pk))


@dataclass(frozen=True)
class Sealed:
    """A value encrypted for its row by pre_save, on its way into the database as it is."""

    stored: str


class RowBoundCol(Col):
    """An encrypted column as a query selects it: with its row's id alongside, from the same row.

    The database itself says which row each value was read from, on every read path (model
    instances, values(), values_list(), select_related()), so no read can open a value for a row
    it does not belong to.
    """

    def select_format(self, compiler: Any, sql: str, params: Any) -> tuple[str, tuple[Any, ...]]:
        pk_sql, pk_params = compiler.compile(self.target.model._meta.pk.get_col(self.alias))
        return (
            f"(CAST({pk_sql} AS TEXT) || '{ROW_SEPARATOR}' || {sql})",
            (*pk_params, *params),
        )


class EncryptedTextField(models.TextField):
    """A text value stored as AES-GCM ciphertext, bound to its table, column and row.

    It cannot be filtered on (the ciphertext differs every time); pair it with a blind index.
    Its model must be an EncryptedModel, which gives a new row its id before it is written.
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, pfi_class: PFIClass = PFIClass.C2, **kwargs: Any) -> None:
        if not pfi_class.is_encrypted_at_rest:
            raise ValueError("only C2 and C3 data is encrypted; C1 fields are ordinary fields")
        self.pfi_class = pfi_class
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["pfi_class"] = self.pfi_class
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        from bankdesk.security.encrypted_model import EncryptedModel

        errors = list(super().check(**kwargs))
        if not issubclass(self.model, EncryptedModel):
            errors.append(
                checks.Error(
                    f"{self.crypto_context} is encrypted, so {self.model.__name__} must be an "
                    "EncryptedModel: its values are sealed to row ids it allocates",
                    obj=self,
                    id="security.E001",
                )
            )
        if not isinstance(self.model._meta.pk, models.IntegerField):
            errors.append(
                checks.Error(
                    f"{self.crypto_context} is sealed to its row's integer id, which "
                    f"{self.model.__name__} does not have",
                    obj=self,
                    id="security.E002",
                )
            )
        return errors

    @property
    def crypto_context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def get_col(self, alias: str, output_field: Any = None) -> Col:
        return RowBoundCol(alias, self, output_field)

    @cached_property
    def cached_col(self) -> Col:
        return RowBoundCol(self.model._meta.db_table, self)

    def from_db_value(
        self, value: str | None, expression: Expression, connection: Any
    ) -> str | None:
        if value is None:
            return None
        row, separator, stored = value.partition(ROW_SEPARATOR)
        if not separator:
            raise DecryptionError(
                f"{self.crypto_context} was read without its row's id, so it cannot be opened; "
                "select it as a column of its model"
            )
        if stored == "":
            return stored
        return decrypt_value(stored, context=self.crypto_context, row=row)

    def seal(self, value: Any, *, pk: Any) -> Any:
        """`value` encrypted for the row `pk` of this column, ready to be stored as it is.

        None and "" stay as they are: there is nothing to hide in an empty value.
        """
        if value is None or value == "":
            return value
        value = self.to_python(value)
        if is_ciphertext(value):
            raise ValueError("refusing to encrypt a value that is already a ciphertext")
        if pk is None:
            raise TypeError(
                f"{self.crypto_context} is sealed to its row, which has no id yet: save new "
                f"{self.model.__name__} rows with save(), objects.create() or bulk_create()"
            )
        row = row_identity(pk)
        return Sealed(keyring().encrypt(value, context=self.crypto_context, row=row))

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        return self.seal(getattr(model_instance, self.attname), pk=model_instance.pk)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, Sealed):
            return value.stored
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        raise TypeError(
            f"{self.crypto_context} is sealed to its row: change it by saving the "
            f"{self.model.__name__} (save(), objects.create(), bulk_create()), which knows the "
            "row, never with update() or a bare value"
        )

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            raise TypeError(
                f"{self.crypto_context} is encrypted; look it up through its blind index"
            )
        return super().get_lookup(lookup_name)
