"""Model fields for personal financial information: encrypted at rest, classified."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.expressions import Expression

from bankdesk.security.classification import PFIClass
from bankdesk.security.crypto import decrypt_value, is_ciphertext, keyring


class EncryptedTextField(models.TextField):
    """A text value stored as AES-GCM ciphertext, bound to its table and column.

    It cannot be filtered on (the ciphertext differs every time); pair it with a blind index.
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

    @property
    def crypto_context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def from_db_value(
        self, value: str | None, expression: Expression, connection: Any
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_value(value, context=self.crypto_context)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if is_ciphertext(value):
            raise ValueError("refusing to encrypt a value that is already a ciphertext")
        return keyring().encrypt(value, context=self.crypto_context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            raise TypeError(
                f"{self.crypto_context} is encrypted; look it up through its blind index"
            )
        return super().get_lookup(lookup_name)
