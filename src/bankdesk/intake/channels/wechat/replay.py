"""Each signed WeChat call is taken once: its (timestamp, nonce) is remembered, with what it
carried, for as long as its signature would verify.

A table rather than the cache: the cache is per process unless Redis is configured, and a
replay sent to another web process would find nothing there. The unique constraint makes the
check hold across processes and machines, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import time

from django.db import IntegrityError, transaction

from bankdesk.intake.channels.wechat.protocol import REPLAY_WINDOW_SECONDS
from bankdesk.intake.errors import BadSignature
from bankdesk.intake.models import ChannelEndpoint, WeChatNonce

# Rows are kept this much longer than the window, for clocks that disagree by a little.
PRUNE_MARGIN_SECONDS = 60


def signed_call_remember(
    *, endpoint: ChannelEndpoint, timestamp: str, nonce: str, content: bytes
) -> None:
    """Take a call whose signature verified, unless the same signed timestamp and nonce came
    before with other content (BadSignature, 403: a captured signature reused for a forged
    message). The same content again is WeChat resending a call it got no answer to, and is
    answered again; the message itself is taken once by its MsgId."""
    digest = hashlib.sha256(content).hexdigest()
    key = {"endpoint": endpoint, "timestamp": int(timestamp), "nonce": nonce}
    try:
        with transaction.atomic():
            WeChatNonce.objects.create(**key, content_sha256=digest)
    except IntegrityError:
        seen = WeChatNonce.objects.filter(**key).values_list("content_sha256", flat=True).first()
        if seen != digest:
            raise BadSignature(
                "this signed WeChat call was already used for another message"
            ) from None


def wechat_nonces_prune(*, now: float | None = None) -> int:
    """Forget calls whose signature can no longer verify; returns how many were forgotten."""
    current = time.time() if now is None else now
    oldest = int(current) - REPLAY_WINDOW_SECONDS - PRUNE_MARGIN_SECONDS
    deleted, _ = WeChatNonce.objects.filter(timestamp__lt=oldest).delete()
    return deleted
