"""The personalization app's background work."""

from __future__ import annotations

from django_tasks import task

from bankdesk.personalization.events import reminders_send
from bankdesk.personalization.refresh import personalization_refresh


@task()
def event_reminders_run() -> int:
    """Remind customers of the sessions they have a seat at, beginning in the next 24 hours."""
    return reminders_send()


@task()
def personalization_refresh_run() -> int:
    """Every customer's segments, behaviour cluster, service plan and next-best-actions, again;
    returns how many customers it went through."""
    return personalization_refresh().customers
