"""Admin → Manage Centres: search, create, edit, delete and restore centres, and their users."""

import logging

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.admin import bp
from app.admin.forms import (
    AddUserForm,
    CentreForm,
    centre_form_data,
    country_options,
    timezone_groups,
)
from app.extensions import db
from app.models import Centre, User
from app.services.accounts.activation import send_activation_email
from app.services.accounts.addresses import EMAIL_IN_USE, AccountError
from app.services.accounts.users import add_centre_user, delete_centre_user, reset_pin
from app.services.centres.operations import (
    CentreNumberTaken,
    create_centre,
    restore_centre,
    search_centres,
    soft_delete_centre,
    update_centre,
    users_of_centre,
)
from app.services.geography import default_timezone
from app.services.transactions import unique_violation
from app.web.access import allow
from app.web.htmx import confirmation_page, is_htmx_fragment_request, render_page_or_fragment
from app.web.outbox import account_mail

log = logging.getLogger(__name__)

ADD_USER_FAILED = "There was an error trying to add that email, please try again later."
QUERY_MAX = 200
ZONE_OPTIONS = [(str(zone), str(zone)) for zone in range(1, 7)]


def _centre_or_404(centre_id: int) -> Centre:
    return db.session.get(Centre, centre_id) or abort(404)


def _user_of(centre: Centre, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.centre_id != centre.id:
        abort(404)
    return user


def _form_context(form: CentreForm) -> dict:
    return {
        "form": form,
        "countries": country_options(),
        "timezone_groups": timezone_groups(form.country.data),
        "zone_options": ZONE_OPTIONS,
    }


def _users_context(centre: Centre) -> dict:
    """The users section of a centre's page, rendered with the page (no JavaScript needed)."""
    return {"users": users_of_centre(centre), "user_form": AddUserForm(formdata=None)}


@bp.route("/centres")
@allow("admin")
def centres():
    query = request.args.get("q", "")[:QUERY_MAX]
    include_deleted = request.args.get("deleted") == "1"
    return render_page_or_fragment(
        "admin/centres.html",
        "admin/_search_results.html",
        "search-results",
        query=query,
        include_deleted=include_deleted,
        result=search_centres(query, include_deleted=include_deleted),
        **_form_context(CentreForm(formdata=None)),
    )


@bp.route("/centres", methods=["POST"])
@allow("admin")
def create():
    form = CentreForm()
    if form.validate_on_submit():
        try:
            centre = create_centre(form.details())
            db.session.commit()
        except CentreNumberTaken as error:
            form.number.errors.append(str(error))
        except IntegrityError as error:
            _number_clash(form, error)
        else:
            flash(f"Centre {centre.label} created.", "success")
            return redirect(url_for(".centre", centre_id=centre.id))
    return render_template(
        "admin/centres.html",
        query="",
        include_deleted=False,
        result=search_centres(""),
        creating=True,
        **_form_context(form),
    ), 422


@bp.route("/centres/timezones")
@allow("admin")
def timezone_field():
    """The time zone list for the chosen country (htmx swaps it in when the country changes)."""
    country = request.args.get("country", "")
    form = CentreForm(
        formdata=None, data={"country": country, "timezone": default_timezone(country) or ""}
    )
    return render_template("admin/_timezone_field.html", **_form_context(form))


@bp.route("/centres/<int:centre_id>")
@allow("admin")
def centre(centre_id: int):
    centre = _centre_or_404(centre_id)
    form = CentreForm(formdata=None, data=centre_form_data(centre))
    return render_template(
        "admin/centre.html",
        centre=centre,
        pending_restore=False,
        **_form_context(form),
        **_users_context(centre),
    )


@bp.route("/centres/<int:centre_id>", methods=["POST"])
@allow("admin")
def save_centre(centre_id: int):
    centre = _centre_or_404(centre_id)
    form = CentreForm()
    if request.form.get("action") == "undo_delete":
        # Nothing is stored yet: the banner changes, and Save restores the centre.
        context = {"centre": centre, "pending_restore": True, **_form_context(form)}
        if is_htmx_fragment_request():
            return render_template("admin/_centre_status.html", **context)
        return render_template("admin/centre.html", **context, **_users_context(centre))
    if form.validate_on_submit():
        try:
            changes = update_centre(centre, form.details())
            restored = form.restore.data == "1" and centre.is_deleted
            if restored:
                restore_centre(centre)
            db.session.commit()
        except CentreNumberTaken as error:
            form.number.errors.append(str(error))
        except IntegrityError as error:
            _number_clash(form, error)
            centre = _centre_or_404(centre_id)
        else:
            flash(_saved_message(centre, changes, restored), "success")
            return redirect(url_for(".centre", centre_id=centre.id))
    pending = form.restore.data == "1"
    return render_template(
        "admin/centre.html",
        centre=centre,
        pending_restore=pending,
        **_form_context(form),
        **_users_context(centre),
    ), 422


def _number_clash(form: CentreForm, error: IntegrityError) -> None:
    """Another request took the number between our check and our write."""
    db.session.rollback()
    if unique_violation(error) != "centres.number":
        raise error
    form.number.errors.append(
        f"Centre number {form.number.data.strip().upper()} is already used by another centre."
    )


def _saved_message(centre: Centre, changes: dict, restored: bool) -> str:
    if restored:
        return f"Centre {centre.label} restored" + (" and saved." if changes else ".")
    if not changes:
        return "Nothing was changed."
    return f"Centre {centre.label} saved."


@bp.route("/centres/<int:centre_id>/delete", methods=["GET", "POST"])
@allow("admin")
def delete_centre(centre_id: int):
    centre = _centre_or_404(centre_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Delete centre {centre.label}?",
            message="The delete is a soft delete: users will be unable to see their release "
            "authorisations, and the centre will be flagged as deleted. This can be undone "
            "on the centre's details page.",
            action=url_for(".delete_centre", centre_id=centre.id),
            button="Delete centre",
            cancel=url_for(".centre", centre_id=centre.id),
        )
    soft_delete_centre(centre)
    db.session.commit()
    flash(f"Centre {centre.label} deleted.", "success")
    return redirect(url_for(".centre", centre_id=centre.id))


@bp.route("/centres/<int:centre_id>/users")
@allow("admin")
def centre_users(centre_id: int):
    centre = _centre_or_404(centre_id)
    return _users_response(centre, AddUserForm(formdata=None))


def _users_response(centre: Centre, form: AddUserForm, status: int = 200, **context):
    return render_page_or_fragment(
        "admin/centre_users.html",
        "admin/_users.html",
        "centre-users",
        centre=centre,
        users=users_of_centre(centre),
        form=form,
        **context,
    ), status


@bp.route("/centres/<int:centre_id>/users", methods=["POST"])
@allow("admin")
def add_user(centre_id: int):
    centre = _centre_or_404(centre_id)
    form = AddUserForm()
    if not form.validate_on_submit():
        return _users_response(centre, form, 422)
    try:
        user = add_centre_user(centre, form.email.data)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        form.email.errors.append(str(error))
        return _users_response(centre, form, 422)
    except IntegrityError as error:
        db.session.rollback()
        if unique_violation(error) != "users.email":
            raise
        form.email.errors.append(EMAIL_IN_USE)
        return _users_response(centre, form, 422)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("adding a user to centre %s failed", centre.number)
        form.email.errors.append(ADD_USER_FAILED)
        return _users_response(centre, form, 503)
    if not is_htmx_fragment_request():
        flash(f"Added {user.email}. Their PIN is in the PIN column below.", "success")
        return redirect(url_for(".centre", centre_id=centre.id, _anchor="users"))
    return _users_response(centre, AddUserForm(formdata=None), added=user)


@bp.route("/centres/<int:centre_id>/users/<int:user_id>/pin", methods=["POST"])
@allow("admin")
def new_pin(centre_id: int, user_id: int):
    centre = _centre_or_404(centre_id)
    user = _user_of(centre, user_id)
    try:
        reset_pin(user)
    except AccountError as error:
        if is_htmx_fragment_request():
            return render_template(
                "admin/_user_row.html", centre=centre, user=user, row_error=str(error)
            )
        flash(str(error), "error")
        return redirect(url_for(".centre", centre_id=centre.id))
    db.session.commit()
    if is_htmx_fragment_request():
        return render_template("admin/_user_row.html", centre=centre, user=user, new_pin=True)
    # The PIN itself stays out of the flash message, which travels in the session cookie.
    flash(f"{user.email} has a new PIN: see the PIN column below.", "success")
    return redirect(url_for(".centre", centre_id=centre.id, _anchor="users"))


@bp.route("/centres/<int:centre_id>/users/<int:user_id>/activation-email", methods=["POST"])
@allow("admin")
def send_activation(centre_id: int, user_id: int):
    centre = _centre_or_404(centre_id)
    user = _user_of(centre, user_id)
    if user.activated_at is not None:
        done, problem = None, f"{user.email} has already activated their account."
    else:
        send_activation_email(user, account_mail())
        db.session.commit()
        done, problem = f"Activation email on its way to {user.email}.", None
    if is_htmx_fragment_request():
        return render_template(
            "admin/_user_row.html", centre=centre, user=user, row_done=done, row_error=problem
        )
    flash(done or problem, "success" if done else "error")
    return redirect(url_for(".centre", centre_id=centre.id, _anchor="users"))


@bp.route("/centres/<int:centre_id>/users/<int:user_id>/delete", methods=["GET", "POST"])
@allow("admin")
def delete_user(centre_id: int, user_id: int):
    centre = _centre_or_404(centre_id)
    user = _user_of(centre, user_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Delete user {user.email}?",
            message=f"This deletes the user only, not centre {centre.label}.",
            action=url_for(".delete_user", centre_id=centre.id, user_id=user.id),
            button="Delete user",
            cancel=url_for(".centre", centre_id=centre.id),
        )
    email = user.email
    delete_centre_user(user)
    db.session.commit()
    if is_htmx_fragment_request():
        return ""  # htmx swaps the row for nothing
    flash(f"User {email} deleted.", "success")
    return redirect(url_for(".centre", centre_id=centre.id))
