from django.contrib.auth import views as auth_views
from django.urls import path

from bankdesk.console import audit, cases, views

app_name = "console"

urlpatterns = [
    path("", views.root, name="login"),
    # bankdesk.security.middleware counts POSTs to "/" and "/mfa/" as sign-in attempts.
    path("mfa/", views.mfa, name="mfa"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("home/", views.home, name="home"),
    path("cases/<int:case_id>/", cases.case_live, name="case_live"),
    path("cases/<int:case_id>/reply/", cases.case_live_reply, name="case_live_reply"),
    path("audit/", audit.audit_log, name="audit_log"),
    # POST only (Django's LogoutView): a link or an image cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
