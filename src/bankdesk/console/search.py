"""The top bar's search: one box for a case number, a customer number, a phone number, an
e-mail address, an ID number or words of a case's subject.

Identifiers are matched exactly, through their blind indexes (personal data is never searched
loosely); only subjects are searched for the words typed. A case number that matches opens the
case at once.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from bankdesk.customers.access import customers_visible_to
from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.models import Customer, Identity
from bankdesk.customers.normalise import identity_blind_index
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.models import Case

QUERY_MAX = 100
SHOWN = 20
# What a typed value may be, in the order it is tried; each that reads as valid is looked up.
SEARCHED_KINDS = (IdentityKind.PHONE, IdentityKind.EMAIL, IdentityKind.NATIONAL_ID)


def _identity_lookups(text: str) -> Q:
    found = Q(pk__in=[])
    for kind in SEARCHED_KINDS:
        try:
            lookup = identity_blind_index(kind, text)
        except BankdeskError:
            continue  # not this kind of identifier
        found |= Q(kind=kind, lookup=lookup)
    return found


def _query(request: HttpRequest) -> str:
    return " ".join(request.GET.get("q", "").split())[:QUERY_MAX]


def _customers(user: User, text: str) -> list[Customer]:
    """Customers by customer number, or by a phone, e-mail or ID number matched exactly."""
    identities = Identity.objects.filter(_identity_lookups(text)).values("customer_id")
    return list(
        customers_visible_to(user)
        .prefetch_related(None)
        .filter(Q(customer_number=text) | Q(pk__in=identities))
        .order_by("-id")[:SHOWN]
    )


@require_GET
@mfa_required
def customer_search(request: HttpRequest) -> HttpResponse:
    """/customers/: finding a customer, by the identifiers alone."""
    user = request_staff(request)
    if not user.has_perm("customers.view_customer"):
        raise PermissionDenied
    text = _query(request)
    return render(
        request,
        "console/search.html",
        {
            "search_query": text,
            "customers": _customers(user, text) if text else [],
            "customers_only": True,
            "shown": SHOWN,
        },
    )


@require_GET
@mfa_required
def search(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    text = _query(request)
    customers: list[Customer] = []
    cases: list[Case] = []
    if text:
        exact = cases_visible_to(user).filter(number__iexact=text).values_list("pk", flat=True)
        case_id = exact.first()
        if case_id is not None:
            return HttpResponseRedirect(reverse("console:case_live", args=[case_id]))
        customers = _customers(user, text)
        cases = list(
            cases_visible_to(user)
            .filter(subject__icontains=text)
            .select_related("customer")
            .prefetch_related(None)
            .order_by("-created_at", "-id")[:SHOWN]
        )
    return render(
        request,
        "console/search.html",
        {"search_query": text, "customers": customers, "cases": cases, "shown": SHOWN},
    )
