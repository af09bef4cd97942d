"""The complaints app's side of the tickets app's signals."""

from __future__ import annotations

from typing import Any

from bankdesk.tickets.signals import complaint_opened


def _open_record(
    sender: Any, *, case: Any, actor: Any, on: str, at_creation: bool, **_: Any
) -> None:
    from bankdesk.complaints.services import complaint_open

    complaint_open(case=case, actor=actor, on=on, at_creation=at_creation)


def connect() -> None:
    complaint_opened.connect(_open_record, dispatch_uid="complaints.open_record")
