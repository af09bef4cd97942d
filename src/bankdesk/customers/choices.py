from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Customers speak the languages bankdesk speaks; re-exported for the customers app's callers.
from bankdesk.lib.languages import Language as Language


class Segment(models.TextChoices):
    RETAIL = "retail", _("Retail")
    PRIVATE_BANKING = "private_banking", _("Private banking")
    SMALL_BUSINESS = "small_business", _("Small business")
    CORPORATE = "corporate", _("Corporate")


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")
    DIAMOND = "diamond", _("Diamond")


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT_OPENID = "wechat_openid", _("WeChat openid")
    ALIPAY_USER_ID = "alipay_user_id", _("Alipay user id")
    NATIONAL_ID = "national_id", _("National ID number")


class HoldingKind(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CARD = "card", _("Card")
    LOAN = "loan", _("Loan")


class HoldingStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("holding", "Active")
    FROZEN = "frozen", pgettext_lazy("holding", "Frozen")
    CLOSED = "closed", pgettext_lazy("holding", "Closed")


class RevealField(models.TextChoices):
    """What a reveal may show in full: one identity kind, or one holding's reference."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT_OPENID = "wechat_openid", _("WeChat openid")
    ALIPAY_USER_ID = "alipay_user_id", _("Alipay user id")
    NATIONAL_ID = "national_id", _("National ID number")
    HOLDING_REFERENCE = "holding_reference", _("Holding reference")
