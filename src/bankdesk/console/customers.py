"""The customer page at /customers/<id>/: profile, identities and holdings masked by role (a
reveal, for a stated reason, for the roles allowed one), the cross-channel timeline, their
cases and their conversations with the assistant; and folding a provisional contact into the
customer it turned out to be."""

from __future__ import annotations

from collections.abc import Callable
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
from bankdesk.complaints.models import Complaint
from bankdesk.console.personal import personal_panel
from bankdesk.console.words import error_text
from bankdesk.customers.access import access_customer_by_id, customers_visible_to
from bankdesk.customers.choices import (
    AccessibilityNeed,
    ConsentPurpose,
    ConsentSource,
    Dialect,
    Language,
    LifeEventKind,
    RevealField,
)
from bankdesk.customers.masking import holding_reference_shown, identity_shown
from bankdesk.customers.models import Customer
from bankdesk.customers.profile import (
    CONSENT_DEFAULTS,
    Preferences,
    consent_record,
    consents_now,
    customer_links,
    customer_preferences_set,
    life_event_record,
)
from bankdesk.customers.services import customer_reveal
from bankdesk.feedback.models import FollowUp, Survey
from bankdesk.intake.identity import customer_merge_provisional
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError, NotFound
from bankdesk.personalization.models import Registration
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.timeline import customer_timeline

TIMELINE_SHOWN = 50
AFTER_RESOLUTION_SHOWN = 10
CASES_SHOWN = 20
DIALOGUES_SHOWN = 10


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=RevealField.choices)
    holding = forms.IntegerField(required=False, min_value=1)
    reason = forms.CharField(
        label=gettext_lazy("Why you need the full value"), min_length=5, max_length=500
    )


class PreferencesForm(forms.Form):
    preferred_language = forms.ChoiceField(label=gettext_lazy("Language"), choices=Language.choices)
    preferred_channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    contact_from = forms.TimeField(label=gettext_lazy("Call from"), required=False)
    contact_until = forms.TimeField(label=gettext_lazy("Call until"), required=False)
    dialect = forms.ChoiceField(
        label=gettext_lazy("Dialect"), choices=[("", "—"), *Dialect.choices], required=False
    )
    accessibility = forms.MultipleChoiceField(
        label=gettext_lazy("Accessibility needs"),
        choices=AccessibilityNeed.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    birth_year = forms.IntegerField(
        label=gettext_lazy("Year of birth"), required=False, min_value=1900, max_value=2100
    )


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=gettext_lazy("Purpose"), choices=ConsentPurpose.choices)
    granted = forms.TypedChoiceField(
        label=gettext_lazy("The customer"),
        choices=[("yes", gettext_lazy("gives consent")), ("no", gettext_lazy("withdraws it"))],
        coerce=lambda value: value == "yes",
    )
    source = forms.ChoiceField(label=gettext_lazy("Said where"), choices=ConsentSource.choices)


class LifeEventForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Life event"), choices=LifeEventKind.choices)
    occurred_on = forms.DateField(label=gettext_lazy("On"))


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
    given: dict[str, forms.Form] | None = None,
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
        "can_change": user.has_perm("customers.change_customer"),
        # A form sent back as it was typed, with its errors; the others fresh.
        "preferences_form": PreferencesForm(initial=_preferences(customer)),
        "consent_form": ConsentForm(),
        "life_event_form": LifeEventForm(),
        **{f"{slot}_form": form for slot, form in (given or {}).items()},
        **_profile(customer, user),
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


def _preferences(customer: Customer) -> dict[str, Any]:
    return {
        "preferred_language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel,
        "contact_from": customer.contact_from,
        "contact_until": customer.contact_until,
        "dialect": customer.dialect,
        "accessibility": customer.accessibility_needs(),
        "birth_year": customer.birth_year,
    }


def _profile(customer: Customer, user: Any) -> dict[str, Any]:
    """The rest of the customer 360: consents, links, life events, complaints, follow-ups,
    surveys, event bookings and personalised service."""
    consents = [
        {
            "purpose": ConsentPurpose(purpose).label,
            "consent": consent,
            "allowed": consent.granted if consent else CONSENT_DEFAULTS[ConsentPurpose(purpose)],
        }
        for purpose, consent in consents_now(customer.pk).items()
    ]
    labels = dict(AccessibilityNeed.choices)
    # Only what the reader may see of the customer's cases, as on the case pages.
    visible = cases_visible_to(user).filter(customer=customer).values("pk")
    return {
        "needs": [labels.get(code, code) for code in customer.accessibility_needs()],
        "consents": consents,
        "links": customer_links(customer),
        "life_events": list(customer.life_events.all()[:20]),
        "complaints": list(
            Complaint.objects.filter(case__customer=customer, case__in=visible)
            .select_related("case", "owner")
            .order_by("-received_at")[:CASES_SHOWN]
        ),
        "after_resolution": _after_resolution(customer, visible),
        "bookings": list(
            Registration.objects.filter(customer=customer)
            .select_related("session", "session__event")
            .order_by("-id")[:10]
        ),
        "personal": personal_panel(customer, user),
        "can_decide": user.has_perm("personalization.decide_suggestion"),
    }


def _after_resolution(customer: Customer, visible: Any) -> list[dict[str, Any]]:
    """One line per resolved case: its follow-up call and its survey, newest case first."""
    rows: dict[int, dict[str, Any]] = {}
    follow_ups = FollowUp.objects.filter(customer=customer, case__in=visible)
    for follow_up in follow_ups.select_related("case").order_by("-case_id")[
        :AFTER_RESOLUTION_SHOWN
    ]:
        rows.setdefault(follow_up.case_id, {"case": follow_up.case})["follow_up"] = follow_up
    surveys = Survey.objects.filter(customer=customer, case__in=visible)
    for survey in surveys.select_related("case", "response").order_by("-case_id")[
        :AFTER_RESOLUTION_SHOWN
    ]:
        rows.setdefault(survey.case_id, {"case": survey.case})["survey"] = survey
    return [rows[pk] for pk in sorted(rows, reverse=True)][:AFTER_RESOLUTION_SHOWN]


def _changer(request: HttpRequest, customer_id: int) -> tuple[Customer, Any]:
    customer = _customer(request, customer_id)
    user = request_staff(request)
    if not user.has_perm("customers.change_customer"):
        raise Http404
    return customer, user


def _done(customer: Customer, text: str, request: HttpRequest) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(reverse("console:customer", args=[customer.pk]))


def _recorded(
    request: HttpRequest,
    customer_id: int,
    form_class: type[forms.Form],
    slot: str,
    refused: str,
    save: Callable[[Customer, dict[str, Any], Any], object],
    done: str,
) -> HttpResponse:
    """One of the 360's forms: checked, handed to its service, the page again on a refusal
    (the form as typed, the reason said), else back to the page with `done` said."""
    customer, user = _changer(request, customer_id)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, refused)
        return _page(request, customer, given={slot: form}, status=400)
    try:
        save(customer, form.cleaned_data, user)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return _page(request, customer, given={slot: form}, status=exc.status)
    return _done(customer, done, request)


@require_POST
@mfa_required
def customer_preferences_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _recorded(
        request,
        customer_id,
        PreferencesForm,
        "preferences",
        _("Check the preferences: some are not valid."),
        lambda customer, data, user: customer_preferences_set(
            customer=customer,
            preferences=Preferences(
                language=data["preferred_language"],
                channel=data["preferred_channel"],
                contact_from=data["contact_from"],
                contact_until=data["contact_until"],
                accessibility=tuple(data["accessibility"]),
                dialect=data["dialect"],
                birth_year=data["birth_year"],
            ),
            actor=user,
        ),
        _("Preferences saved."),
    )


@require_POST
@mfa_required
def customer_consent_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _recorded(
        request,
        customer_id,
        ConsentForm,
        "consent",
        _("Say which consent, whether it is given, and where."),
        lambda customer, data, user: consent_record(customer=customer, actor=user, **data),
        _("Consent recorded."),
    )


@require_POST
@mfa_required
def customer_life_event_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _recorded(
        request,
        customer_id,
        LifeEventForm,
        "life_event",
        _("Give the life event and its date."),
        lambda customer, data, user: life_event_record(customer=customer, actor=user, **data),
        _("Life event recorded."),
    )
