"""Settings from the environment, with embedded defaults for one machine and no setup."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'evercold.db'}"
    # Heroku-style URLs name the driver "postgres"; we use psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-change-me"
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # PostgreSQL time limits (app/db_timeouts.py, docs/operations.md): seconds, 0 = none.
    DB_CONNECT_TIMEOUT = float(os.environ.get("DB_CONNECT_TIMEOUT") or 3)
    DB_STATEMENT_TIMEOUT = float(os.environ.get("DB_STATEMENT_TIMEOUT") or 10)
    DB_JOB_STATEMENT_TIMEOUT = float(os.environ.get("DB_JOB_STATEMENT_TIMEOUT") or 120)
    DB_ANSWER_GRACE = float(os.environ.get("DB_ANSWER_GRACE") or 2)
    DB_PING_TIMEOUT = float(os.environ.get("DB_PING_TIMEOUT") or 2)
    DB_READY_TIMEOUT = float(os.environ.get("DB_READY_TIMEOUT") or 2)
    DB_POOL_TIMEOUT = float(os.environ.get("DB_POOL_TIMEOUT") or 10)
    REDIS_URL = os.environ.get("REDIS_URL") or None
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH") or str(INSTANCE_DIR / "huey.db")
    HUEY_IMMEDIATE = False

    CRON_SECRET = os.environ.get("CRON_SECRET") or ""
    APP_BASE_URL = (os.environ.get("APP_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    APP_TIMEZONE = os.environ.get("APP_TIMEZONE") or "UTC"
    # Every amount a person reads carries it (ISO 4217, checked at startup; formatted by
    # Babel in app/services/timefmt.py). The API's amounts stay plain decimal strings.
    CURRENCY = os.environ.get("CURRENCY") or "USD"
    # The language of a reader with no choice of their own and no browser preference
    # ("en", "ru" or "uz"; app/i18n.py).
    DEFAULT_LOCALE = (os.environ.get("DEFAULT_LOCALE") or "en").strip().lower()
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    # Photos and signatures: "local" (files under UPLOAD_DIR) or "s3" (S3-compatible bucket).
    STORAGE_BACKEND = (os.environ.get("STORAGE_BACKEND") or "local").strip().lower()
    S3_BUCKET = os.environ.get("S3_BUCKET") or ""
    S3_PREFIX = os.environ.get("S3_PREFIX") or ""
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_REGION = os.environ.get("S3_REGION") or None
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID") or None
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY") or None

    TELEGRAM_API_BASE = (os.environ.get("TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip("/")
    TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN") or ""
    TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME") or ""
    TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET") or ""
    SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL") or ""
    SMS_GATEWAY_AUTH_HEADER = os.environ.get("SMS_GATEWAY_AUTH_HEADER") or ""
    # Seconds one request to Telegram or the SMS gateway may take to connect, and then to
    # answer (app/services/channels). A read that times out may still have delivered the
    # message: see docs/operations.md, "Notifications: at-least-once delivery".
    CHANNEL_CONNECT_TIMEOUT = float(os.environ.get("CHANNEL_CONNECT_TIMEOUT") or 3)
    CHANNEL_READ_TIMEOUT = float(os.environ.get("CHANNEL_READ_TIMEOUT") or 10)

    # Request size: photos are the largest thing anybody sends.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH") or 25 * 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 2 * 1024 * 1024
    PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES") or 20 * 1024 * 1024)
    PHOTO_MAX_PIXELS = int(os.environ.get("PHOTO_MAX_PIXELS") or 50_000_000)
    # Memory one decode may need (the pixel buffer in Pillow's layout plus the copies the
    # pipeline makes; see photos.decode_cost), checked from the header before any pixel
    # is decoded. 200 MB keeps one upload under ~250 MB of RSS growth: a 50 MP RGBA PNG
    # (~400 MB) is refused, 12 MP phone photos need ~75-120 MB, and large JPEGs are
    # decoded at 1/2-1/8 scale (they are stored at PHOTO_MAX_SIDE anyway).
    PHOTO_MAX_DECODE_BYTES = int(os.environ.get("PHOTO_MAX_DECODE_BYTES") or 200_000_000)
    PHOTO_MAX_SIDE = 2048
    PHOTO_THUMB_SIDE = 320
    SIGNATURE_MAX_BYTES = 512 * 1024
    SIGNATURE_MAX_PIXELS = 4_000_000
    DESCRIPTION_MAX_CHARS = 5000

    # The company's labour rate per hour (in CURRENCY), for technicians without their own
    # rate (set by dispatchers on /dispatcher/technicians/<id>).
    DEFAULT_LABOR_RATE = os.environ.get("DEFAULT_LABOR_RATE") or "45.00"
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD") or "evercold"  # flask demo: every demo login
    ARRIVAL_RADIUS_M = int(os.environ.get("ARRIVAL_RADIUS_M") or 500)
    SQLITE_CACHE_MIB = int(os.environ.get("SQLITE_CACHE_MIB") or 32)  # page cache per SQLite connection
    SLA_WARNING_FRACTION = float(os.environ.get("SLA_WARNING_FRACTION") or 0.75)
    # A ticket paused longer than this alerts dispatchers once (the SLA sweep checks it).
    PAUSE_ALERT_HOURS = float(os.environ.get("PAUSE_ALERT_HOURS") or 48)
    # The board's "Just arrived" strip keeps a new ticket this long, however long its column.
    BOARD_ARRIVALS_MINUTES = int(os.environ.get("BOARD_ARRIVALS_MINUTES") or 10)
    SLA_DIGEST_THRESHOLD = int(os.environ.get("SLA_DIGEST_THRESHOLD") or 50)  # sla2: dispatcher digest above this
    # A technician with more alerts than this of one kind in one sweep gets one digest.
    SLA_TECHNICIAN_DIGEST_THRESHOLD = int(os.environ.get("SLA_TECHNICIAN_DIGEST_THRESHOLD") or 3)

    # Sessions and login.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # Served over HTTPS (behind a TLS proxy): "https" also turns the Secure cookie flag on.
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME") or "http"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("SESSION_IDLE_SECONDS") or 12 * 3600)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or (
        os.environ.get("REDIS_URL") or "memory://"
    )
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: login throttling goes on in per-process memory instead of failing logins.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_FAILS_PER_ACCOUNT = "10 per 15 minutes"
    LOGIN_FAILS_PER_ADDRESS = "30 per minute"
    QR_REPORTS_PER_TOKEN = "5 per hour"  # fault reports by one unit's QR code (API.md)
    QR_REPORTS_PER_ADDRESS = "20 per hour"  # and from one address

    # argon2 cost; tests lower it.
    PASSWORD_TIME_COST = 2
    PASSWORD_MEMORY_COST = 19 * 1024

    API_PAGE_DEFAULT = 50
    API_PAGE_MAX = 200
    # Tokens from POST /api/auth/token (and a password change) end after this many days;
    # service tokens for other systems never expire (docs/tokens.md).
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS") or 90)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    HUEY_IMMEDIATE = True
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_TIME_COST = 1
    PASSWORD_MEMORY_COST = 64
    CRON_SECRET = ""
    APP_BASE_URL = "http://testserver"
    # The test's own session only reads between requests: it must not hold SQLite's
    # write lock while the request under test writes.
    SQLITE_BEGIN_OUTSIDE_REQUEST = "DEFERRED"
