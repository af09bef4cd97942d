"""Alipay's RSA2 signatures: SHA256withRSA over the sorted `key=value` string of the parameters.

Alipay signs its notifications with its own private key (the bank checks them with Alipay's
public key) and the bank signs its API calls with the bank's private key (Alipay checks them
with the public key the bank uploaded). Both sides sign the same canonical string: every
parameter except `sign` and `sign_type`, empty values left out, sorted by name, joined by `&`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

UNSIGNED = frozenset({"sign", "sign_type"})


def sign_content(params: Mapping[str, str]) -> str:
    """The canonical string Alipay signs."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in UNSIGNED and params[key]
    )


def _pem(key: str, kind: str) -> bytes:
    """Alipay's console shows keys as bare base64; accept those as well as full PEM."""
    text = key.strip()
    if "-----BEGIN" not in text:
        text = f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----"
    return text.encode("ascii")


def public_key_load(key: str) -> rsa.RSAPublicKey:
    loaded = load_pem_public_key(_pem(key, "PUBLIC KEY"))
    if not isinstance(loaded, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return loaded


def private_key_load(key: str) -> rsa.RSAPrivateKey:
    loaded = load_pem_private_key(_pem(key, "PRIVATE KEY"), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return loaded


def rsa2_sign(params: Mapping[str, str], private_key: rsa.RSAPrivateKey) -> str:
    """The base64 RSA2 signature of the parameters."""
    raw = private_key.sign(
        sign_content(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(raw).decode("ascii")


def rsa2_verify(params: Mapping[str, str], public_key: rsa.RSAPublicKey) -> bool:
    """Whether `params["sign"]` is a valid RSA2 signature of the other parameters."""
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    if not signature:
        return False
    try:
        public_key.verify(
            signature, sign_content(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True
