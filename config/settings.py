"""Samphan settings: one file, driven by the environment.

Defaults give the embedded setup (SQLite file under ./var/, no broker server);
production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SAMPHAN_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once per install under var/.

    Never a key committed to the repository.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves /api/docs' Swagger UI from its own static files, not a CDN
    "samphan.core",
    "samphan.accounts",
    "samphan.customers",
    "samphan.commerce",
    "samphan.analytics",
    "samphan.segments",
    "samphan.imports",
    "samphan.channels",
    "samphan.inbox",
    "samphan.sla",
    "samphan.sentiment",
    "samphan.listening",
    "samphan.guard",
    "samphan.web",
    "samphan.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Web chat's widget endpoints only (CORS_URLS_REGEX); origins per channel account (webchat/cors.py).
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "samphan.core.middleware.JsonErrorsForApiMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "samphan.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Default: an SQLite file under ./var/ in WAL mode. DATABASE_URL switches to
# PostgreSQL (postgres://...) or another SQLite file (sqlite:////abs/path).
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'samphan.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or DEFAULT_SQLITE)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the worker read while one of them writes;
        # the pragmas run on every new connection.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    # Persistent connections (one per web thread / worker process), checked before reuse. Assigned,
    # not setdefault: dj_database_url.parse always sets CONN_MAX_AGE (to 0), which made every request
    # open a new PostgreSQL connection (a backend fork and an authentication, ~ms of CPU each).
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login throttling, rate limits) ---------------------------------
if redis_url := os.environ.get("CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
else:
    # File-based so the throttle holds across the web server's worker processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_THROTTLE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_FAILURES", "5"))
LOGIN_THROTTLE_WINDOW_SECONDS = int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", "900"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- i18n ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("th", _("Thai"))]
LOCALE_PATHS = [BASE_DIR / "samphan" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Bangkok")
USE_I18N = True
USE_TZ = True

# --- Static files (served by the app itself, no CDN) ----------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"

# --- Celery -----------------------------------------------------------------------
# Production: redis://... or amqp://... in CELERY_BROKER_URL. Embedded default:
# kombu's filesystem transport under var/celery/ — a real worker process, no
# server to install (docs/decisions/0003-background-jobs.md).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _processed_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        # kombu otherwise writes broadcast/control files to ./control in the cwd.
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic tasks, run by the beat scheduler that `samphan worker` embeds unless WORKER_BEAT=0
# (run it in one worker only, or as `celery beat`; the tasks are idempotent either way).
CELERY_BEAT_SCHEDULE = {
    # SLA targets missed while nobody acted (samphan/sla/clock.py::sla_sweep).
    "sla-sweep": {"task": "sla.sweep", "schedule": float(os.environ.get("SAMPHAN_SLA_SWEEP_SECONDS", "60"))},
    # Pull channels (IMAP mailboxes): queue a poll for each whose poll_interval has passed.
    "channels-poll-due": {"task": "channels.poll_due",
                          "schedule": float(os.environ.get("SAMPHAN_POLL_TICK_SECONDS", "15"))},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail that Samphan sends itself (alerts) --------------------------------------
# EMAIL_HOST set: SMTP (EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS /
# EMAIL_USE_SSL). Unset (the embedded setup): messages are written as files to var/mail/.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Samphan <samphan@localhost>")

# --- Listening (docs/listening.md) --------------------------------------------------
SAMPHAN_X_BEARER_TOKEN = os.environ.get("SAMPHAN_X_BEARER_TOKEN", "")  # default for X sources without their own
SAMPHAN_X_API_BASE = os.environ.get("SAMPHAN_X_API_BASE", "")  # default https://api.x.com/2
SAMPHAN_LISTENING_SPIKE_MIN = int(os.environ.get("SAMPHAN_LISTENING_SPIKE_MIN", "5"))
SAMPHAN_LISTENING_SPIKE_SIGMAS = float(os.environ.get("SAMPHAN_LISTENING_SPIKE_SIGMAS", "3"))
SAMPHAN_LISTENING_BASELINE_HOURS = int(os.environ.get("SAMPHAN_LISTENING_BASELINE_HOURS", "168"))

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"samphan": {"level": os.environ.get("SAMPHAN_LOG_LEVEL", "INFO")}},
}

# --- Web chat (docs/channels-and-inbox.md#web-chat) ---------------------------------
# CORS is on for the widget's endpoints only; which origins may use them is each web-chat channel
# account's own list (samphan/channels/webchat/cors.py), never a global one.
CORS_URLS_REGEX = r"^/webchat/[0-9a-fA-F-]{36}/"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("content-type", "x-samphan-visitor")
CORS_EXPOSE_HEADERS = ("retry-after",)
CORS_PREFLIGHT_MAX_AGE = 600
# Per visitor or address; "N/s|m|h|d" (django-ratelimit syntax). The cache must be shared by the web processes.
SAMPHAN_WEBCHAT_RATE_VISITOR = os.environ.get("SAMPHAN_WEBCHAT_RATE_VISITOR", "20/m")
SAMPHAN_WEBCHAT_RATE_IP = os.environ.get("SAMPHAN_WEBCHAT_RATE_IP", "60/m")
SAMPHAN_WEBCHAT_RATE_EMAIL = os.environ.get("SAMPHAN_WEBCHAT_RATE_EMAIL", "5/h")
SAMPHAN_WEBCHAT_RATE_POLL = os.environ.get("SAMPHAN_WEBCHAT_RATE_POLL", "120/m")

SAMPHAN_API_TOKEN_PREFIX = "smp_"  # noqa: S105  a public prefix, not a secret
