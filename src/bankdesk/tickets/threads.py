"""Channel threads named by the customer's own identifier, kept as its blind index.

An SMS or phone thread is the customer's phone number, a WeChat thread their openid, an Alipay
thread their user id: identifying data (C2) that the bank keeps only encrypted. A conversation
never needs to read its thread, only to find it again, so such a thread is stored as the keyed
blind index of the normalised identifier — the very index the customer's identity is found by
(`customers.Identity.lookup`) — behind a versioned prefix that says what it is. Replies get
their address from the customer's identity, decrypted when the reply is queued.

Web chat sessions (random ids), e-mail thread roots (Message-IDs) and social threads
(`<platform>:<handle>`, the public author a reply is posted to) name no one the bank holds
data about and are kept as they are.
"""

from __future__ import annotations

import re

from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.normalise import identity_lookup
from bankdesk.lib.channels import Channel
from bankdesk.security.crypto import keyring

THREAD_ID_MAX = 255
# Version 1: HMAC-SHA256 under the index key of "<identity kind>\x1f<normalised value>".
THREAD_INDEX_PREFIX = "bi1:"
_THREAD_INDEX = re.compile(r"bi1:[0-9a-f]{64}")

# Channels whose thread is the customer's identifier, and which kind of identifier it is.
IDENTIFYING_THREADS: dict[str, str] = {
    Channel.SMS: IdentityKind.PHONE,
    Channel.PHONE: IdentityKind.PHONE,
    Channel.WECHAT: IdentityKind.WECHAT_OPENID,
    Channel.ALIPAY: IdentityKind.ALIPAY_USER_ID,
}


def is_thread_index(value: str) -> bool:
    return bool(_THREAD_INDEX.fullmatch(value))


def thread_key(channel: str, thread_id: str) -> str:
    """What a conversation (or the assistant's dialogue) stores for a channel's thread, and is
    found by: the blind index for identifying threads, the id itself for the others.

    A value that already is a thread index is returned unchanged, so a thread read back from
    storage can be handed on. No identifier can take that shape: it is a prefix and 64 hex
    digits, which no phone number, openid or Alipay id is.
    """
    kind = IDENTIFYING_THREADS.get(channel)
    if kind is None or not thread_id or is_thread_index(thread_id):
        return thread_id[:THREAD_ID_MAX]
    try:
        normalised = identity_lookup(kind, thread_id)
    except InvalidIdentity:
        # Still never kept readable; it can only be found again exactly as it came.
        normalised = thread_id.strip()
    return THREAD_INDEX_PREFIX + keyring().blind_index(kind, normalised)


def thread_identity_lookup(thread: str) -> str | None:
    """The identity blind index (`Identity.lookup`) a stored thread is, if it is one."""
    return thread.removeprefix(THREAD_INDEX_PREFIX) if is_thread_index(thread) else None
