"""The customer page at /customers/<id>/: profile, identities and holdings masked by role (a
reveal, for a stated reason, for the roles allowed one), the cross-channel timeline, their
cases and their conversations with the assistant; and folding a provisional contact into the
customer it turned out to be."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from bankdesk.assistant.models import Dialogue
from bankdesk.console.words import error_text
from bankdesk.customers.access import access_customer_by_id, customers_visible_to
from bankdesk.customers.choices import RevealField
from bankdesk.customers.masking import holding_reference_shown, identity_shown
from bankdesk.customers.models import Customer
from bankdesk.customers.services import customer_reveal
from bankdesk.intake.identity import customer_merge_provisional
from bankdesk.lib.errors import BankdeskError, NotFound
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.timeline import customer_timeline

TIMELINE_SHOWN = 50
CASES_SHOWN = 20
DIALOGUES_SHOWN = 10


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=RevealField.choices)
    holding = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(
        label=gettext_lazy("Why you need the full value"), min_length=5, max_length=500
    )


class MergeForm(forms.Form):
    into = forms.CharField(label=gettext_lazy("The customer's number"), max_length=32)
    reason = forms.CharField(label=gettext_lazy("Reason"), min_length=5, max_length=500)


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    try:
        return access_customer_by_id(request_staff(request), customer_id)
    except NotFound as exc:
        raise Http404 from exc


@require_GET
@mfa_required
def customer_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _page(request, _customer(request, customer_id))


def _page(
    request: HttpRequest,
    customer: Customer,
    *,
    revealed: dict[str, list[str]] | None = None,
    reveal: RevealForm | None = None,
    merge: MergeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request_staff(request)
    revealed = revealed or {}
    identities = [
        {
            "kind": identity.kind,
            "label": identity.get_kind_display(),
            "shown": identity_shown(user, identity.kind, identity.value),
            "is_verified": identity.is_verified,
        }
        for identity in customer.identities.all()
    ]
    holdings = [
        {
            "pk": holding.pk,
            "kind": holding.get_kind_display(),
            "product": holding.product,
            "shown": holding_reference_shown(user, holding.reference),
            "status": holding.status,
            "opened_on": holding.opened_on,
        }
        for holding in customer.holdings.all()
    ]
    timeline = customer_timeline(user=user, customer=customer, cursor=None, limit=TIMELINE_SHOWN)
    cases = list(
        cases_visible_to(user)
        .filter(customer=customer)
        .select_related("team", "assignee")
        .prefetch_related(None)
        .order_by("-created_at", "-id")[:CASES_SHOWN]
    )
    dialogues = list(
        Dialogue.objects.filter(customer=customer)
        .prefetch_related("turns")
        .order_by("-id")[:DIALOGUES_SHOWN]
    )
    context: dict[str, Any] = {
        "customer": customer,
        "identities": identities,
        "holdings": holdings,
        "timeline": timeline.items,
        "cases": cases,
        "dialogues": dialogues,
        "revealed": revealed,
        "can_reveal": user.has_perm("customers.reveal_customer"),
        "can_merge": customer.is_provisional and user.has_perm("customers.merge_customer"),
        "reveal_form": reveal or RevealForm(),
        "merge_form": merge or MergeForm(),
    }
    return render(request, "console/customer.html", context, status=status)


@require_POST
@mfa_required
def customer_reveal_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Show one identifier in full, once, for a reason written to the audit chain."""
    customer = _customer(request, customer_id)
    user = request_staff(request)
    if not user.has_perm("customers.reveal_customer"):
        raise Http404
    form = RevealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you need the full value (at least 5 characters)."))
        return _page(request, customer, reveal=form, status=400)
    field = form.cleaned_data["field"]
    try:
        values = customer_reveal(
            customer=customer,
            field=field,
            reason=form.cleaned_data["reason"],
            actor=user,
            holding_id=form.cleaned_data["holding"],
        )
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return _page(request, customer, reveal=form, status=exc.status)
    key = (
        f"holding.{form.cleaned_data['holding']}"
        if field == RevealField.HOLDING_REFERENCE
        else field
    )
    return _page(request, customer, revealed={key: values})


@require_POST
@mfa_required
def customer_merge_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Fold this provisional contact into the customer it turned out to be."""
    source = _customer(request, customer_id)
    user = request_staff(request)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Give the customer's number and a reason of at least 5 characters.")
        )
        return _page(request, source, merge=form, status=400)
    target = (
        customers_visible_to(user)
        .prefetch_related(None)
        .filter(customer_number=form.cleaned_data["into"].strip())
        .first()
    )
    if target is None:
        messages.error(request, _("No customer has this number."))
        return _page(request, source, merge=form, status=404)
    if not user.has_perm("customers.merge_customer"):
        raise Http404
    try:
        merged = customer_merge_provisional(
            source=source, target=target, actor=user, reason=form.cleaned_data["reason"]
        )
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return _page(request, source, merge=form, status=exc.status)
    messages.success(request, _("The contact's cases and identities are now the customer's."))
    return HttpResponseRedirect(reverse("console:customer", args=[merged.pk]))
