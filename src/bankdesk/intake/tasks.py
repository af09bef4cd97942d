"""Background work for channels: delivering the outbox, polling mailboxes, forgetting WeChat
calls whose signatures have expired."""

from __future__ import annotations

import logging

from django_tasks import task

from bankdesk.intake.channels.email.imap import mailbox_poll
from bankdesk.intake.channels.wechat.replay import wechat_nonces_prune
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError

logger = logging.getLogger(__name__)


@task()
def outbox_deliver_run() -> int:
    """Send every outbound message due; returns how many went out."""
    return outbox_deliver().sent


@task()
def mailbox_poll_run() -> int:
    """Poll every active e-mail endpoint that names an IMAP mailbox; returns messages fetched.

    One mailbox that cannot be reached is logged and skipped; the others are still polled.
    """
    fetched = 0
    for endpoint in ChannelEndpoint.objects.filter(channel=Channel.EMAIL, is_active=True):
        if not endpoint.settings.get("host"):
            continue
        try:
            fetched += mailbox_poll(endpoint=endpoint).fetched
        except (OSError, BankdeskError) as exc:
            logger.warning("mailbox %s not polled: %s", endpoint.code, exc)
    return fetched


@task()
def wechat_nonces_prune_run() -> int:
    """Forget signed WeChat calls too old to verify again; returns how many were forgotten."""
    return wechat_nonces_prune()
