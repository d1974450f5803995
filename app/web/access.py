"""Who may open which page: one guard in front of every route.

Each view declares its audience with `@allow(...)` or `@public`. The guard runs
before every request and refuses any endpoint that declares nothing, so a route
added without a declaration is closed, not open.
"""

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.models import ROLES
from app.web.htmx import is_htmx_fragment_request

log = logging.getLogger(__name__)

PUBLIC = "public"
SIGNED_IN = frozenset(ROLES)


def allow(*roles: str) -> Callable:
    """Let signed-in users with one of these roles use the view."""
    unknown = set(roles) - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"allow() needs known roles, got {roles!r}")

    def decorate(view: Callable) -> Callable:
        view.access = frozenset(roles)
        return view

    return decorate


def public(view: Callable) -> Callable:
    """Let anyone, signed in or not, use the view."""
    view.access = PUBLIC
    return view


def access_of(endpoint: str) -> frozenset[str] | str | None:
    """The declared audience of an endpoint, or None when it declares none."""
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access", None)


def guard_request():
    """before_request hook: send anonymous users to sign in, refuse wrong roles."""
    if request.endpoint is None:  # no route matched: let the 404/405 through
        return None
    access = access_of(request.endpoint)
    if access == PUBLIC:
        return None
    if access is None:
        log.error("endpoint %s declares no access rule; refusing it", request.endpoint)
        abort(403)
    if not current_user.is_authenticated:
        return _send_to_sign_in()
    if current_user.role not in access:
        abort(403)
    return None


def sign_in_redirect_for_htmx():
    """A sign-in page swapped into a table cell helps nobody: ask htmx to navigate
    the whole window, coming back to the page the user was on."""
    response = current_app.response_class(status=401)
    response.headers["HX-Redirect"] = url_for("auth.login", next=_htmx_current_path())
    return response


def _send_to_sign_in():
    if is_htmx_fragment_request():
        return sign_in_redirect_for_htmx()
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=next_path))


def _htmx_current_path() -> str | None:
    current = request.headers.get("HX-Current-URL")
    if not current:
        return None
    try:
        parts = urlsplit(current)
    except ValueError:  # a malformed header: sign in, and come back to Home
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
