"""Classes of personal financial information, as the bank's data-protection rules define them."""

from __future__ import annotations

from enum import StrEnum


class PFIClass(StrEnum):
    """C3 authentication data, C2 identifying and financial data, C1 internal data."""

    C3 = "C3"
    C2 = "C2"
    C1 = "C1"

    @property
    def is_encrypted_at_rest(self) -> bool:
        return self in {PFIClass.C2, PFIClass.C3}
