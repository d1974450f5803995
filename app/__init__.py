"""The Secure Release Portal: create_app() builds the Flask application."""

import logging
import sqlite3
from pathlib import Path

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Config, ConfigError, development_secret_key
from app.extensions import csrf, db, htmx, limiter, login_manager, mail, migrate
from app.services import passwords


def create_app(config_class: type = Config, overrides: dict | None = None) -> Flask:
    """Build the app: settings, extensions, the access guard, blueprints, CLI.

    `overrides` lets tests point one app at its own database without touching
    the environment.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    if overrides:
        app.config.from_mapping(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _finish_config(app)

    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    passwords.configure(app.config["ARGON2_PROFILE"])
    _init_extensions(app)
    _register_web(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _finish_config(app: Flask) -> None:
    """Fill in the settings that depend on the instance folder, and check the rest."""
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'portal.db'}"
    if not app.config.get("SECRET_KEY"):
        if app.config["ENV_NAME"] != "development":
            raise ConfigError(
                "SECRET_KEY is not set. Set it to a long random string "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))"), '
                "or set PORTAL_ENV=development to use a generated development key."
            )
        app.config["SECRET_KEY"] = development_secret_key(app.instance_path)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    htmx.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    from app.models import User

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        return db.session.scalar(db.select(User).where(User.session_token == session_token))


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record) -> None:
    """SQLite: WAL, a busy timeout, foreign keys, and transactions SQLAlchemy controls.

    pysqlite's own implicit BEGIN is switched off (isolation_level=None) and
    SQLAlchemy emits BEGIN itself (below), so SAVEPOINT and BEGIN IMMEDIATE work
    as documented.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection) -> None:
    """Open SQLite transactions; IMMEDIATE (taking the write lock) for requests that write.

    A deferred transaction that reads and then writes fails at once with
    "database is locked" if another process wrote in between (WAL snapshots
    cannot be upgraded). Requests that change things (POST and friends) take
    the write lock up front instead, waiting up to busy_timeout for it; page
    views stay deferred, so reads never wait for each other.
    """
    if connection.dialect.name != "sqlite":
        return
    writes = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def _register_web(app: Flask) -> None:
    from flask_login import current_user

    from app.auth import bp as auth_bp
    from app.home import bp as home_bp
    from app.services.clock import utcnow
    from app.web.access import guard_request
    from app.web.errors import register_error_handlers
    from app.web.menu import menu_for
    from app.web.security import add_security_headers

    app.before_request(guard_request)
    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    register_error_handlers(app)
    add_security_headers(app)

    @app.context_processor
    def layout_context() -> dict:
        def main_menu():
            # Called by the template only where it shows the menu.
            return menu_for(current_user.role if current_user.is_authenticated else None)

        return {
            "main_menu": main_menu,
            "organisation": app.config["ORGANISATION_NAME"],
            "public_website_url": app.config["PUBLIC_WEBSITE_URL"],
            "privacy_url": app.config["PRIVACY_URL"],
            "current_year": utcnow().year,
        }
