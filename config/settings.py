"""Fenghuo settings.

Every deployment knob is read here, from the environment, and nowhere else (the
README has the table). With no environment at all the app runs on embedded
defaults: a SQLite file and kombu's filesystem broker under ``var/``.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FENGHUO_VAR_DIR", BASE_DIR / "var"))
# The embedded defaults (SQLite file, filesystem broker) live here.
for _folder in ("broker", "static", "media"):
    (VAR_DIR / _folder).mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Acknowledgement links and sessions are signed with it: a missing, short or known key lets them be forged.
SECRET_KEY_MIN_LENGTH = 50
if len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or SECRET_KEY.startswith("django-insecure-"):
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY is {'missing' if not SECRET_KEY else 'too weak'}: with DEBUG off Fenghuo needs a random key "
            f"of at least {SECRET_KEY_MIN_LENGTH} characters, e.g. from "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))' (./scripts/run.sh makes one in var/).")
    # DEBUG only (a developer's machine): nothing signed with it is trusted anywhere else.
    SECRET_KEY = "dev-only-insecure-key-fenghuo-change-me"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "plan",
    "people",
    "assets",
    "incidents",
    "escalation",
    "notifications",
    "alerts",
    "reviews",
    "improvements",
    "external",
    "inspections",
    "evidence",
    "drills",
    "reports",
    "dashboard",
]

# Bodies over this are a 413 (config.middleware.BodyLimitMiddleware); deploy/nginx.conf's client_max_body_size matches.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads the body: one over the limit is a 413, read off the socket and discarded.
    "config.middleware.BodyLimitMiddleware",
    # Before CSRF, which reads the form: a NUL byte is a 400 before anything touches the database.
    "config.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "people.middleware.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception sees a view's database error before any other middleware does.
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread",
            ],
            # {% load icons %} in any template: core is no app, so it has no templatetags folder of its own.
            "libraries": {"icons": "core.icons"},
        },
    },
]

def _database_config(url, **kwargs):
    """dj_database_url.parse, plus libpq's several hosts: postgres://user@db1:5432,db2:5432/fenghuo.

    With ``?target_session_attrs=read-write`` libpq tries each host in turn and keeps the one that accepts
    writes, so after a failover (Patroni, a managed service) new connections reach the promoted server;
    until one is promoted, requests are answered 503 with Retry-After (config/middleware.py). Django passes
    HOST and PORT to libpq as they are, comma-separated lists included.
    """
    scheme, sep, rest = url.partition("://")
    netloc = rest.split("/", 1)[0]
    hosts = netloc.rpartition("@")[2]
    if not sep or "," not in hosts:
        return dj_database_url.parse(url, **kwargs)
    names, ports = [], []
    for host in hosts.split(","):
        name, _colon, port = host.partition(":")  # host names or IPv4 addresses
        names.append(name)
        ports.append(port or "5432")
    config = dj_database_url.parse(url.replace(hosts, names[0], 1), **kwargs)
    config.update(HOST=",".join(names), PORT=",".join(ports))
    return config


DATABASES = {
    "default": _database_config(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fenghuo.sqlite3'}"),
        # Persistent connections are what keep the API fast (see docs); the
        # health check drops a connection PostgreSQL closed under us.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has several writers (web, worker, beat). In SQLite's default DEFERRED
    # transaction a writer that read first takes the write lock only at its first write, and if another
    # process holds it then, fails at once with "database is locked" (waiting could deadlock). IMMEDIATE
    # takes the lock at BEGIN, where SQLite waits for it (up to `timeout` seconds); WAL lets readers go
    # on while one process writes. tests/test_embedded_database.py.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.Person"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in lockout (django-axes, issue 13 finding 3): AXES_FAILURE_LIMIT failed passwords for one username,
# or from one address, lock that username or address for AXES_COOLOFF_MINUTES. Staff see and delete the
# attempts in the admin (Axes → Access attempts), which unlocks at once.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "people.lockout.lockout_response"
# Behind reverse proxies the client address is in X-Forwarded-For: AXES_PROXY_COUNT says how many proxies
# stand in front of Fenghuo (1: the compose nginx; 2: a TLS proxy before it). Each appends the address it
# saw, so the client is that many entries from the right; whatever a client wrote further left is ignored.
# The lockout (config.proxies) and DRF's throttles (NUM_PROXIES below) read it the same way.
PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "config.proxies.client_address"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (note attachments) are served only through the views that check who may read them
# (incidents/notes.py), never as a public URL: no MEDIA_URL route exists.
MEDIA_ROOT = VAR_DIR / "media"
# Uploads and generated documents go through Django's storage API (default_storage, FileField): on one host a
# folder; on several, one S3-compatible bucket every web and worker node shares (MinIO, Ceph, a cloud's), via
# django-storages. FENGHUO_S3_BUCKET switches it on; the keys fall back to the AWS_* variables boto3 reads
# itself (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or an instance role). Objects stay private: every read
# passes the views that check who may read it (docs/deployment.md, "Shared storage").
FENGHUO_S3_BUCKET = os.environ.get("FENGHUO_S3_BUCKET", "")
if FENGHUO_S3_BUCKET:
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": FENGHUO_S3_BUCKET,
        "endpoint_url": os.environ.get("FENGHUO_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("FENGHUO_S3_REGION") or None,
        "access_key": os.environ.get("FENGHUO_S3_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("FENGHUO_S3_SECRET_ACCESS_KEY") or None,
        # A key prefix inside the bucket, so one bucket may hold several deployments.
        "location": os.environ.get("FENGHUO_S3_PREFIX", ""),
        "default_acl": None,
        "querystring_auth": True,
        # Fenghuo names every object itself (a uuid); never replace one silently.
        "file_overwrite": False,
        # MinIO and most on-premises servers want path-style addresses (host/bucket/key).
        "addressing_style": os.environ.get("FENGHUO_S3_ADDRESSING_STYLE", "path"),
        "signature_version": "s3v4",
    }}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Development serves straight from the finders so no collectstatic is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Notes on an incident may carry one attachment (a screenshot or a log excerpt) of at most this many bytes.
# The notes paths accept a body of that plus NOTE_BODY_MARGIN_BYTES (the note's text and the multipart
# framing; config.middleware.BodyLimitMiddleware); deploy/nginx.conf's notes location must allow as much.
FENGHUO_NOTE_ATTACHMENT_MAX_BYTES = int(os.environ.get("FENGHUO_NOTE_ATTACHMENT_MAX_BYTES", str(5 * 1024 * 1024)))
NOTE_BODY_MARGIN_BYTES = 1024 * 1024
# An inspection round's photo (inspections/photos.py); its upload paths accept this plus the margin above.
# Not (yet) read from the environment: an environment knob needs its row in README.md's settings table.
INSPECTIONS_PHOTO_MAX_BYTES = 8 * 1024 * 1024
INSPECTION_PHOTO_BODY_MAX_BYTES = INSPECTIONS_PHOTO_MAX_BYTES + NOTE_BODY_MARGIN_BYTES
# Beat generates inspection rounds this far ahead (inspections/generation.py), every INSPECTIONS_GENERATE_SECONDS.
INSPECTIONS_GENERATE_AHEAD = timedelta(hours=48)
INSPECTIONS_GENERATE_SECONDS = 600.0
NOTE_BODY_MAX_BYTES = FENGHUO_NOTE_ATTACHMENT_MAX_BYTES + NOTE_BODY_MARGIN_BYTES

# An overdue remediation action (reviews) tells its owner and the office when it falls due, then again this
# often until it is done or carried over. Not from the environment: the office's working rhythm, not a
# deployment knob; a test shortens it.
FENGHUO_REMEDIATION_REMIND_EVERY = timedelta(days=1)
# The due date an abnormal inspection finding's remediation action is offered with (editable before saving).
FENGHUO_FINDING_ACTION_DUE_AFTER = timedelta(days=7)

# Email: EMAIL_URL (smtp://user:pass@host:port, +tls) or the usual EMAIL_* variables.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fenghuo@localhost")
if os.environ.get("EMAIL_URL"):
    from urllib.parse import unquote, urlsplit

    _email = urlsplit(os.environ["EMAIL_URL"])
    if _email.scheme in {"console", "memory"}:
        EMAIL_BACKEND = f"django.core.mail.backends.{'locmem' if _email.scheme == 'memory' else 'console'}.EmailBackend"
    else:
        EMAIL_HOST = _email.hostname or "localhost"
        EMAIL_PORT = _email.port or 25
        EMAIL_HOST_USER = unquote(_email.username or "")
        EMAIL_HOST_PASSWORD = unquote(_email.password or "")
        EMAIL_USE_TLS = _email.scheme.endswith("+tls")

# Celery. Redis in production; kombu's filesystem transport when nothing is configured.
# Redis with Sentinel: CELERY_BROKER_URL=sentinel://s1:26379/0;sentinel://s2:26379/0;sentinel://s3:26379/0 and
# REDIS_SENTINEL_MASTER the name the Sentinels monitor; the broker, the cache and the coordination flags
# (core/broker.py) all follow the master the Sentinels name (docs/deployment.md, "Redis with Sentinel").
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "fenghuo")
_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR),
        "data_folder_out": str(_BROKER_DIR),
        "processed_folder": str(_BROKER_DIR),
        "control_folder": str(_BROKER_DIR / "control"),
    }
elif CELERY_BROKER_URL.startswith("sentinel://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "master_name": REDIS_SENTINEL_MASTER}
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Tests and shared Redis servers give each deployment its own queue names.
FENGHUO_QUEUE_PREFIX = os.environ.get("FENGHUO_QUEUE_PREFIX", "fenghuo")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
ESCALATION_SWEEP_SECONDS = float(os.environ.get("ESCALATION_SWEEP_SECONDS", "1"))
# Deadlines due within ESCALATION_ETA_HORIZON_SECONDS also get an ETA task (kept far below the broker's one-hour
# visibility timeout); beat arms those entering it every ESCALATION_ARM_SECONDS. Only tests shorten them.
ESCALATION_ETA_HORIZON_SECONDS = float(os.environ.get("ESCALATION_ETA_HORIZON_SECONDS", "300"))
ESCALATION_ARM_SECONDS = float(os.environ.get("ESCALATION_ARM_SECONDS", "60"))
# How often beat sends the notification sweeps: deliveries due (retries included), unanswered follow-ups.
NOTIFICATIONS_DELIVER_SECONDS = float(os.environ.get("NOTIFICATIONS_DELIVER_SECONDS", "5"))
NOTIFICATIONS_FOLLOW_UP_SECONDS = float(os.environ.get("NOTIFICATIONS_FOLLOW_UP_SECONDS", "30"))
# Several beats may run at once (docker-compose.multinode.yml: one per host): every task they send is a sweep
# that locks the rows it acts on, so a second beat doubles cheap queries, never an effect (docs/deployment.md).
CELERY_BEAT_SCHEDULE = {
    "sweep-due-deadlines": {"task": "escalation.sweep_due_deadlines", "schedule": ESCALATION_SWEEP_SECONDS},
    "arm-near-deadlines": {"task": "escalation.arm_near_deadlines", "schedule": ESCALATION_ARM_SECONDS},
    "deliver-notifications": {"task": "notifications.deliver_pending", "schedule": NOTIFICATIONS_DELIVER_SECONDS},
    # Inspection rounds ahead of time (inspections/generation.py); idempotent, so a short period costs little.
    "generate-inspection-rounds": {"task": "inspections.generate_rounds", "schedule": INSPECTIONS_GENERATE_SECONDS},
    # Safety net for alerts whose after-commit nudge was lost (alerts/lanes.py).
    "sweep-unprocessed-alerts": {"task": "alerts.sweep_pending", "schedule": 2.0},
    "follow-up-notifications": {"task": "notifications.follow_up", "schedule": NOTIFICATIONS_FOLLOW_UP_SECONDS},
    # Beat stamps "beat" when it sends this, a worker stamps "worker" when it runs it (/readyz).
    "heartbeat": {"task": "escalation.heartbeat", "schedule": float(os.environ.get("HEARTBEAT_SECONDS", "10"))},
    # Hourly; it sends last month's report once, on the 1st from 08:00 office time, or at the first run after
    # that if beat was down (reports/tasks.py; the MonthlyReport row makes it once).
    "monthly-report": {"task": "reports.send_monthly_report", "schedule": 3600.0},
    # Keeps the reports page's default view computed, so nobody waits for it (reports/tasks.py).
    "warm-default-report": {"task": "reports.warm_default_report", "schedule": 20.0},
    # Writes the figures rows an incident's resolution missed, and rewrites recent ones changed since (reports/figures.py).
    "refresh-report-figures": {"task": "reports.refresh_figures", "schedule": 300.0},
}
# Without a backlog, the alert runner starts a pass at most this often (alerts/processing.py).
ALERTS_PASS_INTERVAL_SECONDS = float(os.environ.get("ALERTS_PASS_INTERVAL_SECONDS", "0.5"))
# Alert groups are spread over this many runners, which open their incidents in parallel (alerts/lanes.py).
ALERTS_LANES = max(1, int(os.environ.get("ALERTS_LANES", "2")))
# /readyz reports "not ready" when a deadline has been overdue this long.
ESCALATION_STALL_SECONDS = int(os.environ.get("ESCALATION_STALL_SECONDS", "60"))
# /readyz: the worker and beat heartbeats may be this old (3 missed beats of HEARTBEAT_SECONDS) ...
HEARTBEAT_MAX_AGE_SECONDS = int(os.environ.get("HEARTBEAT_MAX_AGE_SECONDS", "30"))
# ... the oldest delivery not yet sent this old ...
NOTIFICATION_BACKLOG_SECONDS = int(os.environ.get("NOTIFICATION_BACKLOG_SECONDS", "120"))
# ... and this many deadlines due but not acted on (each older than a sweep could explain) is a stall.
DUE_UNFIRED_MAX_COUNT = int(os.environ.get("DUE_UNFIRED_MAX_COUNT", "0"))
# Each near deadline is also sent as a Celery task with an ETA, so it acts on the second; off (tests and benches
# without a worker), only the sweep every ESCALATION_SWEEP_SECONDS acts (escalation/services.py).
ESCALATION_ETA_TASKS = env_bool("ESCALATION_ETA_TASKS", True)
# External parties (docs/external.md): the office is reminded this long before a report to an outside party is due.
# Not from the environment yet (a README row first); the tests shorten it.
EXTERNAL_REMINDER_BEFORE_SECONDS = 600

# Notifications (docs/notifications.md). A failed delivery is tried again after NOTIFICATIONS_RETRY_BASE_SECONDS,
# three times longer each time (capped at an hour), until NOTIFICATIONS_MAX_ATTEMPTS attempts have failed.
NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("NOTIFICATIONS_MAX_ATTEMPTS", "5"))
NOTIFICATIONS_RETRY_BASE_SECONDS = float(os.environ.get("NOTIFICATIONS_RETRY_BASE_SECONDS", "10"))
# Seconds to wait for a provider's answer (robots, SMS gateway, webhooks).
NOTIFICATIONS_HTTP_TIMEOUT = float(os.environ.get("NOTIFICATIONS_HTTP_TIMEOUT", "10"))
# The people on duty have this long to acknowledge before the rest of the role is told (a role's policy overrides).
NOTIFICATIONS_DUTY_ACK_WAIT_SECONDS = int(os.environ.get("NOTIFICATIONS_DUTY_ACK_WAIT_SECONDS", "300"))
# Lifetime of the signed acknowledgement links in messages (a week).
NOTIFICATIONS_ACK_LINK_MAX_AGE = int(os.environ.get("NOTIFICATIONS_ACK_LINK_MAX_AGE", str(7 * 24 * 3600)))
# SMS sent to one number in 24 hours; the rest are suppressed, so the carrier does not block it in a long outage.
NOTIFICATIONS_SMS_DAILY_CAP = int(os.environ.get("NOTIFICATIONS_SMS_DAILY_CAP", "40"))
# How often every page asks for the bell's count and the lists for new rows (ETag: an unchanged answer is a
# 304 of one query). Not from the environment: a fixed cost per open tab, only the tests shorten it.
LIVE_POLL_SECONDS = 10
# Ask a worker to deliver as soon as a notification commits; off (tests without a worker), beat's 5 s sweep delivers.
NOTIFICATIONS_KICK_ON_COMMIT = env_bool("NOTIFICATIONS_KICK_ON_COMMIT", True)

# Drills (docs/drills.md). A drill's compressed clock (plan seconds per real second) must lie in this range.
DRILLS_CLOCK_MIN = float(os.environ.get("DRILLS_CLOCK_MIN", "1"))
DRILLS_CLOCK_MAX = float(os.environ.get("DRILLS_CLOCK_MAX", "3600"))
# What the dashboard's alarm does for a drill: "distinct" (its own sound) or "none".
DRILLS_ALARM = os.environ.get("DRILLS_ALARM", "distinct")
# The plan gives no time to confirm reading a message: a drill's scorecard expects it within this much plan time.
DRILLS_ACKNOWLEDGE_WITHIN_SECONDS = int(os.environ.get("DRILLS_ACKNOWLEDGE_WITHIN_SECONDS", "900"))
# Readiness: a person is overdue without a drill or a training in this many days; a role without this many
# drills in the last year (plan 5: regular drills; "every role drilled at least twice a year").
READINESS_DRILL_EVERY_DAYS = int(os.environ.get("READINESS_DRILL_EVERY_DAYS", "182"))
READINESS_TRAINING_EVERY_DAYS = int(os.environ.get("READINESS_TRAINING_EVERY_DAYS", "365"))
READINESS_ROLE_DRILLS_PER_YEAR = int(os.environ.get("READINESS_ROLE_DRILLS_PER_YEAR", "2"))

def _cache_location(broker_url):
    """The broker's Redis server, on the next database number: cache.clear() must never flush the queues.

    For sentinel:// URLs, each Sentinel's address with the next database number (the master they name).
    """
    located = []
    for address in broker_url.replace(",", ";").split(";"):
        parts = urlsplit(address)
        db = int(parts.path.strip("/") or 0)
        located.append(urlunsplit(parts._replace(path=f"/{(db + 1) % 16}")))
    return ";".join(located)


# Throttle counters (and the dashboard's short cache) are shared by every web process through Redis;
# the embedded default keeps them in each process's memory. CACHE_URL overrides (redis://host:6379/N, or
# sentinel://s1:26379/N;sentinel://s2:26379/N for the master REDIS_SENTINEL_MASTER).
if os.environ.get("CACHE_URL") or CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    CACHES = {"default": {
        # Django's RedisCache, except that Redis being down is a cache miss, not a 500 (config/cache.py).
        "BACKEND": "config.cache.ForgivingRedisCache",
        "LOCATION": os.environ.get("CACHE_URL") or _cache_location(CELERY_BROKER_URL),
        "KEY_PREFIX": FENGHUO_QUEUE_PREFIX,
        # A Redis host that drops packets (rather than refusing) is a miss after a second, not a hung request.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fenghuo"}}

# API throttles (issue 13 finding 3): requests per caller, "N/second|minute|hour|day"; "none" switches one off.
# The monitoring hooks have their own per-integration rate (alerts/api.py) and are not throttled here.
API_THROTTLE_RATES = {
    "anon": os.environ.get("API_THROTTLE_ANON", "60/minute"),
    "user": os.environ.get("API_THROTTLE_USER", "1200/minute"),
}

REST_FRAMEWORK = {
    "DEFAULT_THROTTLE_CLASSES": ["core.throttles.AnonRateThrottle", "core.throttles.UserRateThrottle"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "people.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # The anonymous throttle counts per client address: behind the proxies, read from X-Forwarded-For.
    # 0, not None: DRF would otherwise believe whatever X-Forwarded-For a client sends.
    "NUM_PROXIES": PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": [
        "core.throttles.IsAuthenticatedAfterAnonThrottle",
        # Signed in is not enough: a plan role, staff or the auditor permission (issue 13, finding 8).
        "people.access.ReadsIncidents",
    ],
    # One JSON path with the hooks: poison bodies (surrogates, NaN, deep nesting) are a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": [
        "core.jsonbody.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",  # documents the refusals every operation can give
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is switched off (404).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
SPECTACULAR_SETTINGS = {
    # The schema and its docs page describe every endpoint: staff only (a session or a staff personal token).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAdminUser"],
    "TITLE": "Fenghuo API",
    "DESCRIPTION": "Incidents, escalation deadlines, response plans and alerts of the emergency plan.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Fields of one name with different choices each need a name of their own in the schema. The incident's
    # status appears in the list's Incident and in the detail's IncidentDetail (with the hash chain): one
    # enum under the name it always had.
    "ENUM_NAME_OVERRIDES": {"PartyKindEnum": "plan.models.PartyKind", "ProposalStateEnum": "improvements.models.ProposalState",
                            "DeadlineStateEnum": "escalation.models.State",
                            "IncidentStatusEnum": "incidents.states.Status"},
}

SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Content-Security-Policy (django-csp, issue 13 finding 10): scripts and style sheets only from our own
# static files, nothing inline, no framing, no plugins. Attribute styles stay allowed (style-src-attr): the
# plan's level colours are data, set per element; they can load nothing (img-src 'self').
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-elem": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
# A refused form gets a page in the person's language, not Django's explanation for developers (config/errors.py).
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if env_bool("FENGHUO_PRODUCTION", False):
    # HTTPS in production (issue 13 finding 10). Browsers keep HSTS for SECURE_HSTS_SECONDS: start low when
    # first enabling it. Behind a TLS-terminating proxy, SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto tells
    # Django which requests arrived over HTTPS (the proxy must set that header itself, never pass it on).
    # Redirecting without knowing the proxy's header would loop forever, so the default follows it.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", bool(os.environ.get("SECURE_PROXY_SSL_HEADER")))
    # Load balancers and scrapers ask over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if os.environ.get("SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + os.environ["SECURE_PROXY_SSL_HEADER"].upper().replace("-", "_"), "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
