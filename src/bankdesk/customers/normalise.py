"""Canonical forms of identities, so the same person is found however they typed it."""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.errors import InvalidIdentity
from bankdesk.lib.masking import cn_resident_id_checksum_ok
from bankdesk.security.crypto import keyring

DEFAULT_REGION = "CN"
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_ALIPAY_ID = re.compile(r"^[0-9]{16}$")
# Mainland resident ID: 17 digits and a check character; HK/Macau/Taiwan and passports vary,
# so other shapes pass through upper-cased.
_CN_ID = re.compile(r"^[0-9]{17}[0-9X]$")
_GENERIC_ID = re.compile(r"^[A-Z0-9()-]{5,32}$")


def phone_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {exc}", field="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity("not a possible phone number", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_canonical(raw: str) -> str:
    value = raw.strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise InvalidIdentity("not an e-mail address", field="email") from exc
    return value


def national_id_canonical(raw: str) -> str:
    value = re.sub(r"\s+", "", raw).upper()
    if _CN_ID.match(value):
        if not cn_resident_id_checksum_ok(value):
            raise InvalidIdentity("ID number check digit does not match", field="national_id")
        return value
    if not _GENERIC_ID.match(value):
        raise InvalidIdentity("not an ID number", field="national_id")
    return value


def identity_blind_index(kind: str, raw: str) -> str:
    """The keyed blind index under which an identity is stored and found."""
    return keyring().blind_index(kind, identity_lookup(kind, raw))


def holding_reference_blind_index(kind: str, reference: str) -> str:
    return keyring().blind_index(f"holding:{kind}", reference.strip().upper())


def identity_lookup(kind: str, raw: str) -> str:
    """The canonical form of an identity value, or InvalidIdentity."""
    value = raw.strip()
    if kind == IdentityKind.PHONE:
        return phone_e164(value)
    if kind == IdentityKind.EMAIL:
        return email_canonical(value)
    if kind == IdentityKind.NATIONAL_ID:
        return national_id_canonical(value)
    if kind == IdentityKind.WECHAT_OPENID:
        if not _OPENID.match(value):
            raise InvalidIdentity("not a WeChat openid", field="wechat_openid")
        return value
    if kind == IdentityKind.ALIPAY_USER_ID:
        if not _ALIPAY_ID.match(value):
            raise InvalidIdentity("not an Alipay user id (16 digits)", field="alipay_user_id")
        return value
    raise InvalidIdentity(f"unknown identity kind {kind!r}", field="kind")
