"""The sign-in page's "New user" and "Existing user" panels, and the links they email.

The two request forms answer with the same words, status and page whether or
not the address is registered, so nobody can use them to learn who is.
"""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user

from app.auth import bp
from app.auth.forms import (
    ActivateForm,
    ActivationRequestForm,
    NewPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from app.extensions import db, limiter
from app.models import User
from app.services.accounts import passwords
from app.services.accounts.activation import (
    ActivationRefused,
    activate_account,
    format_lifetime,
    request_activation,
    request_reset,
    reset_password,
)
from app.services.accounts.password_policy import password_problem
from app.services.accounts.sign_in import normalise_email
from app.services.accounts.tokens import ACTIVATE, RESET, LinkCheck, check_link, signed_user_id
from app.services.transactions import release_transaction
from app.web.access import public
from app.web.htmx import is_htmx_fragment_request
from app.web.outbox import account_mail

ACTIVATION_SENT = (
    "If your email address matched a newly registered user in our system, "
    "you should receive an activation email within a few minutes."
)
ACTIVATION_EMPTY = "Enter your email address above and click Activate Account."
RESET_SENT = (
    "If your username matched a registered user in our system, you should receive an "
    "email within a few minutes. If you have any further problems, please contact support."
)
RESET_EMPTY = "Enter your username above and click Reset Password."
PIN_VOID = (
    "The PIN for this account no longer works because it was typed wrongly too many times. "
    "Ask {organisation} for a new PIN, then open this link again."
)


def _ip_limit() -> str:
    return current_app.config["ACCOUNT_EMAIL_RATE_LIMIT"]


def _address_limit() -> str:
    return current_app.config["ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT"]


def _activation_limit() -> str:
    return current_app.config["ACTIVATION_RATE_LIMIT"]


def _typed(field: str):
    """The per-address rate-limit key for a form whose address is in `field`
    (each form reads only its own field: another one cannot dodge the limit)."""

    def key() -> str:
        return "address:" + normalise_email(request.form.get(field, ""))[:254]

    def empty() -> bool:
        return not request.form.get(field, "").strip()

    return key, empty


_activation_address, _no_activation_address = _typed("activate-email")
_reset_address, _no_reset_address = _typed("reset-username")


def _account_of_link(purpose: str):
    """The per-account rate-limit key of a link page: the account a genuinely signed
    link is for. Links with a bad signature are not counted against anyone (their
    payload could be forged to use up somebody else's tries)."""

    def account() -> int | None:
        token = (request.view_args or {}).get("token", "")
        return signed_user_id(token, purpose, secret_key=current_app.config["SECRET_KEY"])

    def key() -> str:
        return f"account:{account()}"

    def not_genuine() -> bool:
        return account() is None

    return key, not_genuine


_activation_account, _forged_activation_link = _account_of_link(ACTIVATE)
_reset_account, _forged_reset_link = _account_of_link(RESET)


_PANELS = {
    "new-user-form": "auth/_new_user.html",
    "existing-user-form": "auth/_existing_user.html",
}


def login_page(status: int = 200, **context):
    """The sign-in page with its two panels; an htmx request from a panel gets that panel."""
    context.setdefault("form", SignInForm(formdata=None))
    context.setdefault("activation_form", ActivationRequestForm(formdata=None, prefix="activate"))
    context.setdefault("reset_form", ResetRequestForm(formdata=None, prefix="reset"))
    target = request.htmx.target if is_htmx_fragment_request() else None
    if target in _PANELS:
        return render_template(_PANELS[target], fragment=True, **context), status
    return render_template("auth/login.html", **context), status


def _request_form(form_class, prefix: str, field_name: str, empty: str, sent: str, send, panel):
    """Answer one of the two panels: the same words whether or not an email was queued."""
    form = form_class(prefix=prefix)
    field = form[field_name]
    if not form.validate_on_submit():
        return login_page(422, **{f"{panel}_form": form})
    if not (field.data or "").strip():
        field.errors.append(empty)
        return login_page(422, **{f"{panel}_form": form})
    send(field.data, account_mail())
    # A fresh, empty form: the answer must not differ by what was typed.
    blank = form_class(formdata=None, prefix=prefix)
    return login_page(200, **{f"{panel}_form": blank, f"{panel}_message": sent})


@bp.route("/activate", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_address_limit, key_func=_activation_address, exempt_when=_no_activation_address)
@public
def request_activation_email():
    return _request_form(
        ActivationRequestForm,
        "activate",
        "email",
        ACTIVATION_EMPTY,
        ACTIVATION_SENT,
        request_activation,
        "activation",
    )


@bp.route("/reset", methods=["POST"])
@limiter.limit(_ip_limit)
@limiter.limit(_address_limit, key_func=_reset_address, exempt_when=_no_reset_address)
@public
def request_password_reset():
    return _request_form(
        ResetRequestForm, "reset", "username", RESET_EMPTY, RESET_SENT, request_reset, "reset"
    )


def _check(token: str, purpose: str) -> LinkCheck:
    mail = account_mail()
    return check_link(token, purpose, secret_key=mail.secret_key, lifetime=mail.lifetime(purpose))


def _link_dead(purpose: str, *, expired: bool = False):
    """Why the link does not work, and the form to ask for a new one. It names no
    account: an expired link is ours, but whoever holds it may not be its owner."""
    return render_template(
        "auth/link_dead.html",
        purpose=purpose,
        expired=expired,
        lifetime=format_lifetime(account_mail().lifetime(purpose)),
        activation_form=ActivationRequestForm(formdata=None, prefix="activate"),
        reset_form=ResetRequestForm(formdata=None, prefix="reset"),
    ), 404


def _pin_void():
    message = PIN_VOID.format(organisation=current_app.config["ORGANISATION_NAME"])
    return render_template("auth/pin_void.html", message=message), 403


def _acceptable(form, email: str, *, needs_pin: bool = False) -> bool:
    """Whether the form can be acted on; if not, each field says why. Estimating the
    password's strength can take most of a second: call it holding no lock."""
    if not form.validate_on_submit():
        return False
    if needs_pin and not (form.pin.data or "").strip():
        form.pin.errors.append("Enter the PIN your centre was given.")
        return False
    problem = password_problem(
        form.password.data,
        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
        email=email,
        organisation=current_app.config["ORGANISATION_NAME"],
    )
    if problem:
        form.password.errors.append(problem)
        return False
    return True


def _signed_in_fresh(user: User, message: str):
    """Sign the user in with a new session (nothing from before is carried into it),
    and take them Home with `message`."""
    session.clear()
    session.permanent = True
    login_user(user)
    flash(message, "success")
    return redirect(url_for("home.index"))


ACTIVATION_DONE = (
    "Your account is active and you are signed in. From now on, sign in with your "
    "email address and the password you chose."
)
RESET_DONE = (
    "Your password has been changed and you are signed in. "
    "Any other sessions of yours have been signed out."
)


def _activation_refused(refusal: ActivationRefused, page: dict, user_id: int):
    """Why the activation was refused: the PIN void, the PIN wrong, or the link used."""
    if refusal.reason == "pin_void":
        return _pin_void()
    if refusal.reason == "wrong_pin":
        page["form"].pin.errors.append(refusal.message)
        page["user"] = db.session.get(User, user_id)
        return render_template("auth/activate.html", **page), 422
    return _link_dead(ACTIVATE)


@bp.route("/activate/<token>", methods=["GET", "POST"])
@limiter.limit(_activation_limit, methods=["POST"])
@limiter.limit(
    _activation_limit,
    methods=["POST"],
    key_func=_activation_account,
    exempt_when=_forged_activation_link,
)
@public
def activate(token: str):
    link = _check(token, ACTIVATE)
    if link.user is None:
        return _link_dead(ACTIVATE, expired=link.expired)
    user, needs_pin = link.user, link.user.role == "centre"
    if needs_pin and user.pin is None:
        return _pin_void()
    form = ActivateForm()
    page = {"form": form, "user": user, "needs_pin": needs_pin}
    if request.method == "GET":
        return render_template("auth/activate.html", **page)
    user_id, email = user.id, user.email
    release_transaction()  # no lock is held while the password is estimated and hashed
    if not _acceptable(form, email, needs_pin=needs_pin):
        return render_template("auth/activate.html", **page), 422
    password_hash = passwords.hash_password(form.password.data)
    try:
        user = activate_account(user_id, pin=form.pin.data, password_hash=password_hash)
    except ActivationRefused as refusal:
        return _activation_refused(refusal, page, user_id)
    return _signed_in_fresh(user, ACTIVATION_DONE)


@bp.route("/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
@limiter.limit(_activation_limit, methods=["POST"])
@limiter.limit(
    _activation_limit, methods=["POST"], key_func=_reset_account, exempt_when=_forged_reset_link
)
@public
def reset_password_page(token: str):
    link = _check(token, RESET)
    if link.user is None:
        return _link_dead(RESET, expired=link.expired)
    user = link.user
    form = NewPasswordForm()
    if request.method == "GET":
        return render_template("auth/reset.html", form=form, user=user)
    user_id, old_hash, email = user.id, user.password_hash, user.email
    release_transaction()  # no lock is held while the password is estimated and hashed
    if not _acceptable(form, email):
        return render_template("auth/reset.html", form=form, user=user), 422
    password_hash = passwords.hash_password(form.password.data)
    try:
        user = reset_password(user_id, old_password_hash=old_hash, password_hash=password_hash)
    except ActivationRefused:
        return _link_dead(RESET)
    return _signed_in_fresh(user, RESET_DONE)
