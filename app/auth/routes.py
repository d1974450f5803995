import logging

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from app.auth import bp
from app.auth.accounts import login_page
from app.auth.forms import SignInForm
from app.extensions import db, limiter
from app.services import clock
from app.services.accounts.sign_in import sign_in
from app.services.audit import record_event
from app.web.access import SIGNED_IN, allow, public
from app.web.urls import safe_next_path

log = logging.getLogger(__name__)

SIGN_IN_FAILED = (
    "Your username or password is not right, or your account is not active yet. "
    "Check them and try again; after several failed tries, wait a few minutes first."
)
SIGN_IN_ERROR = "Error logging in, please try again later."


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@public
def login():
    form = SignInForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(url_for("home.index"))
        form.next.data = safe_next_path(request.args.get("next"))
    if not form.validate_on_submit():
        return login_page(400 if form.errors else 200, form=form)

    try:
        attempt = sign_in(form.username.data, form.password.data, now=clock.utcnow())
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("sign-in failed on the server side")
        flash(SIGN_IN_ERROR, "error")
        return login_page(503, form=form)
    if not attempt.succeeded:
        flash(SIGN_IN_FAILED, "error")
        return login_page(401, form=form)

    # A fresh session: nothing from before sign-in is carried into it.
    session.clear()
    session.permanent = True
    login_user(attempt.user)
    return redirect(safe_next_path(form.next.data) or url_for("home.index"))


@bp.route("/logout", methods=["POST"])
@allow(*SIGNED_IN)
def logout():
    user = current_user._get_current_object()
    # Rotating the token ends this session everywhere, even if a copy of the
    # cookie survives somewhere.
    user.rotate_session_token()
    record_event("logout")
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
