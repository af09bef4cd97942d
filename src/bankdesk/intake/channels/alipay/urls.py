"""Each Alipay life account's notification URL, by endpoint code."""

from django.urls import URLPattern, path

from bankdesk.intake.channels.alipay.views import alipay_notify

urlpatterns: list[URLPattern] = [
    path("<slug:code>/", alipay_notify, name="alipay-notify"),
]
