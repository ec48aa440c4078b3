"""Application factory of the cooperation-service admin panel."""
import logging
import os
import secrets

from flask import Flask, redirect, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from admin_app.config import Config
from admin_app.extensions import babel, csrf, migrate
from models import db


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides the environment (tests pass their database here)."""
    instance = os.environ.get("INSTANCE_PATH")  # default: instance/ beside the code
    app = Flask(__name__, instance_path=os.path.abspath(instance) if instance else None, instance_relative_config=True)
    app.config.from_object(Config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "kerjasama.sqlite")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)
    if not app.config["UPLOAD_FOLDER"]:  # a folder named by the settings must exist: never made here
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
        os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _with_driver(app.config["SQLALCHEMY_DATABASE_URI"])
    logging.basicConfig(level=logging.INFO)

    # Security headers first, so the nonce exists (and an http request is redirected when the
    # panel is served over https) before any other request hook runs.
    from admin_app import headers
    headers.init_app(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"])

    from admin_app import auth, cli, errors, health, i18n
    from admin_app.admin import init_admin

    auth.init_app(app)
    cli.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    i18n.init_app(app)
    init_admin(app)

    @app.get("/")
    def home():
        return redirect(url_for("admin.index"))

    @app.context_processor
    def _template_globals():
        from admin_app.labels import label
        from models import Role
        return {"current_locale": str(get_locale()), "role_label": lambda role: label(Role, role)}

    @app.get("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg"), 200, {"Content-Type": "image/svg+xml"}

    return app


def _instance_secret(instance_path: str) -> str:
    """A random key made once per installation (mode 0600): no shared default key, and
    sessions survive a restart."""
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path) as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first: use theirs
        return _instance_secret(instance_path)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def _with_driver(url: str) -> str:
    """`postgresql://` URLs (as most tools write them) use psycopg 3, the pinned driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _select_locale() -> str:
    from flask import current_app, session
    if current_user and getattr(current_user, "is_authenticated", False):
        if session.get("language") != current_user.language:
            session["language"] = current_user.language  # what the error pages use without the database
        return current_user.language
    return session.get("language") or current_app.config["BABEL_DEFAULT_LOCALE"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys; WAL plus a busy timeout so writers wait, not fail."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed record survives a power cut
        cursor.close()
