from django.contrib.auth import views as auth_views
from django.urls import path

from bankdesk.console import views

app_name = "console"

urlpatterns = [
    path("", views.root, name="login"),
    path("home/", views.home, name="home"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
