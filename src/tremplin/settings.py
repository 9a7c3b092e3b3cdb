"""Tremplin settings. Every value that differs between machines comes from the environment
(see README, "Configuration"); a bad value stops start-up with a message naming it."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tremplin.env import env_bool, env_choice, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("TREMPLIN_DATA_DIR", str(PACKAGE_DIR.parent.parent / "var")))

DEBUG = env_bool("DEBUG", False)
# The demo relaxes what a public instance must never relax (2FA for admins and coordinators).
# `check --deploy` refuses it: see tremplin.core.checks.
DEMO_MODE = env_bool("TREMPLIN_DEMO", False)

# SECRET_KEY or SECRET_KEY_FILE; else the key `make run` keeps in the data directory, so the
# `tremplin` command works in a checkout without exporting anything.
_local_key = DATA_DIR / "secret_key"
if "SECRET_KEY" not in os.environ and "SECRET_KEY_FILE" not in os.environ and _local_key.exists():
    os.environ["SECRET_KEY_FILE"] = str(_local_key)
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-dev-only" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The platform's public address, for the links in messages sent outside a request (letters,
# offers from the waiting list): tasks and sweeps have no request to take it from. Empty:
# those messages name the applicant space without a link.
SITE_URL = env_str("SITE_URL", "").rstrip("/")
if SITE_URL and not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("SITE_URL must start with https:// (or http://).")

INSTALLED_APPS = [
    "tremplin.core",
    "tremplin.schools",
    "tremplin.selection",
    "tremplin.admissions",
    "tremplin.notify",
    "tremplin.training",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tremplin.core.middleware.SignedInPagesMiddleware",
    "tremplin.core.middleware.AdminScopeMiddleware",
    "tremplin.core.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tremplin.core.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tremplin.urls"
WSGI_APPLICATION = "tremplin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tremplin.core.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in DATA_DIR by default; PostgreSQL through DATABASE_URL in production.
_database_url = env_str("DATABASE_URL", "") or f"sqlite:///{DATA_DIR / 'tremplin.sqlite3'}"
try:
    _db = dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the busy
        # timeout instead of failing with "database is locked" on upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db["CONN_MAX_AGE"] = 0 if _db["NAME"] == ":memory:" else _db["CONN_MAX_AGE"]
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Statements run through tremplin.core.prepared (the reads and writes of the portal's
    # submit) are prepared once per connection after this many runs; queries
    # through Django's cursors bind on the client and are never prepared. 0 turns it off,
    # for a pooler in transaction mode that cannot keep prepared statements.
    _prepare = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = _prepare or None
    # PostgreSQL's JIT compiler, on by default, is set off by the planner's estimates of the
    # staff list's counts and costs more than it saves: one count spent 1 s compiling, the
    # list with three filters took 1.04 s against 0.41 s without it (6,000 applications).
    if not env_bool("DATABASE_JIT", False):
        _options = _db["OPTIONS"]
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
else:
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL.")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home_redirect"
LOGOUT_REDIRECT_URL = "public:index"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account
# from one IP, that account is locked from that IP for the cool-off. The IP alone is never
# locked, because a whole school network often shares one public address; the account's owner
# elsewhere is not locked out by someone guessing at it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 20, minimum=3)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = AXES_COOLOFF_MINUTES / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tremplin.core.views.auth.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# Reverse proxies in front of gunicorn: where the client's address is read (core.client_ip).
TREMPLIN_PROXY_COUNT = env_int("TREMPLIN_PROXY_COUNT", 0, minimum=0)
# Requests for an applicant's one-time code from one IP address in an hour, matching or not
# (a scan). Generous: a mobile operator puts many people behind one address.
PORTAL_ACCESS_PER_IP_PER_HOUR = env_int("PORTAL_ACCESS_PER_IP_PER_HOUR", 300, minimum=10)
AXES_CLIENT_IP_CALLABLE = "tremplin.core.client_ip.client_ip"
AXES_VERBOSE = False

# Two-factor authentication: required for platform admins and coordinators.
TWO_FACTOR_REQUIRED = not env_bool("TREMPLIN_RELAX_2FA", False)
OTP_TOTP_ISSUER = "Tremplin"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("ar", _("Arabic")), ("en", _("English"))]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # private files only go through permission-checked views

_storage_backend = env_choice("STORAGE_BACKEND", "local", ("local", "s3"))
if _storage_backend == "s3":
    try:
        import storages  # noqa: F401
    except ImportError:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=s3 needs django-storages: pip install 'tremplin[s3]'."
        ) from None
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "access_key": env_str("S3_ACCESS_KEY"),
            "secret_key": env_str("S3_SECRET_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# A file is cut short past what its sender may send, before the rest reaches the disk
# (tremplin.admissions.uploads.UploadSizeLimit); then Django's own.
FILE_UPLOAD_HANDLERS = [
    "tremplin.admissions.uploads.UploadSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Email: console in development, SMTP in production.
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[env_choice("EMAIL_BACKEND", "console", ("console", "smtp", "file", "locmem"))]
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tremplin <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS: printed in development; a generic HTTP gateway in production (POST JSON {"to", "text"},
# bearer token). See tremplin.notify.sms.
SMS_BACKEND = {
    "console": "tremplin.notify.sms.ConsoleSmsBackend",
    "file": "tremplin.notify.sms.FileSmsBackend",
    "locmem": "tremplin.notify.sms.LocmemSmsBackend",
    "http": "tremplin.notify.sms.HttpSmsBackend",
}[env_choice("SMS_BACKEND", "console", ("console", "file", "locmem", "http"))]
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(DATA_DIR / "sms" / "outbox.jsonl")))
_sms_http = SMS_BACKEND.endswith("HttpSmsBackend")
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", None if _sms_http else "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", None if _sms_http else "")
SMS_GATEWAY_TIMEOUT = env_int("SMS_GATEWAY_TIMEOUT", 10, minimum=1)

# Processes that render a batch of PDF letters; 0 means one per core.
LETTER_WORKERS = env_int("LETTER_WORKERS", 0, minimum=0)

# Months after a call closes that the personal data of its applicants who did not join the
# school is kept; then `tremplin apply_retention` erases it (tremplin.admissions.retention).
RETENTION_MONTHS = env_int("TREMPLIN_RETENTION_MONTHS", 24, minimum=1)

# HTTPS: on by default; `make run` turns it off to serve http://127.0.0.1:8000.
HTTPS = env_bool("TREMPLIN_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("TREMPLIN_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each rendering step at INFO: a batch of letters would flood the log.
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
