"""The Secure Release Portal: create_app() builds the Flask application."""

import logging
from pathlib import Path

from flask import Flask, url_for
from flask_login import current_user
from sqlalchemy import bindparam
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from app.admin import bp as admin_bp
from app.auth import bp as auth_bp
from app.cli import register_cli
from app.config import Config, ConfigError, development_secret_key
from app.database import lock_wait_options
from app.errors import bp as errors_bp
from app.extensions import csrf, db, htmx, limiter, login_manager, mail, migrate
from app.home import bp as home_bp
from app.key_times import bp as key_times_bp
from app.models import User
from app.releases import bp as releases_bp
from app.reports import bp as reports_bp
from app.resources import bp as resources_bp
from app.services import event_chain, site
from app.services.accounts import passwords
from app.services.clock import utcnow
from app.services.reports.dashboard import open_error_counts
from app.web.access import guard_request
from app.web.auditing import audit_requests
from app.web.errors import register_error_handlers
from app.web.formatting import register_filters
from app.web.forms import refuse_control_characters
from app.web.health import bp as health_bp
from app.web.limits import apply_request_size_limit
from app.web.menu import menu_for
from app.web.outbox import configure_release_notices, send_after_response
from app.web.security import add_security_headers
from app.web.unit_of_work import Portal
from app.web.uploads import release_database_while_streaming, stream_uploads
from app.web.urls import DatabaseIdConverter
from app.web.window_changes import tell_about_moved_windows

log = logging.getLogger(__name__)


def create_app(config_class: type = Config, overrides: dict | None = None) -> Flask:
    """Build the app: settings, extensions, the access guard, blueprints, CLI.

    `overrides` lets tests point one app at its own database without touching
    the environment.
    """
    app = Portal(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    if overrides:
        app.config.from_mapping(overrides)
    # Every <int:...> in a route is a database id: out of range is "no such page".
    app.url_map.converters["int"] = DatabaseIdConverter
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _finish_config(app)

    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _warn_about_settings(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    passwords.configure(app.config["ARGON2_PROFILE"])
    _init_extensions(app)
    _register_web(app)

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
    if not app.config.get("PORTAL_BASE_URL"):
        if app.config["ENV_NAME"] != "development":
            raise ConfigError(
                "PORTAL_BASE_URL is not set. Set it to the portal's address as users "
                "reach it, e.g. https://portal.example.org: links in emails start with it."
            )
        app.config["PORTAL_BASE_URL"] = "http://127.0.0.1:5000"
    app.config["PORTAL_BASE_URL"] = app.config["PORTAL_BASE_URL"].rstrip("/")
    if not app.config.get("RESOURCE_STORAGE_DIR"):
        app.config["RESOURCE_STORAGE_DIR"] = str(Path(app.instance_path) / "resources")
    if not 0 <= app.config["RELEASE_DEFAULT_DAYS_BEFORE"] <= 60:
        raise ConfigError(
            "RELEASE_DEFAULT_DAYS_BEFORE must be a whole number of days from 0 to 60, not "
            f"{app.config['RELEASE_DEFAULT_DAYS_BEFORE']}."
        )
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],  # pool_pre_ping stays
        **lock_wait_options(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_LOCK_WAIT_MS"]
        ),
    }
    if not app.config.get("MAIL_SERVER") and app.config["ENV_NAME"] not in ("development", "test"):
        # Printing emails to the console would leave users without them, and put
        # live links in the log.
        raise ConfigError(
            "MAIL_SERVER is not set. Set it (and the other MAIL_ settings) to the SMTP "
            "server the portal sends its emails through."
        )


def _warn_about_settings(app: Flask) -> None:
    """Log settings that work, but probably not as the deployer meant."""
    local = app.config["ENV_NAME"] in ("development", "test")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://") and not local:
        # Not an error (one worker process is a valid deployment), but the usual
        # gunicorn set-up has several, and then the limits are that many times looser.
        log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts sign-in attempts "
            "on its own, so with 4 gunicorn workers 4 times as many get through. With more than "
            "one worker or host, set RATELIMIT_STORAGE_URI=redis://HOST:6379/0."
        )


def _init_extensions(app: Flask) -> None:
    # These two run before CSRFProtect's hook, which reads the request body: the
    # size limit must be set first, and a signed-out or unauthorised request is
    # turned away without its (possibly large) body being read at all.
    app.before_request(apply_request_size_limit)
    app.before_request(guard_request)
    app.before_request(release_database_while_streaming)
    app.before_request(refuse_control_characters)
    tell_about_moved_windows(app)
    db.init_app(app)
    event_chain.register()
    migrate.init_app(app, db)
    csrf.init_app(app)
    htmx.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    # Built once (every signed-in request runs it), with the user's centre in the
    # same query: a centre user's every page shows it.
    user_by_token = (
        db.select(User)
        .options(joinedload(User.centre))
        .where(User.session_token == bindparam("session_token"))
    )

    @login_manager.user_loader
    def load_user(session_token: str) -> User | None:
        return db.session.scalar(user_by_token, {"session_token": session_token})


def _register_web(app: Flask) -> None:
    audit_requests(app)
    stream_uploads(app)
    send_after_response(app)
    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(resources_bp)
    app.register_blueprint(key_times_bp)
    app.register_blueprint(releases_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(errors_bp)
    app.register_blueprint(health_bp)
    configure_release_notices(app)
    register_error_handlers(app)
    register_filters(app)
    add_security_headers(app)

    @app.context_processor
    def layout_context() -> dict:
        def main_menu():
            # Called by the template only where it shows the menu.
            if not current_user.is_authenticated:
                return []
            if current_user.role != "admin":
                return menu_for(current_user.role)
            return menu_for("admin", open_error_counts(utcnow()).by_endpoint)

        def help_url():
            # The Help link, shown once a help document for the user's role exists.
            if not current_user.is_authenticated:
                return None
            if not site.has_help(site.audience_of(current_user.role)):
                return None
            return url_for("home.help_document")

        return {
            "main_menu": main_menu,
            "help_url": help_url,
            "standard_message": site.standard_message,
            "organisation": app.config["ORGANISATION_NAME"],
            "public_website_url": app.config["PUBLIC_WEBSITE_URL"],
            "privacy_url": app.config["PRIVACY_URL"],
            "current_year": utcnow().year,
        }
