from django.contrib import admin
from django.urls import include, path

from bankdesk.config.api import api
from bankdesk.config.health import healthz, readyz

urlpatterns = [
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("bankdesk.console.urls")),
]
