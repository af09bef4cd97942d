"""Channel-layer groups for live screens and live chat, and a send that never breaks the caller.

Only ids and typing flags travel through the layer (Redis, when configured): the text of a
message is read from the database by the connection that shows it, after its own access check.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)


def chat_group(thread_id: str) -> str:
    """The group of a customer's open chat connections (one per tab or device)."""
    return f"chat-{thread_id}"


def case_group(case_id: int) -> str:
    """The group of staff screens showing one case."""
    return f"case-{case_id}"


# Staff screens watching the queues (the navigation's counts, the queue, the supervisor floor):
# told that some case or someone's presence changed, never what, and read again for themselves.
QUEUE_GROUP = "console-queue"


def group_notify(group: str, event: dict[str, Any]) -> bool:
    """Tell a group something from synchronous code; False when there is no layer or it fails.

    A live screen that misses a notice catches up from the database, so a layer outage must
    never undo or fail the write that caused it.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # a broken layer must not break a committed write
        logger.warning("could not notify %s", group, exc_info=True)
        return False
    return True


def queue_changed_notify() -> None:
    """Tell the screens watching the queues that a case or someone's presence changed; run it
    on commit (`transaction.on_commit(queue_changed_notify, robust=True)`)."""
    group_notify(QUEUE_GROUP, {"type": "queue.changed"})
