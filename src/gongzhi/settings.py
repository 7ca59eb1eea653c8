"""Gongzhi settings — read from environment variables only (DESIGN.md §4).

Embedded default: SQLite under ``var/``, in-memory channel layer and cache, no other service.
Scaled: set ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL``; nothing else changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from gongzhi.core.files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, private_dir, secure_var_dir

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


# Everything the embedded mode writes (database, uploaded files, dev keys, logs) lives here.
VAR_DIR = Path(env_str("GONGZHI_VAR_DIR", str(PROJECT_DIR / "var"))).resolve()
private_dir(VAR_DIR)  # 0700 whatever the umask: it holds personal data and keys (core/files.py)

DEV_SECRET_KEY = "django-insecure-gongzhi-development-only"  # noqa: S105 — refused in production below
PRODUCTION = env_str("GONGZHI_MODE", "development") == "production"
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
if PRODUCTION and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "GONGZHI_MODE=production refuses to start with the development SECRET_KEY; set SECRET_KEY."
    )
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [h for h in env_str("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "channels",
    # The API docs page then uses ninja's bundled Swagger UI (its static files) instead of a CDN,
    # which the CSP blocks and which an intranet cannot reach.
    "ninja",
    "gongzhi.core",
    "gongzhi.places",
    "gongzhi.accounts",
    "gongzhi.people",
    "gongzhi.services",
    "gongzhi.councils",
    "gongzhi.assets",
    "gongzhi.microprojects",
    "gongzhi.villages",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gongzhi.core.middleware.SecurityHeadersMiddleware",
    "gongzhi.core.middleware.DisplayPreferencesMiddleware",
    # Last: its answers are translated and carry the security headers like any page.
    "gongzhi.core.middleware.RejectNulCharactersMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"
ASGI_APPLICATION = "gongzhi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gongzhi.core.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite tuning per FIELD-NOTES: WAL + synchronous=NORMAL, IMMEDIATE transactions (so two
# writers queue on the busy timeout instead of failing with "database is locked" on upgrade),
# persistent connections.
SQLITE_PATH = VAR_DIR / "gongzhi.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 600),
                              conn_health_checks=env_bool("CONN_HEALTH_CHECKS", False))
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        _db["ENGINE"] = "gongzhi.core.db.sqlite3"
        _db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
else:
    # The database file is made (empty) 0600 before SQLite opens it, so it and its -wal/-shm are
    # never world-readable (core/files.py).
    secure_var_dir(VAR_DIR, SQLITE_PATH)
    _db = {
        # SQLite with writers queued on a file lock (core/db/sqlite3/base.py explains why).
        "ENGINE": "gongzhi.core.db.sqlite3",
        "NAME": str(SQLITE_PATH),
        "CONN_MAX_AGE": env_int("CONN_MAX_AGE", 600),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        },
        # Tests use an in-memory database (Django shares it with the live-server thread).
    }
if _db["ENGINE"].startswith("django.db.backends.postgresql"):
    # One test database per test process, so two test runs on one server never clobber each
    # other (pytest-django drops it at the end of the run).
    _db["TEST"] = {"NAME": env_str("GONGZHI_TEST_DB_NAME", f"test_gongzhi_{os.getpid()}")}
DATABASES = {"default": _db}
# The hot paths' database shortcuts (core/db/: compiled INSERTs, written-out reads); off = the
# plain ORM everywhere (CI runs the suite once that way; bench/intake.py measures both).
GONGZHI_DB_SHORTCUTS = env_bool("GONGZHI_DB_SHORTCUTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- Redis: cache + channel layer when configured -------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # capacity: a meeting's burst of votes must not overflow a busy process's queue (the default
    # 100 dropped the result for half the room at 1,000 phones — bench/meeting.py).
    # socket_timeout: longer than channels_redis's 5 s blocking pop. redis-py (>= 6) reads with a
    # 5 s timeout by default, so a quiet room's receive raised TimeoutError and the live room's
    # listener died (councils.room.RoomHub); a message popped in that instant was lost.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}], "capacity": 5000},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 5000}}}

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# The role choices, named here so that core (below every app) can label roles without importing
# accounts — the way AUTH_USER_MODEL names the user model.
GONGZHI_ROLE_CHOICES = "gongzhi.accounts.enums.Role"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["gongzhi.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "core:index"
# Lockout: this many consecutive failures lock the account for LOCKOUT_MINUTES.
LOCKOUT_THRESHOLD = env_int("LOCKOUT_THRESHOLD", 5)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15)

# --- Session and transport security ----------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Personal data keys (DESIGN.md §3) ---------------------------------------------------------
# Base64 keys from the environment. In development mode only, keys are generated once into
# var/dev-keys.json (never the repo) so that `make run` works with no configuration.
PII_ENCRYPTION_KEY = env_str("GONGZHI_PII_KEY", "")
PII_INDEX_KEY = env_str("GONGZHI_PII_INDEX_KEY", "")
if PRODUCTION and not (PII_ENCRYPTION_KEY and PII_INDEX_KEY):
    raise ImproperlyConfigured("GONGZHI_MODE=production needs GONGZHI_PII_KEY and GONGZHI_PII_INDEX_KEY.")

# --- i18n: Chinese first ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True
LANGUAGE_COOKIE_NAME = "gongzhi_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Files --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
# Development serves straight from the app folders (WHITENOISE_USE_FINDERS); a production
# deployment runs `gongzhi collectstatic` into STATIC_ROOT.
STATIC_ROOT = Path(env_str("GONGZHI_STATIC_ROOT", str(VAR_DIR / "static"))) if PRODUCTION or env_str("GONGZHI_STATIC_ROOT") else None
MEDIA_ROOT = Path(env_str("GONGZHI_MEDIA_ROOT", str(VAR_DIR / "files")))
MEDIA_URL = "/media/"  # never served directly: documents are streamed by a permission-checked view
STATICFILES_DIRS = [BASE_DIR / "static"]  # the shell's own assets (css, vendored htmx)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve from app folders too, so `collectstatic` is optional in dev
# Document wallet limits (people app).
DOCUMENT_MAX_BYTES = env_int("GONGZHI_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
DOCUMENT_ALLOWED_TYPES = ["application/pdf", "image/jpeg", "image/png"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 15 * 1024 * 1024
# Uploaded scans are ID cards and licences: readable by the service's user only.
FILE_UPLOAD_PERMISSIONS = PRIVATE_FILE_MODE
FILE_UPLOAD_DIRECTORY_PERMISSIONS = PRIVATE_DIR_MODE
if MEDIA_ROOT.is_relative_to(VAR_DIR):
    private_dir(MEDIA_ROOT)

# --- Worker and audit chain -------------------------------------------------------------------
WORKER_POLL_SECONDS = float(env_str("GONGZHI_WORKER_POLL_SECONDS", "1.0"))
# Timer claims older than this are considered abandoned by a dead worker and re-queued.
TIMER_CLAIM_TIMEOUT_SECONDS = env_int("GONGZHI_TIMER_CLAIM_TIMEOUT", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "gongzhi.core.logging.MaskPersonalNumbersFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_pii"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50

# The address printed on receipts' QR codes and in notices (the public progress page lives here).
GONGZHI_PUBLIC_URL = env_str("GONGZHI_PUBLIC_URL", "http://127.0.0.1:8000")
# The place (a place code) the public on-time board shows when its address names none; empty:
# the demo district, else the first current district (services.queries.public_board_place).
GONGZHI_PUBLIC_BOARD_PLACE = env_str("GONGZHI_PUBLIC_BOARD_PLACE", "")
# The service hotline printed on receipts and pages (12345: the government service hotline).
GONGZHI_SERVICE_HOTLINE = env_str("GONGZHI_SERVICE_HOTLINE", "12345")
# The port `gongzhi run` serves websockets on (HTTP port + 1; it sets this variable for its
# processes). Empty: sockets share the page's host and port (one ASGI server, or a proxy).
GONGZHI_WS_PORT = env_str("GONGZHI_WS_PORT", "")
GONGZHI_NOTIFY_BACKEND = env_str("GONGZHI_NOTIFY_BACKEND", "gongzhi.services.notify.ConsoleBackend")
GONGZHI_SMS_URL = env_str("GONGZHI_SMS_URL", "")

# --- accounts: login throttling, second factor, idle sessions (owned by accounts/) ------------
# LOCKOUT_THRESHOLD / LOCKOUT_MINUTES above throttle a (username, client address) pair, not the
# whole account (accounts/backends.py): nobody can lock another person out from elsewhere.
# Failed logins are also throttled per address after LOCKOUT_ADDRESS_THRESHOLD failures (any usernames: password spraying),
# each for LOCKOUT_MINUTES. An office behind one NAT address shares the address budget, hence
# the higher default.
LOCKOUT_ADDRESS_THRESHOLD = env_int("LOCKOUT_ADDRESS_THRESHOLD", 30)
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR only).
GONGZHI_TRUSTED_PROXY_COUNT = env_int("GONGZHI_TRUSTED_PROXY_COUNT", 0)
# Idle timeout (accounts/middleware.py says why staff get less).
SESSION_IDLE_SECONDS_STAFF = env_int("SESSION_IDLE_SECONDS_STAFF", 30 * 60)
SESSION_IDLE_SECONDS_PUBLIC = env_int("SESSION_IDLE_SECONDS_PUBLIC", 2 * 3600)
MIDDLEWARE = [*MIDDLEWARE, "gongzhi.accounts.middleware.IdleSessionMiddleware"]
# Password reset by a one-time code to the phone (or e-mail) on record.
PASSWORD_RESET_CODE_MINUTES = env_int("PASSWORD_RESET_CODE_MINUTES", 10)
PASSWORD_RESET_MAX_PER_HOUR = env_int("PASSWORD_RESET_MAX_PER_HOUR", 3)  # codes per account (x3 per address)
PASSWORD_RESET_MAX_ATTEMPTS = env_int("PASSWORD_RESET_MAX_ATTEMPTS", 5)  # wrong guesses before a code is void
# Self-registration (自助注册, issue 11): a code to the phone typed, through the accounts outbox.
SIGNUP_CODE_MINUTES = env_int("SIGNUP_CODE_MINUTES", 10)
SIGNUP_MAX_PER_HOUR = env_int("SIGNUP_MAX_PER_HOUR", 3)  # codes per number and per phone (x3 per address)
SIGNUP_MAX_ATTEMPTS = env_int("SIGNUP_MAX_ATTEMPTS", 5)  # wrong guesses before a code is void
SIGNUP_RESEND_SECONDS = env_int("SIGNUP_RESEND_SECONDS", 60)  # a repeat within this reuses the live code
# Who confirms a self-registered person's real name besides a window clerk (accounts.realname):
# the no-op default confirms nobody; a deployment names its provider's adapter class here.
GONGZHI_REALNAME_PROVIDER = env_str("GONGZHI_REALNAME_PROVIDER", "gongzhi.accounts.realname.NoProvider")
