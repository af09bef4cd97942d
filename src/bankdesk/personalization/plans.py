"""Service plans at work: which plan a customer is under, and what it asks of routing."""

from __future__ import annotations

from bankdesk.personalization.models import PlanAssignment, ServicePlan
from bankdesk.tickets.models import Case
from bankdesk.tickets.routing import Preference


def plan_of(customer_id: int | None) -> PlanAssignment | None:
    """The customer's current plan (with why), None when they have none."""
    if customer_id is None:
        return None
    return (
        PlanAssignment.objects.filter(customer_id=customer_id, ended_at=None, plan__is_active=True)
        .select_related("plan", "plan__team", "plan__segment")
        .first()
    )


def plan_routing(case: Case) -> Preference | None:
    """What the case's customer's plan asks of routing: their relationship manager first when
    the plan says so, the plan's team, its floor on the priority (for a complaint, the floor
    only). None when it asks nothing."""
    current = plan_of(case.customer_id)
    if current is None:
        return None
    plan: ServicePlan = current.plan
    if case.is_complaint:
        # A complaint goes where the complaint rules send it (its own team, its recusals);
        # the plan only makes it no less urgent.
        return Preference(priority=plan.priority) if plan.priority else None
    person = None
    if plan.to_relationship_manager:
        person = case.customer.relationship_manager if case.customer is not None else None
    if person is None and plan.team is None and not plan.priority:
        return None
    return Preference(person=person, team=plan.team, priority=plan.priority)
