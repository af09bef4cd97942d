from django.contrib import admin
from django.urls import include, path

from bankdesk.config.api import api
from bankdesk.config.health import healthz, readyz
from bankdesk.intake.contact import help_contact, help_status
from bankdesk.knowledge.help import help_centre
from bankdesk.staff.mfa import MfaAdminSite

# An exception nothing else handled: 503 with Retry-After when the database is out of reach.
handler500 = "bankdesk.lib.unavailable.server_error"

# The admin screens need the second factor too, and sign in through the console.
admin.site.__class__ = MfaAdminSite

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("intake/", include("bankdesk.intake.urls")),
    path("help/", help_centre, name="help"),
    path("help/contact/", help_contact, name="help_contact"),
    path("help/status/<str:token>/", help_status, name="help_status"),
    path("", include("bankdesk.console.urls")),
]
