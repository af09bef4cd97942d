"""The analytics app's background work: fold new case events into facts and rollups."""

from __future__ import annotations

from django_tasks import task

from bankdesk.analytics.rollups import rollups_refresh


@task()
def analytics_refresh_run() -> int:
    return rollups_refresh()["rows"]
