"""The complaint register as an XLSX download, /complaints/export.xlsx?from=…&to=…&lang=…:
the complaints the reader may see, received in the period, in the regulator's columns.

A download of the register leaves the bank's screens, so it is audited (who, which period).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from bankdesk.complaints.export import complaint_register_xlsx
from bankdesk.console.complaint_hotspots import complaints_visible_to, period_from_query
from bankdesk.console.words import error_text
from bankdesk.lib.errors import BankdeskError
from bankdesk.security.audit import audit_record
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@mfa_required
def complaint_register_export(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    if not user.has_perm("complaints.view_complaint"):
        raise PermissionDenied
    language = request.GET.get("lang") or "zh-hans"
    try:
        period = period_from_query(request.GET)
        with transaction.atomic():
            content = complaint_register_xlsx(
                period=period, language=language, within=complaints_visible_to(user)
            )
            audit_record(actor=user, action="complaints.register.export",
                         object_type="complaints.complaint",
                         reason=f"{period.first_day}..{period.end_day} {language}")  # fmt: skip
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return HttpResponseRedirect(reverse("console:complaints"))
    name = f"complaint-register-{period.first_day}-{period.end_day}-{language}.xlsx"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
