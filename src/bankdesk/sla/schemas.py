"""Shapes of SLA data in the API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class ClockOut(Schema):
    id: int
    name: str
    metric: str = Field(description="first_response, next_response or resolution")
    cycle: int = Field(description="For next response: which customer message it answers")
    target_minutes: int
    basis: str = Field(description="business: on the bank's calendar; calendar: every minute")
    started_at: datetime
    due_at: datetime | None = Field(description="Empty while the clock is paused")
    state: str = Field(description="running, paused, met, breached or cancelled")
    remaining_business_minutes: int = Field(
        description="Working minutes left on the clock's calendar; negative once overdue"
    )
    met_at: datetime | None
    is_provisional: bool = Field(
        description=(
            "The due time reaches past the calendar's published holidays and counts weekends "
            "only there; it is worked out again when the year's official notice is loaded"
        )
    )


class PauseOut(Schema):
    started_at: datetime
    ended_at: datetime | None
    status: str


class ClockDetailOut(ClockOut):
    consumed_seconds: float
    calendar: str | None = Field(description="Calendar code for business time")
    pause_statuses: list[str]
    warn_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    pauses: list[PauseOut]
