"""The one gate for reading a customer's data."""

from __future__ import annotations

from django.db.models import QuerySet

from bankdesk.customers.errors import CustomerNotFound
from bankdesk.customers.models import Customer
from bankdesk.customers.selectors import customer_queryset
from bankdesk.staff.models import User


def customers_visible_to(user: User) -> QuerySet[Customer]:
    if not user.has_perm("customers.view_customer"):
        return customer_queryset().none()
    return customer_queryset()


def access_customer_by_id(user: User, customer_id: int, *, whole: bool = True) -> Customer:
    """The customer, if `user` may see them; `whole=False` reads the customer's own row only,
    without identities and holdings, for callers that need no more (a case opened for them,
    their timeline)."""
    customers = customers_visible_to(user)
    if not whole:
        customers = customers.prefetch_related(None)
    customer = customers.filter(pk=customer_id).first()
    if customer is None:
        raise CustomerNotFound(f"customer {customer_id} not found", field="customer_id")
    return customer
