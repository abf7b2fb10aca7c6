"""KeJin settings: one module, every value from the environment.

With nothing set (``DEBUG=1`` aside) the portal runs on a SQLite file and runs Celery tasks eagerly
in-process, so ``make run`` works on a bare machine. Tests and production point ``DATABASE_URL``
at PostgreSQL and ``REDIS_URL`` at Redis. With ``DEBUG`` off the portal refuses to start without a
``SECRET_KEY`` and turns on every transport-security setting ``check --deploy`` asks for.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0), got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example)")
    SECRET_KEY = "kejin-development-only-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "oauth2_provider",
    "portal",
    "enterprises",
    "lenders",
    "products",
    "matching",
    "subsidies",
    "feedback",
    "recommendations",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "portal.middleware.CleanInputMiddleware",  # control characters out of every parameter (portal/text.py)
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.audit_middleware.AuditMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.IdleTimeoutMiddleware",
    "portal.middleware.OTPRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.idempotency.IdempotencyMiddleware",  # Idempotency-Key on /api/v1/ POSTs
    # Last, as django-axes asks: it turns a lockout signalled by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.navigation",
                "lenders.context_processors.bank_navigation",
            ],
        },
    },
]

# --- Database: PostgreSQL from DATABASE_URL, else a SQLite file (the embedded default) ---
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Dashboard aggregates: JIT compilation costs more than it saves on these short analytic queries,
    # and sorts of a year's rows fit in 32 MB instead of spilling to disk (measured in bench/dashboard.py).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get(
        "PG_OPTIONS", "-c jit=off -c work_mem=32MB"
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) serve PostgreSQL; on the SQLite demo database they are plain indexes.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_USER_MODEL = "portal.User"
# django-axes first: it refuses a locked-out username+IP before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Grants the money-flow permissions by role (subsidies/duties.py); authenticates nobody.
    "subsidies.duties.RoleDutyBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:landing"
LOGOUT_REDIRECT_URL = "portal:home"

# --- Language and time: Chinese first, Beijing time ---
LANGUAGE_CODE = "zh-hans"
# Chinese only: there is no English translation, and a browser preferring English must not get a
# page whose Django and DRF defaults ("This field is required.") are English among Chinese text.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
USE_THOUSAND_SEPARATOR = False

# --- Static files: Bootstrap, htmx and ECharts come from npm's node_modules, never a CDN ---
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_NODE = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", _NODE / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE / "htmx.org" / "dist"),
    ("vendor/echarts", _NODE / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and envbool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
UPLOAD_MAX_BYTES = envint("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Cache and Celery: Redis from REDIS_URL, else local memory and eager tasks ---
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHE_URL = os.environ.get("CACHE_URL", REDIS_URL)  # may name another Redis database than the broker's
if CACHE_URL:
    # A Redis outage answers as cache misses (logged), never as 500s: portal/cache.py. Short socket
    # timeouts and no retry loop, so a dead Redis costs a page well under a second.
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0, "retry": Retry(NoBackoff(), 0)}
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Redelivery of a chunk whose worker died, within 5 minutes (issue 18). With the Redis broker a
# message taken by a worker stays "unacked" until the task ends (acks_late); if the worker dies, the
# message is put back once it has been unacked for ``visibility_timeout`` seconds — checked by every
# live worker about every 10 s (kombu's restore cycle). So a dead worker's chunk is redelivered after
# at most visibility_timeout + 10 s = 280 s < 300 s. The other side of the bound: a message still
# being worked on when the timeout passes is redelivered too (a second, useless run of the chunk), so
# no task may run longer than the visibility timeout: the hard time limit (240 s) kills a task
# before that, the soft limit (210 s) lets it roll back cleanly first. A matching chunk of
# MATCH_CHUNK_SIZE=2000 needs takes seconds (bench/matching.py), far inside the limit; every
# other task is shorter still.
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 240)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 210)
CELERY_VISIBILITY_TIMEOUT_SECONDS = CELERY_TASK_TIME_LIMIT + 30
# Publishing (``.delay()`` in a web request) tries the broker once, with short socket timeouts, and
# then raises instead of hanging while Redis is down: matching.services.dispatch catches it, leaves the
# run "待派发" (pending dispatch) and the sweep (every minute) sends it once the broker is back.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
    "socket_connect_timeout": 0.5,
    "socket_timeout": 2,
    "retry_on_timeout": False,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 0.5
# The Redis result backend: the same short timeouts, no retry loop inside a request.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 0.5
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_REDIS_RETRY_ON_TIMEOUT = False
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 0}}
# A run with no progress for this many minutes alerts provincial staff (matching sweep).
MATCH_RUN_STALL_MINUTES = envint("MATCH_RUN_STALL_MINUTES", 10)
# A running run with no progress for this many minutes gets its unfinished chunks sent again (the
# matching sweep, once per stall). The broker's own redelivery comes first (at most 280 s, above);
# this catches the message a worker killed between taking it off the queue and recording it as
# unacknowledged loses for good (kombu's Redis transport does the two in separate steps).
MATCH_RUN_RESUME_MINUTES = envint("MATCH_RUN_RESUME_MINUTES", 5)
# Explicit retry policy for tasks that call self.retry(): at most 3 retries, 30 s apart.
CELERY_TASK_DEFAULT_RETRY_DELAY = 30
CELERY_TASK_ANNOTATIONS = {"*": {"max_retries": 3}}
# A message whose task killed its worker process this many times is given up (matching.tasks).
TASK_MAX_ATTEMPTS = envint("TASK_MAX_ATTEMPTS", 3)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.api.authentication.CachedTokenAuthentication",
        "lenders.oauth.ClientCredentialsAuthentication",  # banks' systems: Bearer (client credentials)
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "lenders.oauth.ClientScope",
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PageNumberPagination",
    # JSON nested deeper than 32 levels → 400; control characters dropped from every string.
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonThrottle",
        "portal.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "600/min"),
        "api-token": os.environ.get("API_THROTTLE_TOKEN", "10/min"),
        "api-confirm": os.environ.get("API_THROTTLE_CONFIRM", "5/min"),
        "password-reset-address": os.environ.get("PASSWORD_RESET_THROTTLE_ADDRESS", "3/hour"),
        "password-reset-client": os.environ.get("PASSWORD_RESET_THROTTLE_CLIENT", "10/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
    # X-Forwarded-For only behind TRUSTED_PROXY_COUNT proxies (portal/clientip.py; 0 = ignore it).
    "NUM_PROXIES": None,  # set below from TRUSTED_PROXY_COUNT
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
}
# How many reverse proxies in front of the portal append to X-Forwarded-For (nginx in the compose
# file: 1). 0 = the header is ignored and REMOTE_ADDR is the client. DRF's throttles (NUM_PROXIES)
# and django-axes (AXES_CLIENT_IP_CALLABLE) read the address through the same rule.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# A personal API token (POST /api/v1/auth/token/) works this many days after it was issued.
API_TOKEN_DAYS = envint("API_TOKEN_DAYS", 30)
# The load benchmark drives hundreds of requests a second from one address: it sets API_THROTTLE_DISABLED=1.
API_THROTTLE_DISABLED = envbool("API_THROTTLE_DISABLED", False)
# How long a rendered API list (product catalogue, match lists) may be served from the cache; 0 = off.
API_LIST_CACHE_SECONDS = envint("API_LIST_CACHE_SECONDS", 15)
# How long an API token → user lookup may be served from the cache; 0 = off.
API_TOKEN_CACHE_SECONDS = envint("API_TOKEN_CACHE_SECONDS", 60)
# Banks' systems as OAuth2 clients (lenders/oauth.py): client credentials only, at POST /o/token/.
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "lenders.oauth.Validator",
    "SCOPES_BACKEND_CLASS": "lenders.oauth.ClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": envint("OAUTH_ACCESS_TOKEN_SECONDS", 3600),
    "PKCE_REQUIRED": True,
    # Only client credentials are used (banks' systems); the grants RFC 9700 retires stay off.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,  # nosec B105 - a switch named after tokens, not a secret
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # nosec B105 - header-only tokens, not a secret
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,  # nosec B105 - a switch named after tokens, not a secret
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # nosec B105 - tokens stored hashed, not a secret
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # nosec B105 - a switch named after tokens, not a secret
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # lenders.ApiClient refers to it
# How long an Idempotency-Key's first answer is replayed (portal/idempotency.py); older rows are
# deleted nightly (portal.idempotency_cleanup).
IDEMPOTENCY_HOURS = 24
SPECTACULAR_SETTINGS = {
    "TITLE": "KeJin 科金直通车 API",
    "DESCRIPTION": "山西省科技金融信息服务平台开放接口。金额为人民币元（十进制字符串），利率为年化百分比。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "matching.models.Application.Status",
        "MatchStatusEnum": "matching.models.Match.Status",
        "NeedPurposeEnum": "enterprises.models.FinancingNeed.Purpose",
        "NeedStatusEnum": "enterprises.models.FinancingNeed.Status",
        "ConsentPurposeEnum": "enterprises.consent.ConsentPurpose",
        "ProfileGroupEnum": "enterprises.consent.ProfileGroup",
        "ComplaintStatusEnum": "feedback.models.Complaint.Status",
        "ComplaintKindEnum": "feedback.models.Complaint.Kind",
        "RecommendationListStatusEnum": "recommendations.models.RecommendationList.Status",
    },
}

# --- Domain settings (policy values are data, these are operating parameters) ---
MATCH_LEAD_THRESHOLD = envint("MATCH_LEAD_THRESHOLD", 60)
LEAD_RESPONSE_WORKING_DAYS = envint("LEAD_RESPONSE_WORKING_DAYS", 2)
MATCH_CHUNK_SIZE = envint("MATCH_CHUNK_SIZE", 2000)
# Without a broker (eager tasks, the embedded demo) a manual full run still runs in the background,
# in a daemon thread of the web process, chunk by chunk, so that its progress bar moves.
MATCH_EAGER_BACKGROUND = envbool("MATCH_EAGER_BACKGROUND", not os.environ.get("REDIS_URL", ""))
MATCH_EAGER_CHUNK_SIZE = envint("MATCH_EAGER_CHUNK_SIZE", 64)
# Whether a region desk's workspace shows the province's figures next to its region's (the
# province's decision; counts only, never another region's rows).
REGION_DESK_SEES_PROVINCE = envbool("REGION_DESK_SEES_PROVINCE", True)

# Webhook URLs may resolve to loopback/private/link-local/reserved addresses only with this on (off by
# default, also under DEBUG: lenders/webhook_guard.py). The test suite turns it on for its local receiver.
WEBHOOK_ALLOW_PRIVATE_HOSTS = envbool("WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
# Plain http:// webhook URLs only in development (DEBUG); https:// otherwise.
WEBHOOK_ALLOW_HTTP = DEBUG

# --- E-mail ---
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "KeJin 科金直通车 <noreply@kejin.example>")
# The portal's public address (https://kejin.example.gov.cn): notification e-mails link to it.
SITE_URL = os.environ.get("SITE_URL", "")

# --- Security: on by default outside DEBUG; each can be set from the environment ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# --- Authentication: login throttling, idle timeout, re-authentication, second factor ---
# django-axes: 5 failed logins for one username from one address lock that pair for 15 minutes.
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_CLIENT_IP_CALLABLE = "portal.clientip.client_ip"  # X-Forwarded-For only behind TRUSTED_PROXY_COUNT
# Bank and staff sessions end after this many minutes without a request; firm users are not affected.
IDLE_TIMEOUT_MINUTES = envint("IDLE_TIMEOUT_MINUTES", 30)
IDLE_TIMEOUT_ROLES = envlist("IDLE_TIMEOUT_ROLES", "officer,manager,staff")
# Approving a credit line or a subsidy claim and rotating a webhook secret need a password
# confirmed within this many minutes (portal/reauth.py).
REAUTH_MAX_AGE_MINUTES = envint("REAUTH_MAX_AGE_MINUTES", 10)
# Optional TOTP second factor for bank users and the government desks (province, region, finance);
# mandatory for the government desks when OTP_REQUIRED_FOR_STAFF is on.
OTP_ROLES = ("officer", "manager", "staff", "region", "finance")
#: The government desks a required second factor applies to (the finance desk moves fiscal money).
OTP_DESK_ROLES = ("staff", "region", "finance")
OTP_REQUIRED_FOR_STAFF = envbool("OTP_REQUIRED_FOR_STAFF", False)
OTP_TOTP_ISSUER = "科金直通车"

# --- Content Security Policy (django-csp): no inline script anywhere. Inline style *attributes*
# stay allowed (style-src-attr) for server-computed widths such as progress bars; <style> elements
# are not. Swagger UI (/api/docs/) boots from an inline script and is the one exempt page.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ("/api/docs/",),
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
