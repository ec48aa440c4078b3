"""Configuration: defaults here, overridden by the environment, then by `create_app(config)`."""
import os
from datetime import timedelta


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")  # default: a random key kept in instance/secret_key
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default: instance/kerjasama.sqlite
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Sessions: one working day, HttpOnly, SameSite; Secure when served over HTTPS.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=10)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_DURATION = timedelta(hours=10)  # remember-me is not offered; bounded anyway

    # CSRF tokens live as long as the session, so a long edit is never lost to expiry.
    WTF_CSRF_TIME_LIMIT = int(PERMANENT_SESSION_LIFETIME.total_seconds())

    BABEL_DEFAULT_LOCALE = "id"
    BABEL_DEFAULT_TIMEZONE = "Asia/Jakarta"  # Probolinggo is on WIB
    LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}

    # Login throttling per account and client address, counted in the database so every worker
    # sees the same count (models/login_throttle.py).
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    # Reverse proxies in front of the app that set X-Forwarded-For (0: none, the peer is the client).
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

    FLASK_ADMIN_SWATCH = "default"
    # Hard cap of any request; the document size limit itself is a setting (default 20 MB).
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER")  # default: instance/uploads
    # How long a worker keeps the section's settings before reading them again (admin_app/settings.py).
    SETTINGS_CACHE_SECONDS = int(os.environ.get("SETTINGS_CACHE_SECONDS", "30"))
    # How long the My work badge is kept in a user's session before it is counted again (my_work.py).
    WORK_BADGE_SECONDS = int(os.environ.get("WORK_BADGE_SECONDS", "60"))
