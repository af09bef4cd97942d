"""bankdesk settings: one file, read from the environment (see .env.example)."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from bankdesk.lib.env import (
    SettingError,
    env_bool,
    env_generated_secret,
    env_int,
    env_list,
    env_secret,
    env_str,
    private_file_secret,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent

BANKDESK_HOME = Path(env_str("BANKDESK_HOME", "./var")).expanduser().resolve()
BANKDESK_HOME.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("BANKDESK_DEBUG", False)

# Never a hard-coded default: generated once into BANKDESK_HOME, readable by the owner only.
SECRET_KEY = env_str("BANKDESK_SECRET_KEY") or private_file_secret(BANKDESK_HOME / "secret_key")

ALLOWED_HOSTS = env_list("BANKDESK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("BANKDESK_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "rules.apps.AutodiscoverRulesConfig",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "bankdesk.config",
    "bankdesk.security",
    "bankdesk.staff",
    "bankdesk.customers",
    "bankdesk.tickets",
    "bankdesk.sla",
    "bankdesk.intake",
    "bankdesk.knowledge",
    "bankdesk.assistant",
    "bankdesk.complaints",
    "bankdesk.feedback",
    "bankdesk.personalization",
    "bankdesk.console",
    "bankdesk.analytics",
]

MIDDLEWARE = [
    "bankdesk.lib.requestid.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "bankdesk.staff.middleware.IdleTimeoutMiddleware",
    "bankdesk.security.context.AuditOriginMiddleware",
    "bankdesk.security.middleware.RateLimitMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: its lockout page replaces the response, and still gets the headers set above.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bankdesk.config.urls"
ASGI_APPLICATION = "bankdesk.config.asgi.application"
WSGI_APPLICATION = "bankdesk.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of other packages' templates (the admin's frame); each app keeps its own.
        "DIRS": [PACKAGE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bankdesk.console.context.shell",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise SettingError("DATABASE_URL must be a postgresql:// URL; leave it unset for SQLite")
    # Connections come from a pool per process (psycopg's, through Django's "pool" option):
    # the ASGI server runs each request on a thread of its own, and a persistent connection per
    # thread ran PostgreSQL out of connections under load. A request that waits longer than the
    # pool's timeout for a connection answers 503 with Retry-After (lib/unavailable.py).
    # Health checks on: a connection PostgreSQL dropped (a restart, a failover) is replaced by
    # the pool, not handed out.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    # JIT compilation off: bankdesk's statements are short, and compiling a plan PostgreSQL
    # estimates as costly (a floor's counts over thousands of open cases) took longer than
    # running it (24 ms of a 108 ms statement at a million cases).
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "options": "-c jit=off",
        "pool": {
            "min_size": 1,
            "max_size": env_int("BANKDESK_DB_POOL_SIZE", 16, minimum=1),
            "timeout": env_int("BANKDESK_DB_POOL_TIMEOUT", 10, minimum=1),
        },
    }
else:
    DATABASES = {
        "default": {
            # Django's SQLite backend whose writers queue in turn (see lib/sqlite/base.py).
            "ENGINE": "bankdesk.lib.sqlite",
            "NAME": str(BANKDESK_HOME / "bankdesk.sqlite3"),
            "OPTIONS": {
                # Writers queue instead of failing: IMMEDIATE takes the write lock at BEGIN, so a
                # transaction never has to upgrade a read lock (the classic "database is locked").
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            # A file, not shared memory, so concurrency tests see real locking and WAL.
            "TEST": {"NAME": str(BANKDESK_HOME / "test.sqlite3")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "staff.User"

REDIS_URL = env_str("REDIS_URL")

# --- channels -------------------------------------------------------------------------------

# Web processes `bankdesk up` serves with on its one port (`--processes` overrides it).
BANKDESK_WEB_PROCESSES = env_int("BANKDESK_WEB_PROCESSES", max(1, os.cpu_count() or 1), minimum=1)

# Live chat and live staff screens. Redis when REDIS_URL is set (any number of processes and
# nodes). Else in memory, joined across the web processes of one `bankdesk up` by the broker
# it runs and names in BANKDESK_LIVE_BROKER (lib/live_broker.py); a process started on its own
# (tests, runserver) keeps the plain in-memory layer.
ASGI_APPLICATION = "bankdesk.config.asgi.application"
BANKDESK_LIVE_BROKER = env_str("BANKDESK_LIVE_BROKER")
if REDIS_URL:
    _channel_layer = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
elif BANKDESK_LIVE_BROKER:
    _channel_layer = {
        "BACKEND": "bankdesk.lib.live_broker.BrokeredChannelLayer",
        "CONFIG": {"broker": BANKDESK_LIVE_BROKER},
    }
else:
    _channel_layer = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
CHANNEL_LAYERS = {"default": _channel_layer}
# The built-in SMTP receiver `bankdesk up` starts for e-mail intake, and where replies go out.
BANKDESK_SMTP_LISTEN = env_str("BANKDESK_SMTP_LISTEN", "127.0.0.1:2525")
BANKDESK_SMTP_RELAY = env_str("BANKDESK_SMTP_RELAY", "127.0.0.1:25")
# A sending worker's hold on an outbound message, renewed every third of it while the send runs;
# a worker that stops releases the message this long after.
BANKDESK_OUTBOX_LEASE_SECONDS = env_int("BANKDESK_OUTBOX_LEASE_SECONDS", 60, minimum=1)
# The demo bank's WeChat official account: its server token (set the same in WeChat's console)
# and the API base URL (a local fake in tests).
BANKDESK_WECHAT_TOKEN = env_str("BANKDESK_WECHAT_TOKEN")
BANKDESK_WECHAT_API_BASE = env_str("BANKDESK_WECHAT_API_BASE", "https://api.weixin.qq.com")

# Shared by every process and node: Redis when REDIS_URL is set, else a table in the database
# (not a per-process memory: the WeChat access token, for one, must be the same everywhere).
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "bankdesk_cache",
        }
    )
}

# --- background tasks -----------------------------------------------------------------------

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Results of finished background tasks are kept this many days, then pruned by the worker.
BANKDESK_TASK_RESULTS_KEEP_DAYS = env_int("BANKDESK_TASK_RESULTS_KEEP_DAYS", 7, minimum=1)
# An assistant training run silent this long is taken as interrupted (its worker died) and
# marked failed. A run beats at most every 10 s, between steps; its longest step on BANKING77
# took 43-80 s on a busy two-core machine (`bankdesk assistant train` prints it; see
# docs/assistant-models.md).
BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS = env_int(
    "BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS", 600, minimum=60
)

# --- authentication -------------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out users before any check
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # verifies old hashes, then upgrades
]
# TOTP is mandatory for supervisors, complaint officers, auditors and admins; for agents too
# when this is on.
BANKDESK_MFA_FOR_AGENTS = env_bool("BANKDESK_MFA_FOR_AGENTS", False)
OTP_TOTP_ISSUER = "bankdesk"
# Lock an account (per username and address) after this many failed sign-ins, for this long.
AXES_FAILURE_LIMIT = env_int("BANKDESK_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("BANKDESK_LOGIN_LOCKOUT_MINUTES", 30, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Never keep what was typed into a failed sign-in or code field.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "console/locked_out.html"
AXES_VERBOSE = False
# Signed-in staff are signed out after this many idle minutes.
BANKDESK_IDLE_TIMEOUT_MINUTES = env_int("BANKDESK_IDLE_TIMEOUT_MINUTES", 15, minimum=1)
SESSION_COOKIE_AGE = 12 * 3600  # a shift; the idle timeout usually ends a session first

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Behind https (directly or at a terminating proxy), cookies are secure and browsers are told
# to use https only.
BANKDESK_HTTPS = env_bool("BANKDESK_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = BANKDESK_HTTPS
SECURE_SSL_REDIRECT = BANKDESK_HTTPS and env_bool("BANKDESK_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31_536_000 if BANKDESK_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = BANKDESK_HTTPS
SECURE_HSTS_PRELOAD = BANKDESK_HTTPS
if env_bool("BANKDESK_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Rate limits ("count/seconds"): per API token, per client address on the API, per address on
# public endpoints (sign-in, survey links) and per address on channel webhooks (/intake/).
# Over the limit: 429 with Retry-After.
BANKDESK_RATE_LIMIT_TOKEN = env_str("BANKDESK_RATE_LIMIT_TOKEN", "600/60")
BANKDESK_RATE_LIMIT_ADDRESS = env_str("BANKDESK_RATE_LIMIT_ADDRESS", "1200/60")
BANKDESK_RATE_LIMIT_PUBLIC = env_str("BANKDESK_RATE_LIMIT_PUBLIC", "30/60")
BANKDESK_RATE_LIMIT_WEBHOOK = env_str("BANKDESK_RATE_LIMIT_WEBHOOK", "6000/60")
# Web chat, per client address: new chat sessions (each may open a case), and frames across all
# of the address's open chats. Over the limit a new chat is closed (4429), a frame refused.
BANKDESK_RATE_LIMIT_CHAT_SESSIONS = env_str("BANKDESK_RATE_LIMIT_CHAT_SESSIONS", "10/60")
BANKDESK_RATE_LIMIT_CHAT_FRAMES = env_str("BANKDESK_RATE_LIMIT_CHAT_FRAMES", "600/60")
# Contact forms from the help centre, per client address: a person writes a few, a script many.
BANKDESK_RATE_LIMIT_CONTACT = env_str("BANKDESK_RATE_LIMIT_CONTACT", "5/300")
# Admins manage configuration, not customers' cases, unless the bank decides otherwise.
BANKDESK_ADMIN_READS_CASES = env_bool("BANKDESK_ADMIN_READS_CASES", False)

# --- internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("BANKDESK_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BANKDESK_HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = BANKDESK_HOME / "uploads"
LOG_DIR = BANKDESK_HOME / "logs"

# --- bankdesk -------------------------------------------------------------------------------

BANKDESK_DEMO_PASSWORD = env_str("BANKDESK_DEMO_PASSWORD")
# Keys for customer data (C2/C3) at rest: "id:base64key,id:base64key", the first encrypting new
# values, and the blind-index key (base64), each also from <NAME>_FILE. Both or neither: when
# neither is set, $BANKDESK_HOME/data_keys.json holds them (generated on a fresh database only);
# when either is set, the key ring uses these and never generates a key.
BANKDESK_DATA_KEYS: str | None = env_secret("BANKDESK_DATA_KEYS")
BANKDESK_INDEX_KEY: str | None = env_secret("BANKDESK_INDEX_KEY")
# Key for backup archives (base64, 32 bytes). Unset: derived from the primary data key, so a
# backup then needs that key (kept in the key file) to be opened again.
BANKDESK_BACKUP_KEY = env_str("BANKDESK_BACKUP_KEY")
# The audit chain's key: every entry, link and checkpoint carries an HMAC under it. It lives
# outside the database, so whoever can write to the database cannot rewrite an entry and
# recompute the chain. Generated once into BANKDESK_HOME when unset; one that is configured but
# cannot be read stops bankdesk rather than start a chain nobody could verify.
BANKDESK_AUDIT_KEY = env_generated_secret(
    "BANKDESK_AUDIT_KEY", generated_at=BANKDESK_HOME / "audit_key"
)
# Where the worker appends signed checkpoints of the chain (count and head): ship these files
# to write-once storage, out of reach of the database and its users.
BANKDESK_AUDIT_CHECKPOINT_DIR = (
    Path(env_str("BANKDESK_AUDIT_CHECKPOINT_DIR") or BANKDESK_HOME / "audit-checkpoints")
    .expanduser()
    .resolve()
)
# Resolved cases close on their own after this many days without a customer reply.
BANKDESK_AUTOCLOSE_DAYS = env_int("BANKDESK_AUTOCLOSE_DAYS", 7, minimum=1)
# Administrators are warned this many weeks before a business calendar's published holidays end
# (the State Council publishes the next year's in November or December).
BANKDESK_CALENDAR_WARNING_WEEKS = env_int("BANKDESK_CALENDAR_WARNING_WEEKS", 8, minimum=1)
BANKDESK_API_PAGE_SIZE_MAX = 200
# Where customers reach bankdesk's public pages (survey links in e-mails and SMS point here).
BANKDESK_PUBLIC_URL = env_str("BANKDESK_PUBLIC_URL", "http://localhost:8000").rstrip("/")

# --- follow-up and surveys (feedback app; docs/feedback.md) -----------------------------------

# No survey invitation or reminder leaves in these hours, on the bank's clock.
BANKDESK_SURVEY_QUIET_HOURS = env_str("BANKDESK_SURVEY_QUIET_HOURS", "21:00-09:00")
BANKDESK_SURVEY_TIME_ZONE = env_str("BANKDESK_SURVEY_TIME_ZONE") or TIME_ZONE
# At most one survey per customer in this many days.
BANKDESK_SURVEY_PERIOD_DAYS = env_int("BANKDESK_SURVEY_PERIOD_DAYS", 30, minimum=0)
# A link works this many days after it is sent, once.
BANKDESK_SURVEY_LINK_DAYS = env_int("BANKDESK_SURVEY_LINK_DAYS", 7, minimum=1)
# One reminder to a customer who has not answered this many hours after the invitation.
BANKDESK_SURVEY_REMINDER_HOURS = env_int("BANKDESK_SURVEY_REMINDER_HOURS", 48, minimum=1)
# Business hours between follow-up calls that found nobody; after the last, unreachable.
BANKDESK_FOLLOWUP_RETRY_HOURS = [
    int(hours) for hours in env_list("BANKDESK_FOLLOWUP_RETRY_HOURS", ["2", "4", "8"])
]

# The quarterly evaluation: the bank's name on its cover, and the CJK font embedded in the PDF
# (empty: Debian's fonts-noto-cjk, WenQuanYi or AR PL fonts, wherever installed).
BANKDESK_BANK_NAME = env_str("BANKDESK_BANK_NAME", "bankdesk")
BANKDESK_REPORT_FONT = env_str("BANKDESK_REPORT_FONT")

# --- logging --------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "bankdesk.lib.jsonlog.RequestIdFilter"}},
    "formatters": {"json": {"()": "bankdesk.lib.jsonlog.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("BANKDESK_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
        # Subsetting the report's CJK font says a hundred things at INFO for each PDF.
        "fontTools": {"level": "WARNING"},
    },
}
