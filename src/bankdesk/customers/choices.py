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


class Dialect(models.TextChoices):
    """A dialect the customer would rather be served in."""

    CANTONESE = "cantonese", _("Cantonese")
    MINNAN = "minnan", _("Hokkien (Minnan)")
    SHANGHAINESE = "shanghainese", _("Shanghainese")
    SICHUANESE = "sichuanese", _("Sichuanese")
    HAKKA = "hakka", _("Hakka")


class AccessibilityNeed(models.TextChoices):
    LARGE_PRINT = "large_print", _("Large print")
    ELDERLY_FRIENDLY = "elderly_friendly", _("Elderly-friendly service")
    HEARING = "hearing", _("Hard of hearing")
    VISION = "vision", _("Low vision")
    MOBILITY = "mobility", _("Limited mobility")


class ConsentPurpose(models.TextChoices):
    """What a consent is for; each is given and withdrawn on its own."""

    SERVICE = "service", _("Service contact")
    MARKETING = "marketing", _("Marketing")
    DATA_SHARING = "data_sharing", _("Data sharing")


class ConsentSource(models.TextChoices):
    """Where the customer said so."""

    BRANCH = "branch", _("At a branch (signed form)")
    PHONE = "phone", _("On a recorded call")
    APP = "app", _("In the mobile app")
    ONLINE = "online", _("In online banking")
    WECHAT = "wechat", _("On WeChat")
    ONBOARDING = "onboarding", _("At account opening")
    LINK = "link", _("By the link in one of our messages")


class LinkKind(models.TextChoices):
    """How two customers are related: a household, or a business and the people behind it."""

    SPOUSE = "spouse", _("Spouse")
    PARENT_OF = "parent_of", _("Parent of")
    GUARDIAN_OF = "guardian_of", _("Guardian of")
    HOUSEHOLD = "household", _("Same household")
    OWNER_OF = "owner_of", _("Owner of the business")
    SIGNATORY_OF = "signatory_of", _("Authorised signatory of")


class LifeEventKind(models.TextChoices):
    """Moments in a customer's life the bank records because service should change with them."""

    RETIREMENT = "retirement", pgettext_lazy("life event", "Retired")
    NEW_CHILD = "new_child", _("New child")
    MARRIAGE = "marriage", _("Married")
    MOVED_HOME = "moved_home", _("Moved home")
    BUSINESS_OPENED = "business_opened", _("Opened a business")
    BEREAVEMENT = "bereavement", _("Bereavement")
    STUDY_ABROAD = "study_abroad", _("Studying abroad")
