"""Where channels' providers call bankdesk: one prefix per channel sub-package."""

from django.urls import include, path

app_name = "intake"

urlpatterns = [
    path("email/", include("bankdesk.intake.channels.email.urls")),
    path("wechat/", include("bankdesk.intake.channels.wechat.urls")),
    path("alipay/", include("bankdesk.intake.channels.alipay.urls")),
    path("sms/", include("bankdesk.intake.channels.sms.urls")),
    path("chat/", include("bankdesk.intake.channels.webchat.urls")),
    path("social/", include("bankdesk.intake.channels.social.urls")),
    path("voice/", include("bankdesk.intake.channels.voice.urls")),
    path("branch/", include("bankdesk.intake.channels.branch.urls")),
]
