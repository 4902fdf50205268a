"""Settings of the KIM-Fachdatenbank: one file, configured through environment variables.

Every variable is read through a typed helper that fails loudly on a malformed value,
so that a typo in an operator's configuration stops the start instead of being ignored.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("KIM_VAR_DIR", PROJECT_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Environment variable {name} is required.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("KIM_DEBUG", False)
# KIM_PRODUCTION=1 turns on everything a deployment behind HTTPS needs (secure cookies, redirect
# to HTTPS, HSTS); each can still be set on its own.
PRODUCTION = env_bool("KIM_PRODUCTION", False)
# The public development key, accepted only with debug on.
DEVELOPMENT_SECRET_KEY = "kim-insecure-development-key-do-not-deploy"


def read_secret_key() -> str:
    """KIM_SECRET_KEY, else the file named by KIM_SECRET_KEY_FILE (default var/secret-key, made by
    `kim secret-key`, which `make run` and `make test` call). Without debug, the application
    refuses to start with no key or with the public development key."""
    key = os.environ.get("KIM_SECRET_KEY", "").strip()
    path = Path(os.environ.get("KIM_SECRET_KEY_FILE", VAR_DIR / "secret-key"))
    if not key and path.is_file():
        key = path.read_text(encoding="utf-8").strip()
    elif not key and "KIM_SECRET_KEY_FILE" in os.environ:
        raise ImproperlyConfigured(f"KIM_SECRET_KEY_FILE names {path}, which does not exist.")
    if not key and DEBUG:
        return DEVELOPMENT_SECRET_KEY
    if not key:
        raise ImproperlyConfigured(
            f"No secret key: set KIM_SECRET_KEY, or create {path} with `kim secret-key` (KIM_DEBUG=1 "
            "would use the public development key, never in a deployment)."
        )
    if key == DEVELOPMENT_SECRET_KEY and not DEBUG:
        raise ImproperlyConfigured("The public development key may only be used with KIM_DEBUG=1.")
    return key


SECRET_KEY = read_secret_key()
ALLOWED_HOSTS = env_list("KIM_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("KIM_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "rest_framework",
    "drf_spectacular",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "kim.core",
    "kim.casework",
    "kim.reports",
    "kim.exchange",
    "kim.system",
    "kim.staffing",
    "kim.residence",
    "kim.privacy",
    "kim.api",
    "kim.identity",
    "kim.state_statistics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Request times for /metrics (after WhiteNoise: static files are not timed).
    "kim.core.monitoring.RequestTimeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The sliding session timeout, written at most once a minute (not on every request).
    "kim.core.middleware.SessionRefreshMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Nothing the application answers may be kept by a browser or proxy (static files, served
    # by WhiteNoise above, stay cacheable).
    "kim.core.middleware.NoStoreMiddleware",
    # A write that waited in vain for SQLite's lock (a large import) answers a German 503.
    "kim.core.middleware.DatabaseBusyMiddleware",
    # Sessions of directory accounts (LDAP, OIDC) ask the directory again (kim.identity).
    "kim.identity.middleware.DirectoryCheckMiddleware",
    # Deny by default: login, second factor and the district scope for every request.
    "kim.core.middleware.AccessMiddleware",
    # A report's reads go to the replica when KIM_REPORTING_DATABASE_URL names one.
    "kim.core.routers.ReportingReadsMiddleware",
]

ROOT_URLCONF = "kim.urls"
WSGI_APPLICATION = "kim.wsgi.application"

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
                "kim.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kim.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the task worker write while pages read; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        # How long a write waits for another process's write (the worker's import, a page's
        # save) before it gives up with "database is locked".
        "timeout": env_int("KIM_SQLITE_BUSY_SECONDS", 30),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("KIM_PG_JIT", False):
    # PostgreSQL's JIT compiles the reports' large grouped queries anew for every request, which
    # costs more than it saves at a district's size (R15: 0.5 s of 0.8 s): off for our connections.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(filter(None, [_options.get("options", ""), "-c jit=off"]))
# Reports may read from a replica (kim.core.routers; docs/betrieb.md, "Über einen Server hinaus"),
# with the primary's connection options. In tests it mirrors the test database.
_reporting_url = env_str("KIM_REPORTING_DATABASE_URL", "")
KIM_REPORTING_REPLICA = bool(_reporting_url)
if KIM_REPORTING_REPLICA:
    DATABASES["reporting"] = {**dj_database_url.parse(_reporting_url, conn_max_age=60),
                              "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
                              "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["kim.core.routers.ReportingRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
# Single sign-on (kim.identity, docs/anmeldung.md): off unless KIM_LDAP_SERVER_URI or
# KIM_OIDC_CLIENT_ID is set. Local accounts keep working beside it.
from kim.identity import config as _sso  # noqa: E402  (reads only the environment)

_ldap_settings = _sso.ldap_settings(os.environ)
_oidc_settings = _sso.oidc_settings(os.environ)
globals().update(_ldap_settings)
globals().update(_oidc_settings)
KIM_LDAP_RECHECK_SECONDS = _ldap_settings.get("KIM_LDAP_RECHECK_SECONDS", 0)
KIM_OIDC_RECHECK_SECONDS = _oidc_settings.get("KIM_OIDC_RECHECK_SECONDS", 300)
KIM_OIDC_GROUPS_FROM_ID_TOKEN = _oidc_settings.get("KIM_OIDC_GROUPS_FROM_ID_TOKEN", False)
KIM_OIDC_ENABLED = bool(_oidc_settings)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permissions are declared in kim.core.permissions (django-rules); ModelBackend logs in.
    "rules.permissions.ObjectPermissionBackend",
    *_sso.backends(_ldap_settings, _oidc_settings),
    "kim.core.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"

# E-mail: only for the link that resets a forgotten password (Django's own flow). Without
# KIM_EMAIL_HOST no mail is sent, the link is not offered, and the district administrator or
# provider lead sets a new password instead.
EMAIL_HOST = env_str("KIM_EMAIL_HOST", "")
EMAIL_PORT = env_int("KIM_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("KIM_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("KIM_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KIM_EMAIL_STARTTLS", True)
DEFAULT_FROM_EMAIL = env_str("KIM_EMAIL_FROM", "kim@localhost")
KIM_PASSWORD_RESET_BY_MAIL = bool(EMAIL_HOST)
if not KIM_PASSWORD_RESET_BY_MAIL:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# How long a reset link is valid (Django counts seconds).
PASSWORD_RESET_TIMEOUT = env_int("KIM_PASSWORD_RESET_HOURS", 2) * 3600
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after a period of inactivity (sliding), and with the browser. The expiry moves
# with each write of the session, which kim.core.middleware.SessionRefreshMiddleware does when it
# changed or at most every KIM_SESSION_REFRESH_SECONDS, instead of on every request.
SESSION_COOKIE_AGE = env_int("KIM_SESSION_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = False
KIM_SESSION_REFRESH_SECONDS = env_int("KIM_SESSION_REFRESH_SECONDS", 60)
if not 0 <= KIM_SESSION_REFRESH_SECONDS < SESSION_COOKIE_AGE:
    raise ImproperlyConfigured("KIM_SESSION_REFRESH_SECONDS must be shorter than the session (KIM_SESSION_MINUTES).")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("KIM_SECURE_COOKIES", PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS. Behind a reverse proxy that ends TLS, KIM_PROXY_SSL_HEADER names the header by which
# the proxy says the request came over HTTPS (e.g. X-Forwarded-Proto); only set it when the
# proxy always sets or overwrites that header. The health check stays reachable over HTTP.
SECURE_SSL_REDIRECT = env_bool("KIM_SSL_REDIRECT", PRODUCTION)
# The health checks and the metrics stay reachable over HTTP for the monitoring on the machine.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/worker$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("KIM_HSTS_SECONDS", 365 * 24 * 3600 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KIM_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# The preload list is kept per registrable domain (kreis-beispiel.de), which the district's IT
# decides for all its services, not this application: off unless set, and its check silenced.
SECURE_HSTS_PRELOAD = env_bool("KIM_HSTS_PRELOAD", False)
_proxy_ssl_header = env_str("KIM_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Failed logins: lock a user name after five failures for 15 minutes.
AXES_FAILURE_LIMIT = env_int("KIM_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("KIM_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# Offices share one public address behind NAT: locking by address would lock out a whole
# town hall after one person's typos, so the lock is per user name (axes warns about it).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W021"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# A login that an unreachable LDAP server could not check is not counted against the person.
AXES_WHITELIST_CALLABLE = "kim.identity.backends.not_a_failed_login"

OTP_TOTP_ISSUER = "KIM-Fachdatenbank"

# Content Security Policy: only our own scripts and styles, no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise expects the folder; `kim serve` fills it with collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Front-end packages are pinned in package.json and served straight from node_modules.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/kern", PROJECT_DIR / "node_modules" / "@kern-ux" / "native" / "dist"),
    ("vendor/htmx", PROJECT_DIR / "node_modules" / "htmx.org" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The REST API: token authentication only (no session, so no CSRF questions), JSON only.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["kim.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["kim.api.auth.SeesPersonalData"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "kim.api.pagination.Pages",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "kim.api.errors.german_exception_handler",
    # OPTIONS would describe the endpoints with DRF's English names; the OpenAPI schema does it.
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KIM-Fachdatenbank API",
    "DESCRIPTION": "Fallarbeit und Berichte des Kommunalen Integrationsmanagements. Ein Token handelt mit den "
                   "Rechten seiner Person: Fachkräfte und Leitungen sehen die Daten ihres Trägers, Koordination und "
                   "Lenkung nur Berichte mit Geheimhaltung kleiner Zahlen.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseKindEnum": "kim.casework.models.CaseKind",
        "PhaseEnum": "kim.casework.models.Phase",
        "GoalStatusEnum": "kim.casework.models.GoalStatus",
        "GenderEnum": "kim.casework.models.Participant.Gender",
        "ResidenceStatusEnum": "kim.casework.models.Participant.ResidenceStatus",
        "AppointmentKindEnum": "kim.casework.models.Appointment.Kind",
        "ComplexityEnum": "kim.casework.models.Appointment.Complexity",
        "OtherKindEnum": "kim.casework.models.Appointment.OtherKind",
        "PlaceEnum": "kim.casework.models.Appointment.Place",
        "SessionFormatEnum": "kim.casework.models.Appointment.SessionFormat",
        "AudienceEnum": "kim.casework.models.Appointment.Audience",
    },
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Case-work rules that districts may later configure per district.
KIM_CASELOAD_KEY = 27
KIM_STALE_CASE_DAYS = 90
KIM_REASSESSMENT_MONTHS = 6

# Housekeeping by the worker (kim.core.maintenance): how often, and when an upload or a run counts as abandoned.
KIM_MAINTENANCE_MINUTES = env_int("KIM_MAINTENANCE_MINUTES", 10)
KIM_UPLOAD_RETENTION_DAYS = env_int("KIM_UPLOAD_RETENTION_DAYS", 3)
KIM_STALE_RUN_MINUTES = env_int("KIM_STALE_RUN_MINUTES", 15)
# Erased and anonymised keys, apart from the database, to replay after a restore (kim.privacy.erasure_log).
# Keep it on another disk than the database's backups, and back it up on its own.
KIM_PRIVACY_LOG = env_str("KIM_PRIVACY_LOG", str(VAR_DIR / "privacy" / "geloescht.jsonl"))

# Monitoring (kim.core.monitoring): /metrics answers direct requests from this machine, others
# only with "Authorization: Bearer <KIM_METRICS_TOKEN>"; /healthz/worker fails when a task has
# waited longer than KIM_WORKER_STALE_MINUTES.
KIM_METRICS_TOKEN = env_str("KIM_METRICS_TOKEN", "")
# How long the report pages keep the share of complete records of the state of the data
# (kim.reports.completeness.cached_complete_share); 0 computes it for every page.
KIM_DATA_STATE_SECONDS = env_int("KIM_DATA_STATE_SECONDS", 60)
KIM_WORKER_STALE_MINUTES = env_int("KIM_WORKER_STALE_MINUTES", 15)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KIM_LOG_LEVEL", "WARNING")},
}
