"""The one gate for continuing a conversation with the assistant by its id.

A dialogue through the API belongs to the member of staff (or the integration's token) that
started it: nobody else may add to it, and once it was handed to a person, its caller must also
be allowed to see that case and its customer. A dialogue on a customer's own channel thread (a
web chat session, a WeChat openid) is the customer's, and no member of staff may speak in it.
Out of reach answers exactly like a conversation that does not exist.
"""

from __future__ import annotations

from bankdesk.assistant.models import Dialogue
from bankdesk.customers.access import customers_visible_to
from bankdesk.staff.models import User
from bankdesk.tickets.access import case_in_scope


def dialogue_reachable(user: User, dialogue: Dialogue) -> bool:
    """Whether `user` may add the next message to `dialogue` (and learn that it exists)."""
    if not user.is_active or dialogue.thread_id or dialogue.started_by_id != user.pk:
        return False
    if dialogue.case is not None and not case_in_scope(user, dialogue.case):
        return False
    return dialogue.customer_id is None or (
        customers_visible_to(user).filter(pk=dialogue.customer_id).exists()
    )
