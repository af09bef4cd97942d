"""The official accounts' server URLs: the default (demo) account, and each account by code."""

from django.urls import URLPattern, path

from bankdesk.intake.channels.wechat.views import wechat_webhook

urlpatterns: list[URLPattern] = [
    path("", wechat_webhook, name="wechat-webhook"),
    path("<slug:code>/", wechat_webhook, name="wechat-webhook-endpoint"),
]
