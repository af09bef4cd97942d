from django.urls import path

from bankdesk.analytics import dashboard, targets, wallboard

app_name = "analytics"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<slug:code>/", dashboard.drill, name="drill"),
    path("dashboard/report/<str:quarter>/<str:kind>/", dashboard.report, name="report"),
    path("manage/targets/", targets.targets_screen, name="targets"),
    path("wallboard/", wallboard.wallboard, name="wallboard"),
    path("wallboard/data/", wallboard.wallboard_data, name="wallboard_data"),
]
