"""What the case generator is given (the bank as it stands) and what it hands back (rows).

Kept apart from lifecycle.py so the loader can build one and consume the other without
reading through how a case's story is made up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bankdesk.demo.wording import Phrases


@dataclass(frozen=True)
class CategoryPlan:
    """A leaf category as the generator uses it."""

    id: int
    code: str
    name: str
    name_en: str
    is_complaint: bool
    profile: str
    weight: float
    subjects: Phrases
    team_id: int | None


@dataclass
class CaseContext:
    """Everything fixed for a run: the bank's categories, teams and staff, and the clock."""

    now: int
    categories: list[CategoryPlan]
    # Per customer segment: cumulative category weights (firms ask about other things).
    category_weights: dict[str, list[float]]
    team_members: dict[int, tuple[list[int], list[float]]]
    complaint_team_id: int | None
    foreign_language_team_id: int | None
    default_team_id: int | None
    autoclose_days: int
    format_time: Callable[[int], str]
    year_of: Callable[[int], int]


@dataclass
class CaseRows:
    """One batch of rows, ready for the bulk writer (case numbers are filled in by the caller)."""

    cases: list[list[object]] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    conversations: list[tuple[object, ...]] = field(default_factory=list)
    messages: list[tuple[object, ...]] = field(default_factory=list)
    events: list[tuple[object, ...]] = field(default_factory=list)


CASE_FIELDS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "channel",
    "language",
    "is_complaint",
    "category",
    "customer",
    "team",
    "assignee",
    "created_by",
    "merged_into",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
)
CONVERSATION_FIELDS = ("id", "case", "channel", "external_thread_id", "created_at")
MESSAGE_FIELDS = (
    "id",
    "conversation",
    "case",
    "direction",
    "channel",
    "author",
    "text",
    "html",
    "external_id",
    "delivery_status",
    "created_at",
)
EVENT_FIELDS = ("id", "case", "kind", "actor", "data", "created_at")
