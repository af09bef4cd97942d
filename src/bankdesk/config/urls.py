from django.contrib import admin
from django.urls import include, path

from bankdesk.config.api import api
from bankdesk.config.health import healthz, readyz
from bankdesk.feedback.views import survey_opt_out_view, survey_page
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
    # Public, no login; rate-limited per address (security.middleware.PUBLIC_PREFIXES).
    path("survey/<str:token>/", survey_page, name="survey"),
    path("survey/<str:token>/opt-out/", survey_opt_out_view, name="survey_opt_out"),
    # Customer events in the console; their public registration page is /e/<token>/.
    path("", include("bankdesk.personalization.urls")),
    path("", include("bankdesk.analytics.urls")),
    path("", include("bankdesk.console.urls")),
]
