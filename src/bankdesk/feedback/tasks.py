"""The feedback app's background work."""

from __future__ import annotations

from django_tasks import task

from bankdesk.feedback.surveys import survey_reminders_send


@task()
def survey_reminders_run() -> int:
    return survey_reminders_send()
