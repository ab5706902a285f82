"""Django settings, read from the environment with safe defaults (see the README's table)."""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("GUANXI_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    """True for 1/true/yes/on (any case), the default when unset."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/secret_key."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting at once keep the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("GUANXI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("GUANXI_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials.apps.SimpleAppConfig",
    "django_htmx",
    "csp",
    "axes",
    "simple_history",
    "ninja",
    "guanxi.core",
    "guanxi.accounts",
    "guanxi.audit",
    "guanxi.customers",
    "guanxi.interactions",
    "guanxi.commerce",
    # After the facts it reads, so that its demo loader grades the demo orders.
    "guanxi.grading",
    "guanxi.sales",
    "guanxi.leads",
    "guanxi.activities",
    "guanxi.service",
    "guanxi.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "guanxi.accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "guanxi.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"
ASGI_APPLICATION = "guanxi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "guanxi.core.context_processors.navigation",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- database -------------------------------------------------------------------------------

DEFAULT_SQLITE_PATH = VAR_DIR / "guanxi.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the writer; synchronous=FULL so that a power cut
        # loses no acknowledged commit (NORMAL may, see FIELD-NOTES); IMMEDIATE takes the
        # write lock at BEGIN so that two writers queue on the busy timeout instead of
        # failing with "database is locked" half-way through a transaction.
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("GUANXI_SQLITE_TIMEOUT", 20),
        }
        # Tests use a file too, not SQLite's shared in-memory database: there, a background
        # task's own connection fails at once with "database table is locked" while the live
        # server reads the same table, instead of waiting on the busy timeout as it does here.
        config["TEST"] = {
            "NAME": os.environ.get("GUANXI_TEST_SQLITE")
            or str(Path(tempfile.gettempdir()) / f"guanxi-test-{os.getpid()}.sqlite3")
        }
    else:
        config["CONN_MAX_AGE"] = env_int("GUANXI_DB_CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        config.setdefault("OPTIONS", {})
    return config


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, broker, tasks ----------------------------------------------------------------------

CACHE_URL = os.environ.get("GUANXI_CACHE_URL", "")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "guanxi",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- email --------------------------------------------------------------------------------------

# GUANXI_SMTP_URL=smtp://user:password@host:587?tls=1 (or ?ssl=1) sends mail through a server;
# without it every message is written as a file under var/mail, so nothing is lost.
SMTP_URL = os.environ.get("GUANXI_SMTP_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("GUANXI_MAIL_FROM", "Guanxi <guanxi@localhost>")
# Where the site is reached from outside, for links in mail (surveys, invitations, reminders).
PUBLIC_URL = os.environ.get("GUANXI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if SMTP_URL:
    from urllib.parse import parse_qs, unquote, urlsplit

    _smtp = urlsplit(SMTP_URL)
    _smtp_options = parse_qs(_smtp.query)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.hostname or "127.0.0.1"
    EMAIL_PORT = _smtp.port or 25
    EMAIL_HOST_USER = unquote(_smtp.username or "")
    EMAIL_HOST_PASSWORD = unquote(_smtp.password or "")
    EMAIL_USE_TLS = _smtp_options.get("tls", ["0"])[0] == "1"
    EMAIL_USE_SSL = _smtp_options.get("ssl", ["0"])[0] == "1"
    EMAIL_TIMEOUT = env_int("GUANXI_SMTP_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")

BROKER_URL = os.environ.get("GUANXI_BROKER_URL", "")
# "celery" sends tasks to workers over the broker; "thread" runs them in this process after
# the transaction commits; "eager" runs them at once in the caller (tests).
TASK_MODE = os.environ.get("GUANXI_TASK_MODE") or ("celery" if BROKER_URL else "thread")
CELERY_BROKER_URL = BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = os.environ.get("GUANXI_RESULT_BACKEND") or BROKER_URL or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- auth, sessions, lockout ------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock a username only from the address that failed, so that an attacker elsewhere cannot
# lock its owner out of every machine.
AXES_FAILURE_LIMIT = env_int("GUANXI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("GUANXI_LOGIN_LOCK_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "guanxi.accounts.views.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

SESSION_IDLE_SECONDS = env_int("GUANXI_SESSION_IDLE_MINUTES", 30) * 60
SESSION_ABSOLUTE_SECONDS = env_int("GUANXI_SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# --- security headers ------------------------------------------------------------------------

HTTPS = env_bool("GUANXI_HTTPS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (see the README).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("GUANXI_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("GUANXI_HSTS_PRELOAD")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

ATTACHMENT_MAX_BYTES = env_int("GUANXI_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_BYTES = env_int("GUANXI_IMPORT_MAX_BYTES", 200 * 1024 * 1024)

# Bodies beyond this are refused before they are parsed (413 on the API).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("GUANXI_MAX_BODY_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- i18n ------------------------------------------------------------------------------------

LANGUAGE_CODE = os.environ.get("GUANXI_LANGUAGE", "en")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static files ----------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("GUANXI_STATIC_ROOT", VAR_DIR / "static"))
NODE_MODULES = Path(os.environ.get("GUANXI_NODE_MODULES", Path.cwd() / "node_modules"))
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STATICFILES_DIRS = [entry for entry in STATICFILES_DIRS if entry[1].is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env_bool("GUANXI_PLAIN_STATIC"):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_MAX_AGE = 3600

# --- API -------------------------------------------------------------------------------------

API_TOKEN_DEFAULT_DAYS = env_int("GUANXI_API_TOKEN_DAYS", 90)
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
