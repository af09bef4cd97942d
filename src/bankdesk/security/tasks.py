"""Background work for the audit chain: link what commits left waiting, seal the head outside."""

from __future__ import annotations

import logging

from django_tasks import task

from bankdesk.security.audit import audit_chain
from bankdesk.security.audit_checkpoints import CheckpointConflict, audit_checkpoint_write

logger = logging.getLogger("bankdesk.audit")


@task()
def audit_chain_run() -> int:
    """Link entries whose commit found the chain's head busy, then write a signed checkpoint
    if the chain has grown; returns how many entries were linked.

    A chain that contradicts the last checkpoint is not signed over: the error is logged for
    the operators (and `bankdesk audit verify` names the entry), and the task fails.
    """
    linked = audit_chain(wait=True)
    try:
        audit_checkpoint_write(only_if_moved=True)
    except CheckpointConflict:
        logger.exception("audit chain contradicts its last checkpoint; nothing was signed")
        raise
    return linked
