from django.urls import path

from bankdesk.intake.channels.sms.views import sms_webhook

urlpatterns = [path("<slug:code>/", sms_webhook, name="sms_webhook")]
