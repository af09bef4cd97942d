from django.contrib.auth import views as auth_views
from django.urls import path

from bankdesk.console import (
    audit,
    cases,
    complaint_export,
    complaint_hotspots,
    complaint_new,
    complaints,
    customers,
    floor,
    followups,
    macros,
    personal,
    queue,
    search,
    views,
)
from bankdesk.console.manage import calendars as manage_calendars
from bankdesk.console.manage import channels as manage_channels
from bankdesk.console.manage import followups as manage_followups
from bankdesk.console.manage import knowledge as manage_knowledge
from bankdesk.console.manage import personal as manage_personal
from bankdesk.console.manage import routing as manage_routing
from bankdesk.console.manage import sla as manage_sla
from bankdesk.console.manage import staff as manage_staff
from bankdesk.console.manage import teams as manage_teams

app_name = "console"

urlpatterns = [
    path("", views.root, name="login"),
    # bankdesk.security.middleware counts POSTs to "/" and "/mfa/" as sign-in attempts.
    path("mfa/", views.mfa, name="mfa"),
    path("mfa/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("home/", views.home, name="home"),
    path("cases/", queue.queue, name="queue"),
    path("cases/counts/", queue.queue_counts, name="queue_counts"),
    path("cases/bulk/", queue.queue_bulk, name="queue_bulk"),
    path("cases/views/", queue.saved_view_create, name="saved_view_create"),
    path("cases/views/<int:view_id>/delete/", queue.saved_view_delete, name="saved_view_delete"),
    path("search/", search.search, name="search"),
    path("macros/", macros.macro_list, name="macros"),
    path("supervisor/", floor.floor, name="floor"),
    path("macros/<int:macro_id>/", macros.macro_list, name="macro"),
    path("customers/", search.customer_search, name="customers"),
    path("customers/<int:customer_id>/", customers.customer_page, name="customer"),
    path(
        "customers/<int:customer_id>/preferences/",
        customers.customer_preferences_view,
        name="customer_preferences",
    ),
    path(
        "customers/<int:customer_id>/consents/",
        customers.customer_consent_view,
        name="customer_consent",
    ),
    path(
        "customers/<int:customer_id>/life-events/",
        customers.customer_life_event_view,
        name="customer_life_event",
    ),
    path(
        "customers/<int:customer_id>/reveal/",
        customers.customer_reveal_view,
        name="customer_reveal",
    ),
    path(
        "customers/<int:customer_id>/merge/", customers.customer_merge_view, name="customer_merge"
    ),
    path("presence/", views.presence, name="presence"),
    path("cases/<int:case_id>/", cases.case_live, name="case_live"),
    path("cases/<int:case_id>/properties/", cases.case_properties, name="case_properties"),
    path("cases/<int:case_id>/notes/", cases.case_note, name="case_note"),
    path("cases/<int:case_id>/merge/", cases.case_merge, name="case_merge"),
    path(
        "cases/<int:case_id>/messages/<int:message_id>/retry/", cases.case_retry, name="case_retry"
    ),
    path("cases/<int:case_id>/reply/", cases.case_live_reply, name="case_live_reply"),
    path("cases/<int:case_id>/complaint/", complaints.complaint_step, name="complaint_step"),
    path("followups/", followups.follow_up_queue, name="followups"),
    path("followups/indicators/", followups.feedback_indicators, name="feedback_indicators"),
    path("followups/<int:follow_up_id>/", followups.follow_up_work, name="followup"),
    path("complaints/", complaints.complaint_register, name="complaints"),
    path("complaints/hotspots/", complaint_hotspots.complaint_hotspots, name="complaint_hotspots"),
    path(
        "complaints/export.xlsx",
        complaint_export.complaint_register_export,
        name="complaint_register_export",
    ),
    path("complaints/root-causes/", complaint_hotspots.root_cause_add, name="root_cause_add"),
    path(
        "complaints/root-causes/<int:root_cause_id>/actions/",
        complaint_hotspots.root_cause_action_add,
        name="root_cause_action_add",
    ),
    path(
        "complaints/rectifications/<int:rectification_id>/move/",
        complaint_hotspots.rectification_move_view,
        name="rectification_move",
    ),
    path("complaints/new/", complaint_new.complaint_new, name="complaint_new"),
    path(
        "cases/<int:case_id>/attachments/<int:attachment_id>/",
        cases.case_attachment,
        name="case_attachment",
    ),
    path("audit/", audit.audit_log, name="audit_log"),
    path("personal/", personal.personal_overview, name="personal"),
    path(
        "suggestions/<int:suggestion_id>/decide/",
        personal.suggestion_decide_view,
        name="suggestion_decide",
    ),
    # POST only (Django's LogoutView): a link or an image cannot sign anyone out.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

# Management screens, each area's own paths under manage/.
urlpatterns += (
    manage_knowledge.urlpatterns
    + manage_routing.urlpatterns
    + manage_followups.urlpatterns
    + manage_sla.urlpatterns
    + manage_calendars.urlpatterns
    + manage_staff.urlpatterns
    + manage_teams.urlpatterns
    + manage_channels.urlpatterns
    + manage_personal.urlpatterns
)
