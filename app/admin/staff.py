"""Admin → Users: the board's staff accounts (Admin and Admin - TP)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import InviteStaffForm, RoleForm, account_error_message
from app.extensions import db
from app.models import User
from app.models.user import ROLE_LABELS
from app.services import clock
from app.services.accounts.activation import send_activation_email
from app.services.accounts.addresses import AccountError
from app.services.accounts.users import (
    change_role,
    delete_staff,
    invite_staff,
    staff_accounts,
    unlock,
)
from app.services.errors import DomainError
from app.services.transactions import changes
from app.web.access import allow
from app.web.htmx import confirmation_page
from app.web.outbox import account_mail

ROLE_REFUSED = "Choose Admin or Admin - TP."


def account_page(user: User) -> str:
    """Where an admin sees an account: its row on Users, or on its centre's page."""
    if user.centre_id is None:
        return url_for(".users", _anchor=f"staff-{user.id}")
    return url_for(".centre", centre_id=user.centre_id, _anchor=f"user-{user.id}")


def _staff_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role == "centre":
        abort(404)
    return user


def _page(form: InviteStaffForm, status: int = 200, role_error=None):
    return render_template(
        "admin/users.html",
        staff=staff_accounts(),
        form=form,
        role_form=RoleForm(formdata=None),
        role_error=role_error,
        now=clock.utcnow(),
    ), status


def _role_refused(user_id: int, message: str):
    """The page again, saying why in its error summary and beside the user's role."""
    return _page(InviteStaffForm(formdata=None), 422, {"user_id": user_id, "message": message})


@bp.route("/users")
@allow("admin")
def users():
    return _page(InviteStaffForm(formdata=None))


@bp.route("/users", methods=["POST"])
@allow("admin")
def invite():
    form = InviteStaffForm()
    if form.validate_on_submit():
        try:
            with changes():
                user = invite_staff(form.email.data, form.role.data)
                send_activation_email(user, account_mail())
        except AccountError as error:
            form.email.errors.append(account_error_message(error, account_page))
        else:
            flash(
                f"Added {user.email} as {ROLE_LABELS[user.role]} and emailed them an invitation. "
                "They can sign in once they have activated the account.",
                "success",
            )
            # The form posted to "...#invite-errors": replace that fragment (see create()).
            return redirect(url_for(".users", _anchor="main"))
    return _page(form, 422)


def _act(action, done: str):
    """Run a staff action for the signed-in admin; flash what happened or why not."""
    try:
        with changes():
            action()
    except DomainError as error:
        flash(str(error), "error")
    else:
        flash(done, "success")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@allow("admin")
def set_role(user_id: int):
    user = _staff_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _role_refused(user.id, ROLE_REFUSED)
    role = form.role.data
    try:
        with changes():
            change_role(user, role, by=current_user, read_version=form.version.data)
    except DomainError as error:
        return _role_refused(user.id, str(error))
    flash(f"{user.email} is now {ROLE_LABELS[role]}.", "success")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@allow("admin")
def unlock_user(user_id: int):
    user = _staff_or_404(user_id)
    return _act(lambda: unlock(user), f"{user.email} can sign in again straight away.")


@bp.route("/users/<int:user_id>/invitation", methods=["POST"])
@allow("admin")
def resend_invitation(user_id: int):
    user = _staff_or_404(user_id)
    if user.activated_at is not None:
        flash(f"{user.email} has already activated their account.", "error")
        return redirect(url_for(".users"))
    return _act(
        lambda: send_activation_email(user, account_mail()),
        f"Invitation on its way to {user.email}.",
    )


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
@allow("admin")
def delete_staff_account(user_id: int):
    user = _staff_or_404(user_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Delete {user.email}?",
            message=f"{user.email} ({ROLE_LABELS[user.role]}) will no longer be able to sign in. "
            "Their entries in the Event Logs stay.",
            action=url_for(".delete_staff_account", user_id=user.id),
            button="Delete account",
            cancel=url_for(".users"),
        )
    email = user.email
    return _act(lambda: delete_staff(user, by=current_user), f"{email} deleted.")
