"""What each role sees of a customer's identifiers. Full values only through an audited reveal."""

from __future__ import annotations

from collections.abc import Callable

from bankdesk.customers.choices import IdentityKind
from bankdesk.lib.masking import (
    mask_email,
    mask_identifier,
    mask_national_id,
    mask_phone,
    mask_reference,
)
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User

MASKERS: dict[str, Callable[[str], str]] = {
    IdentityKind.PHONE: mask_phone,
    IdentityKind.EMAIL: mask_email,
    IdentityKind.NATIONAL_ID: mask_national_id,
    IdentityKind.WECHAT_OPENID: mask_identifier,
    IdentityKind.ALIPAY_USER_ID: mask_identifier,
}

# Identity kinds a role sees in full without a reveal. Complaint officers call customers back
# under the complaint rules, so they see phone numbers; everything else is masked for everyone.
UNMASKED_FOR_ROLE: dict[str, frozenset[str]] = {
    Role.COMPLAINT_OFFICER: frozenset({IdentityKind.PHONE}),
}


def identity_shown(viewer: User, kind: str, value: str) -> str:
    if kind in UNMASKED_FOR_ROLE.get(viewer.role, frozenset()):
        return value
    return MASKERS.get(kind, mask_identifier)(value)


def holding_reference_shown(viewer: User, reference: str) -> str:
    return mask_reference(reference)
