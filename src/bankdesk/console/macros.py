"""Macros in the console at /macros/: the shared ones (kept by supervisors) and each user's own,
written in 简体, 繁體 and English with placeholders, and the changes that go with them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from bankdesk.console.words import error_text
from bankdesk.lib.errors import BankdeskError
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.predicates import assigns_cases
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.macros import (
    TEXT_MAX,
    MacroSpec,
    macro_may_change,
    macro_save,
    macros_for,
)
from bankdesk.tickets.models import Macro

TEXT = {"rows": 4, "maxlength": TEXT_MAX}


class MacroForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    text_zh_hans = forms.CharField(
        label=gettext_lazy("Text (Simplified Chinese)"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs=TEXT),
    )
    text_zh_hant = forms.CharField(
        label=gettext_lazy("Text (Traditional Chinese)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )
    text_en = forms.CharField(
        label=gettext_lazy("Text (English)"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs=TEXT),
    )
    set_status = forms.ChoiceField(
        label=gettext_lazy("Then set status to"),
        choices=[("", "—"), *CaseStatus.choices],
        required=False,
    )
    set_priority = forms.ChoiceField(
        label=gettext_lazy("Then set priority to"),
        choices=[("", "—"), *Priority.choices],
        required=False,
    )
    add_tag = forms.CharField(label=gettext_lazy("Then add tag"), max_length=50, required=False)
    shared = forms.BooleanField(label=gettext_lazy("Shared with everyone"), required=False)


@require_http_methods(["GET", "POST"])
@mfa_required
def macro_list(request: HttpRequest, macro_id: int | None = None) -> HttpResponse:
    """The macros the user may use, and a form to write a new one or change one."""
    user = request_staff(request)
    macro: Macro | None = None
    if macro_id is not None:
        macro = Macro.objects.filter(pk=macro_id).first()
        if macro is None or not macro_may_change(macro, user):
            raise Http404
    if request.method == "POST":
        form = MacroForm(request.POST)
        if form.is_valid():
            try:
                macro_save(spec=MacroSpec(**form.cleaned_data), actor=user, macro=macro)
            except BankdeskError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, _("Macro saved."))
                return HttpResponseRedirect(reverse("console:macros"))
        status = 400
    else:
        initial = {}
        if macro is not None:
            initial = {
                field: getattr(macro, field)
                for field in (
                    "name",
                    "text_zh_hans",
                    "text_zh_hant",
                    "text_en",
                    "set_status",
                    "set_priority",
                    "add_tag",
                )
            }
            initial["shared"] = macro.owner_id is None
        form = MacroForm(initial=initial)
        status = 200
    if not assigns_cases(user):
        form.fields["shared"].disabled = True
    return render(
        request,
        "console/macros.html",
        {
            "form": form,
            "editing": macro,
            "macros": [(m, macro_may_change(m, user)) for m in macros_for(user)],
        },
        status=status,
    )
