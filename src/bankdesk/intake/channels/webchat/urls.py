"""Web chat: the widget's files and the demo page (the chat itself is a WebSocket, /ws/chat/)."""

from django.urls import URLPattern, path

from bankdesk.intake.channels.webchat import views

urlpatterns: list[URLPattern] = [
    path("<str:name>", views.widget_file, name="webchat_file"),
    path("demo/", views.demo, name="webchat_demo"),
]
