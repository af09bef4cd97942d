"""The feedback app's side of the tickets app's signals."""

from __future__ import annotations

from typing import Any

from bankdesk.tickets.signals import case_resolved


def _plan(sender: Any, *, case: Any, actor: Any, **_: Any) -> None:
    from bankdesk.feedback.followups import follow_up_plan
    from bankdesk.feedback.surveys import survey_plan

    follow_up = follow_up_plan(case=case, actor=actor)
    survey_plan(case=case, actor=actor, follow_up_planned=follow_up is not None)


def connect() -> None:
    case_resolved.connect(_plan, dispatch_uid="feedback.plan")
