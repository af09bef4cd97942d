"""Quiet hours: the hours of the bank's night in which nothing unasked-for reaches a customer
(survey invitations and reminders). Written "21:00-09:00" (over midnight) or "12:00-13:30";
the same start and end means none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from bankdesk.lib.errors import InvalidInput


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> QuietHours:
        try:
            first, last = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(first), time.fromisoformat(last)
        except ValueError as exc:
            raise InvalidInput(
                f"quiet hours must read like 21:00-09:00, not {text!r}", field="quiet_hours"
            ) from exc
        return cls(start=start, end=end, zone=ZoneInfo(zone))

    def contains(self, moment: datetime) -> bool:
        if self.start == self.end:
            return False
        wall = moment.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself outside quiet hours, else the moment they end."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return end.astimezone(moment.tzinfo)


def survey_quiet_hours() -> QuietHours:
    return QuietHours.parse(
        settings.BANKDESK_SURVEY_QUIET_HOURS, settings.BANKDESK_SURVEY_TIME_ZONE
    )
