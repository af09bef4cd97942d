"""Registering a complaint that did not come through a channel: forwarded by a regulator, or a
letter. The complaint team writes it down at /complaints/new/; it opens a complaint case on the
complaint team with the regulator's reference, under the complaint clocks."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bankdesk.complaints.forwarded import Forwarded, complaint_register
from bankdesk.console.words import error_text
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required

# How a complaint from outside the channels reaches the bank.
ARRIVALS = (Channel.EMAIL, Channel.BRANCH, Channel.PHONE)


class ForwardedForm(forms.Form):
    regulator_forwarded = forms.BooleanField(
        label=gettext_lazy("Forwarded by a regulator"), required=False, initial=True
    )
    regulator_reference = forms.CharField(
        label=gettext_lazy("Regulator's reference"), max_length=80, required=False
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Received by"),
        choices=[(c.value, c.label) for c in ARRIVALS],
        initial=Channel.EMAIL,
    )
    customer_number = forms.CharField(
        label=gettext_lazy("Customer number (if known)"), max_length=32, required=False
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    narrative = forms.CharField(
        label=gettext_lazy("What the customer complains about"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
    )

    def clean_customer_number(self) -> Customer | None:
        number = self.cleaned_data.get("customer_number", "").strip()
        if not number:
            return None
        customer = Customer.objects.filter(customer_number=number).first()
        if customer is None:
            raise forms.ValidationError(_("No customer has this number."))
        return customer


@require_http_methods(["GET", "POST"])
@mfa_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    if not (user.has_perm("complaints.change_complaint") and user.has_perm("tickets.add_case")):
        raise PermissionDenied
    form = ForwardedForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaint_register(
                    forwarded=Forwarded(
                        subject=data["subject"],
                        narrative=data["narrative"],
                        channel=data["channel"],
                        regulator_forwarded=data["regulator_forwarded"],
                        regulator_reference=data["regulator_reference"],
                        customer=data["customer_number"],
                    ),
                    actor=user,
                )
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("The complaint is registered."))
                return HttpResponseRedirect(reverse("console:case_live", args=[complaint.case_id]))
    return render(request, "console/complaint_new.html", {"form": form}, status=status)
