"""Configuration, read once from the environment.

Every setting here is documented in the README. `Config` is production's;
`TestConfig` is what the test suite runs with.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A required setting is missing or malformed: the app refuses to start."""


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def development_secret_key(instance_path: str) -> str:
    """Return the development secret key, creating it in the instance folder once.

    Keeping it on disk means a restart of `make run` does not sign everybody out.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings for a real deployment, each from the environment variable of its name."""

    ENV_NAME = os.environ.get("PORTAL_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # None means: a SQLite file in the instance folder (filled in by create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    ORGANISATION_NAME = os.environ.get(
        "ORGANISATION_NAME", "Cambridge Assessment International Education"
    )
    PUBLIC_WEBSITE_URL = os.environ.get(
        "PUBLIC_WEBSITE_URL", "https://www.cambridgeinternational.org/"
    )
    PRIVACY_URL = os.environ.get("PRIVACY_URL") or PUBLIC_WEBSITE_URL

    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_int("SESSION_LIFETIME_MINUTES", 480))

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session does
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")

    # How long a request waits for a lock another request holds (SQLite's write lock,
    # a PostgreSQL row lock) before it is answered "busy, try again" (503).
    DATABASE_LOCK_WAIT_MS = _int("DATABASE_LOCK_WAIT_MS", 5000)

    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto/-Host.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    # argon2id cost profile: argon2-cffi's RFC 9106 low-memory profile (64 MiB, 3 passes).
    ARGON2_PROFILE = os.environ.get("ARGON2_PROFILE", "RFC_9106_LOW_MEMORY")

    # Forms are small; anything bigger is refused with 413 before it is parsed.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 1024 * 1024)

    # Secure resources and help documents: where their files are kept (None: the
    # instance folder's resources/), the largest file accepted, and how many files
    # one upload may hold. Every gunicorn worker and host must see the same folder.
    RESOURCE_STORAGE_DIR = os.environ.get("RESOURCE_STORAGE_DIR") or None
    RESOURCE_MAX_MB = _int("RESOURCE_MAX_MB", 500)
    RESOURCE_MAX_FILES = _int("RESOURCE_MAX_FILES", 50)
    # With nginx in front: the internal location that serves the storage folder's
    # files/ (e.g. /_protected/). Downloads are then sent by nginx (X-Accel-Redirect).
    RESOURCE_ACCEL_REDIRECT = os.environ.get("RESOURCE_ACCEL_REDIRECT", "")

    # How many days before an exam's key time a release's window opens, unless the
    # admin chooses otherwise on the release (0 to 60).
    RELEASE_DEFAULT_DAYS_BEFORE = _int("RELEASE_DEFAULT_DAYS_BEFORE", 3)

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Links in emails start with this, never with the Host header of a request.
    # Required outside development: scheme and host, e.g. https://portal.example.org
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "")
    ACTIVATION_LINK_HOURS = _int("ACTIVATION_LINK_HOURS", 72)
    RESET_LINK_MINUTES = _int("RESET_LINK_MINUTES", 60)
    PASSWORD_MIN_LENGTH = _int("PASSWORD_MIN_LENGTH", 12)
    # The two forms on the sign-in page that send email, and the PIN entry page.
    ACCOUNT_EMAIL_RATE_LIMIT = os.environ.get(
        "ACCOUNT_EMAIL_RATE_LIMIT", "5 per minute;30 per hour"
    )
    ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT = os.environ.get(
        "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT", "3 per 15 minutes;10 per day"
    )
    ACTIVATION_RATE_LIMIT = os.environ.get("ACTIVATION_RATE_LIMIT", "10 per minute;50 per hour")

    # Outgoing mail. Without MAIL_SERVER, emails are printed to the console instead.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _flag("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _flag("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "portal@localhost")
    # Seconds to wait for the mail server before leaving a message for a retry.
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    # Tries before a message is marked failed (retries wait 1, 5, 15, 60, 240 minutes).
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 6)
    # Send each request's emails from a thread of the worker once the response
    # has gone (true), or while closing the response (false: the tests' way).
    OUTBOX_SEND_IN_BACKGROUND = _flag("OUTBOX_SEND_IN_BACKGROUND", True)


class TestConfig(Config):
    """Settings for the test suite: a throwaway database and a cheap password hash."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or None
    RATELIMIT_STORAGE_URI = os.environ.get("TEST_RATELIMIT_STORAGE_URI", "memory://")
    ARGON2_PROFILE = "CHEAPEST"
    PUBLIC_WEBSITE_URL = "https://board.example.org/"
    PRIVACY_URL = "https://board.example.org/privacy"
    ORGANISATION_NAME = "Example Exam Board"
    LOGIN_RATE_LIMIT = "10 per minute"
    PORTAL_BASE_URL = "https://portal.example.org"
    MAIL_SERVER = None
    MAIL_SUPPRESS_SEND = False  # tests that send start a real SMTP server (aiosmtpd)
    MAIL_DEFAULT_SENDER = "portal@example.org"
    MAIL_TIMEOUT = 2
    OUTBOX_SEND_IN_BACKGROUND = False
