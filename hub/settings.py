"""Settings of the hub, read from the environment (and var/hub.env when present).

With no configuration the hub keeps everything under var/: SQLite for data, Celery's
filesystem transport for the queues, a file cache. DATABASE_URL, CELERY_BROKER_URL and
REDIS_URL switch to PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from hub.env import (
    env_bool,
    env_database,
    env_fernet_keys,
    env_floats,
    env_int,
    env_list,
    env_str,
    env_url,
)
from hub.outbound import parse_allowed_hosts

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HUB_VAR_DIR", str(BASE_DIR / "var")))

_env_file = Path(env_str("HUB_ENV_FILE", str(VAR_DIR / "hub.env")))
if _env_file.is_file():
    environ.Env.read_env(_env_file, overwrite=False)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "hub.apps.HubAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "hub",
    "catalog",
    "integrations",
    "pushes",
    "orders",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login (API or admin) into the 429 of LOGIN THROTTLE below.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hub.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: wait for locks instead of failing at once,
    # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation of plans (unless DATABASE_URL's options ask for it): the hub's
    # queries are short, and compiling one costs more than running it (12 ms for a
    # 1,000-product page that runs in 17).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "hub.User"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    REDIS_URL = env_url("REDIS_URL", None, schemes=["redis", "rediss", "unix"])
    CACHES = {"default": {"BACKEND": "hub.cache.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# LOGIN THROTTLE: after 10 failed logins for one username from one address within 15
# minutes, that pair is refused (429 with Retry-After, the right password too) until 15
# minutes after its last failure. Failures are kept in the database (AccessAttempt), where
# staff see them in the admin; `manage.py axes_reset_username <name>` unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Tries during the lock do not extend it: it ends 15 minutes after the last failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "hub.api.views.login_locked_out"
# Successful logins are not recorded (API clients log in often).
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner in every process's output.
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Files staff upload (a product's art), served at HUB_PUBLIC_URL/media/... so that
# external systems (PrintOps) can fetch them.
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- API -----------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.api.authentication.BearerTokenAuthentication",
        "hub.api.authentication.CookieTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "hub.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hub.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["hub.api.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Hub API",
    "DESCRIPTION": "Canonical catalog, external integrations and storefront pushes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hub.api.schema.document_errors",
    ],
}

# Ingest takes large JSON bodies: up to MAX_INGEST_ITEMS products with all their
# variants (a product of 30 variants with price tiers and images is ~10 KB, so the
# largest request is ~50 MB). The production server gives a request REQUEST_TIMEOUT
# seconds (gunicorn.conf.py): the largest ingest at 20 products a second, a third of the
# rate measured on two cores, with time to spare.
MAX_INGEST_ITEMS = env_int("MAX_INGEST_ITEMS", 5000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 64 * 1024 * 1024, minimum=1)
REQUEST_TIMEOUT = env_int("REQUEST_TIMEOUT", 300, minimum=30)
# The admin's product page posts every variant row's fields at once.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000
ACCESS_TOKEN_TTL = env_int("ACCESS_TOKEN_TTL", 8 * 3600, minimum=60)
INGEST_SECRET = env_str("INGEST_SECRET", "")

# --- Secrets at rest and outbound HTTP ------------------------------------------------

# Fernet keys, newest first: the first encrypts, all decrypt (see README, key rotation).
# Required: without one the first secret written would fail, so the hub does not start.
HUB_ENCRYPTION_KEYS = env_fernet_keys("HUB_ENCRYPTION_KEYS")
# Hosts or networks outbound requests may reach although they are not public
# (the sandbox on loopback, a supplier on a private network).
# A bare entry opens ports 80 and 443 only; `host:port` that port, `host:*` every port.
OUTBOUND_ALLOWED_HOSTS = env_list("OUTBOUND_ALLOWED_HOSTS")
try:
    parse_allowed_hosts(OUTBOUND_ALLOWED_HOSTS)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
OUTBOUND_TIMEOUT = env_floats("OUTBOUND_TIMEOUT", (5.0, 30.0))
# Product images served as WebP (pushes/images.py): the largest download accepted, the
# decompression-bomb limit in pixels, the box larger images are scaled into, and how long
# the processed bytes stay in the cache.
IMAGE_MAX_BYTES = env_int("IMAGE_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000, minimum=1)
IMAGE_MAX_SIZE = env_int("IMAGE_MAX_SIZE", 2000, minimum=1)
IMAGE_CACHE_SECONDS = env_int("IMAGE_CACHE_SECONDS", 7 * 24 * 3600, minimum=1)

# --- Background work ------------------------------------------------------------------

CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", "filesystem://", schemes=["filesystem", "redis", "rediss", "amqp"]
)
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "queue"
    for _sub in ("in", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "in"),
        "data_folder_out": str(_queue_dir / "in"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3 * 3600, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 5
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

CELERY_BEAT_SCHEDULE = {
    "sweep-stale-syncs": {"task": "integrations.tasks.sweep_stale_syncs", "schedule": 60.0},
    "sweep-stale-order-pulls": {"task": "orders.tasks.sweep_stale_pulls", "schedule": 60.0},
    "sweep-stuck-routing": {"task": "orders.tasks.sweep_stuck_routing", "schedule": 60.0},
    "poll-print-files": {"task": "orders.tasks.poll_print_files", "schedule": 30.0},
    "deliver-storefront-updates": {"task": "orders.tasks.deliver_due_updates",
                                   "schedule": 30.0},
}
# A running sync or import whose progress has not moved for this long is taken as dead.
SYNC_STALE_AFTER = env_int("SYNC_STALE_AFTER", 600, minimum=30)
DEFAULT_SYNC_INTERVAL_MINUTES = env_int("DEFAULT_SYNC_INTERVAL_MINUTES", 360, minimum=1)
# Order pulls: every customer's schedule starts at this interval (staff change it);
# a first pull reads this many days back; every pull reads again this many days before
# where the last successful one started (OnPrintShop orders are found by date windows).
ORDER_PULL_INTERVAL_MINUTES = env_int("ORDER_PULL_INTERVAL_MINUTES", 5, minimum=1)
ORDER_FIRST_PULL_DAYS = env_int("ORDER_FIRST_PULL_DAYS", 30, minimum=1)
ORDER_PULL_OVERLAP_DAYS = env_int("ORDER_PULL_OVERLAP_DAYS", 3, minimum=1)
# How long POST /api/push/{customer}/{product} waits for the push before answering 202.
PUSH_WAIT_SECONDS = env_int("PUSH_WAIT_SECONDS", 10, minimum=0)
# Where the hub is reached from outside: the base of the webhook URLs it registers.
HUB_PUBLIC_URL = env_str("HUB_PUBLIC_URL", "http://127.0.0.1:8000")

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
