"""The feedback app's side of the tickets app's signals."""

from __future__ import annotations

from typing import Any

from bankdesk.intake.signals import chat_rated
from bankdesk.tickets.signals import case_resolved


def _plan(sender: Any, *, case: Any, actor: Any, **_: Any) -> None:
    from bankdesk.feedback.followups import follow_up_plan
    from bankdesk.feedback.surveys import survey_plan

    follow_up = follow_up_plan(case=case, actor=actor)
    survey_plan(case=case, actor=actor, follow_up_planned=follow_up is not None)


def _chat_rating(sender: Any, *, case_id: int, token: str, score: int, **_: Any) -> str:
    from bankdesk.feedback.surveys import survey_rate_in_chat

    return survey_rate_in_chat(case_id=case_id, token=token, score=score)


def connect() -> None:
    case_resolved.connect(_plan, dispatch_uid="feedback.plan")
    chat_rated.connect(_chat_rating, dispatch_uid="feedback.chat_rating")
