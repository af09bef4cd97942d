"""The personalization app's side of the tickets app's signals."""

from __future__ import annotations

from typing import Any

from bankdesk.tickets.signals import routing_preference


def _routing(sender: Any, *, case: Any, **_: Any) -> Any:
    from bankdesk.personalization.plans import plan_routing

    return plan_routing(case)


def connect() -> None:
    routing_preference.connect(_routing, dispatch_uid="personalization.routing")
