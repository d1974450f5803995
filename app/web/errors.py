"""Friendly error pages; an unexpected error gets a reference that is also logged.

Every handler rolls the request's transaction back first: the failed request may
have left it broken (PostgreSQL refuses every statement after an error) or
holding SQLite's write lock, and the error page must not depend on it.
"""

import logging
import secrets
from pathlib import Path

from flask import Flask, current_app, g, render_template, request
from flask_login import AnonymousUserMixin, current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.services.server_errors import record_server_error
from app.services.transactions import is_lock_timeout, unique_violation
from app.web.access import sign_in_redirect_for_htmx
from app.web.htmx import is_htmx_fragment_request

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: (
        "You do not have access to this page",
        "Your account cannot open this page. If you think it should, contact support.",
    ),
    404: (
        "Page not found",
        "There is no page at this address. Check it, or use the menu to find what you need.",
    ),
    405: ("That action is not available here", "Please go back and use the page's buttons."),
    413: (
        "That upload is too large",
        "The file or form you sent is larger than this site accepts. Please send a smaller one.",
    ),
    429: (
        "Too many attempts",
        "You have tried this too many times in a short while. Please wait a minute and try again.",
    ),
}


BUSY_SECONDS = 5
BUSY = (
    "The portal is busy",
    "Another change is being saved right now (a large upload, perhaps), so yours could not "
    "be. Nothing was changed. Please try again in a moment.",
)
CLASH = (
    "Someone else changed this at the same moment",
    "Another change to the same records was saved while yours was being saved, so yours "
    "was not. Nothing was changed. Reload the page to see it as it is now, and try again.",
)


def error_spool(app: Flask) -> Path:
    """Where errors wait when the database cannot take them at once."""
    return Path(app.instance_path) / "unsaved-server-errors.jsonl"


def rollback_quietly() -> None:
    """End the request's transaction; a connection that is already gone is no matter."""
    try:
        db.session.rollback()
    except Exception:
        log.warning("rolling back after an error failed", exc_info=True)


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def new_error_reference() -> str:
    return secrets.token_hex(4).upper()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        rollback_quietly()
        if is_htmx_fragment_request():
            # htmx would show nothing for a 400. A signed-out browser (the session
            # expired, taking its token with it) goes to sign in; otherwise the
            # page is out of date and is reloaded with a fresh token.
            if not current_user.is_authenticated:
                return sign_in_redirect_for_htmx()
            response = app.response_class(status=400)
            response.headers["HX-Refresh"] = "true"
            return response
        return (
            render_template(
                "errors/error.html",
                code=400,
                title="This form has expired",
                message="The page was open too long or was sent without its security token. "
                "Please reload the page and try again.",
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        rollback_quietly()
        if error.code is None or error.code >= 500:
            return server_error(error, error.code or 500)
        title, message = MESSAGES.get(error.code, (error.name, error.description))
        # An error raised with words for the user (a malformed upload) says them.
        message = getattr(error, "portal_message", None) or message
        max_files = getattr(
            current_app.view_functions.get(request.endpoint or ""), "streams_files", None
        )
        if error.code == 413 and max_files:
            count = max_files()
            each = current_app.config["RESOURCE_MAX_MB"]
            files = "one file" if count == 1 else f"{count} files at a time"
            message = f"{message} This page accepts {files}, each at most {each} MB."
        elif error.code == 413 and request.max_content_length:
            message = f"{message} This page accepts at most {_size(request.max_content_length)}."
        response = app.make_response(
            (
                render_template("errors/error.html", code=error.code, title=title, message=message),
                error.code,
            )
        )
        # Keep what the exception says in headers: Retry-After (429), Allow (405).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    def refusal_page(code: int, title_and_message: tuple[str, str]):
        title, message = title_and_message
        if is_htmx_fragment_request():
            # htmx swaps nothing for an error status: app.js announces it.
            return app.response_class(message, code, mimetype="text/plain")
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(InternalServerError)
    def server_error(error, code: int = 500):
        rollback_quietly()
        if "_login_user" not in g:
            # Flask-Login's template context loads the user from the database,
            # which may be what just failed: render this page as anonymous.
            g._login_user = AnonymousUserMixin()
        original = getattr(error, "original_exception", None) or error
        if isinstance(original, OperationalError) and is_lock_timeout(original):
            # Not a fault: another writer held the lock for longer than we wait.
            log.warning("%s %s: the database stayed locked", request.method, request.path)
            response = app.make_response(refusal_page(503, BUSY))
            response.headers["Retry-After"] = str(BUSY_SECONDS)
            return response
        if isinstance(original, StaleDataError) or (
            isinstance(original, IntegrityError) and unique_violation(original)
        ):
            # Two requests raced past the same check: the database refused the second.
            log.warning("%s %s: %s", request.method, request.path, original)
            return refusal_page(409, CLASH)
        reference = new_error_reference()
        log.error(
            "Unexpected error, reference %s",
            reference,
            exc_info=(type(original), original, original.__traceback__),
        )
        user = g._login_user if g._login_user.is_authenticated else None
        record_server_error(
            reference,
            method=request.method,
            path=request.full_path.rstrip("?"),
            user=user,
            error=original,
            spool=error_spool(app),
        )
        return (
            render_template("errors/500.html", code=code, reference=reference),
            code,
        )
