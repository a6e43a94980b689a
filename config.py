"""Configuration: embedded defaults, secrets and URLs from the environment."""
import os
import secrets
from datetime import timedelta

from flask_appbuilder.const import AUTH_DB

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.environ.get("JIJIAO_INSTANCE", os.path.join(BASE_DIR, "instance"))


def _embedded_secret_key() -> str:
    """Generate once and keep in the instance folder, so sessions survive restarts."""
    os.makedirs(INSTANCE_DIR, exist_ok=True)
    path = os.path.join(INSTANCE_DIR, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()


def database_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg2, the driver we pin (SQLAlchemy 2.1 defaults to psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def engine_options(url: str) -> dict:
    """Pool options of an engine: PostgreSQL pings a pooled connection before handing it out.

    JIT is off for the application's sessions: its queries are short, but a capped count over a badly
    estimated join (the credit review list with a name prefix: estimated cost 225,000) crossed
    ``jit_above_cost`` and spent ~20 ms compiling for ~10 ms of work (docs/benchmark.md, "Credit hours").
    """
    if url.startswith("postgresql"):
        return {"pool_pre_ping": True, "pool_recycle": 1800,
                "connect_args": {"connect_timeout": 5, "options": "-c jit=off"}}
    return {}


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


#: the embedded default (SQLite in the instance folder, `python run.py` on 127.0.0.1) serves plain HTTP;
#: anything else is a deployment behind HTTPS
EMBEDDED_DEFAULT = not os.environ.get("DATABASE_URL")


class Config:
    APP_NAME = "继教管理平台"
    APP_THEME = ""
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled by load_config
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", "sqlite:///" + os.path.join(INSTANCE_DIR, "jijiao.db"))
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    #: extra engine options; create_app adds engine_options(the URL): on PostgreSQL pooled connections are
    #: tested before use, so a database restart fails only the requests made while it was down
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: read-only report work (exports, statistics) reads here when set (app/replica.py); unset: the primary
    DATABASE_REPLICA_URL = database_url(os.environ.get("DATABASE_REPLICA_URL", ""))

    # Security
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "省级管理员"
    AUTH_ROLE_PUBLIC = "公共访问"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per minute")
    RATELIMIT_ENABLED = True
    #: rate-limit counters live in the shared Redis when there is one (several hosts count together)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    #: Redis gone: count in this process's memory instead and never fail the request for it
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: a dead Redis costs a request at most half a second, not a hang
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    #: failed logins before the account is locked, and for how long
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    WTF_CSRF_ENABLED = True
    FAB_API_MAX_PAGE_SIZE = 100
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_PERMISSION_VIEW = False
    FAB_ADD_SECURITY_VIEW_MENU_VIEW = False
    FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW = False
    #: schema comes from migrations and permissions from `flask sync-roles`, never from start-up side effects
    FAB_UPDATE_PERMS = False
    FAB_CREATE_DB = False
    FAB_ROLES = {}  # role templates live in app/roles.py and are synced by a command
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(hours=2)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    #: cookies only over HTTPS, except on the embedded default (set SESSION_COOKIE_SECURE=0 to override)
    SESSION_COOKIE_SECURE = _env_flag("SESSION_COOKIE_SECURE", not EMBEDDED_DEFAULT)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)

    # Language: Chinese only
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": {"flag": "cn", "name": "简体中文"}}
    BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "app", "translations")

    FAB_INDEX_VIEW = "app.admin.home.HomeView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.AppSecurityManager"

    #: largest file one upload may carry (attachments, evidence, Excel imports)
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    #: largest request body: one upload plus its form fields; a larger body is refused (413) unread
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024

    #: seconds the dashboard reuses a scope's organisation and personnel counts
    DASHBOARD_COUNTS_TTL = 60
    #: largest page any list or API returns
    MAX_PAGE_SIZE = 100
    #: seed the demo world when the database is empty (python run.py)
    DEMO_DATA = os.environ.get("DEMO_DATA", "1") == "1"

    # Files (app/storage.py, app/services/attachments.py)
    #: where the local file store keeps uploads and job results (outside the static folder)
    STORAGE_ROOT = os.environ.get("STORAGE_ROOT", os.path.join(INSTANCE_DIR, "files"))
    #: largest file one upload may carry
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    #: a zip (also docx/xlsx) may unpack to at most this many bytes and entries
    ZIP_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("ZIP_MAX_UNCOMPRESSED_BYTES", 200 * 1024 * 1024))
    ZIP_MAX_ENTRIES = int(os.environ.get("ZIP_MAX_ENTRIES", 2000))

    # Excel import and export (app/io/)
    #: exports larger than this run as a background job (smaller ones are downloaded at once)
    EXPORT_SYNC_MAX_ROWS = int(os.environ.get("EXPORT_SYNC_MAX_ROWS", 5000))
    #: most rows one export writes
    EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", 1_000_000))
    #: imports with more data rows than this are checked and committed as a background job
    IMPORT_SYNC_MAX_ROWS = int(os.environ.get("IMPORT_SYNC_MAX_ROWS", 2000))
    #: most data rows one import file may hold
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 100_000))

    # Background jobs (app/jobs/): Celery on Redis when a broker is configured, else threads in-process
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or ""
    #: the queue the web app sends jobs to and the workers consume
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "jijiao")
    #: worker threads of the embedded (no broker) backend
    JOB_THREADS = int(os.environ.get("JOB_THREADS", 2))
    #: a running job whose heartbeat is older than this is taken over by a redelivery (its worker died)
    JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", 30))
    #: ... and marked failed when nobody took it over for this long
    JOB_ABANDONED_SECONDS = int(os.environ.get("JOB_ABANDONED_SECONDS", 300))
    #: how often a running job writes its progress and heartbeat
    JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", 0.5))
    #: attempts before a job whose worker keeps dying is marked failed
    JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", 2))
    #: modules with more @task functions, comma-separated (the product's own are always loaded)
    JOB_MODULES = [m for m in os.environ.get("JOB_MODULES", "").split(",") if m]

    # Several app hosts (docs/production.md)
    #: shared state of the hosts: rate limits, cache generations, the job queue; unset: process memory
    REDIS_URL = os.environ.get("REDIS_URL", "")
    #: where files live: "local" (STORAGE_ROOT) or "s3" (an S3-compatible object store)
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local").strip().lower() or "local"
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_REGION = os.environ.get("S3_REGION", "us-east-1")
    #: networks that may read /metrics without signing in (the province admin always may)
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1/32,::1/128")
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (nginx in front: 1)
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))
    #: "json": one JSON object per log line (production); "text": plain lines (default of the embedded setup)
    LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("text" if EMBEDDED_DEFAULT else "json")
    # 电子证书 (app/services/certificates.py, certificate_pdf.py)
    #: a TrueType CJK font to print certificates with ("path" or "path:subfont index"); by default Debian's
    #: fonts-wqy-zenhei (or fonts-arphic-uming) where installed
    CERTIFICATE_FONT = os.environ.get("CERTIFICATE_FONT", "")
    #: the address the QR code points at (e.g. https://jijiao.example.cn); by default the address of the request
    CERTIFICATE_BASE_URL = os.environ.get("CERTIFICATE_BASE_URL", "")
    #: certificates printed in the request; more run as a background job
    CERTIFICATE_SYNC_MAX = int(os.environ.get("CERTIFICATE_SYNC_MAX", 20))
    #: most certificates in one PDF
    CERTIFICATE_MAX_PER_PDF = int(os.environ.get("CERTIFICATE_MAX_PER_PDF", 5000))
    #: the public verification page, per client address
    CERTIFICATE_VERIFY_RATE_LIMIT = os.environ.get("CERTIFICATE_VERIFY_RATE_LIMIT", "30 per minute")


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    #: the suite never inherits the shell's shared services; tests that need them set them
    DATABASE_REPLICA_URL = ""
    REDIS_URL = ""
    RATELIMIT_STORAGE_URI = "memory://"
    STORAGE_BACKEND = "local"
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    #: the test client and the browser tests speak plain HTTP
    SESSION_COOKIE_SECURE = False
    DEMO_DATA = False
    #: cheap hashing keeps the suite fast; production keeps FAB's scrypt default
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    DASHBOARD_COUNTS_TTL = 0
    #: jobs in tests run in this process (the Celery tests start a real worker and set a broker)
    CELERY_BROKER_URL = ""
    JOB_STALE_SECONDS = 3
    JOB_HEARTBEAT_SECONDS = 0.2


def load_config(config=None):
    """Resolve a config class and give it a secret key (env or instance file)."""
    config = config or Config
    if not getattr(config, "SECRET_KEY", None):
        config.SECRET_KEY = _embedded_secret_key()
    return config
