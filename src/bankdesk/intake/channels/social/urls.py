from django.urls import path

from bankdesk.intake.channels.social.views import social_webhook

urlpatterns = [path("<slug:code>/", social_webhook, name="social_webhook")]
