"""Admin → Manage Centres: search, create, edit, delete and restore centres, and their users."""

from flask import abort, flash, redirect, render_template, request, url_for

from app.admin import bp
from app.admin.forms import (
    AddUserForm,
    CentreForm,
    account_error_message,
    centre_form_data,
    country_options,
    timezone_groups,
)
from app.admin.staff import account_page
from app.extensions import db
from app.models import Centre, User
from app.services.accounts.activation import send_activation_email
from app.services.accounts.addresses import AccountError
from app.services.accounts.users import add_centre_user, delete_centre_user, reset_pin
from app.services.centres.operations import (
    CentreSaved,
    create_centre,
    search_centres,
    soft_delete_centre,
    users_of_centre,
)
from app.services.centres.operations import save_centre as save_centre_details
from app.services.errors import DomainError, EditConflict
from app.services.geography import default_timezone
from app.services.transactions import changes
from app.web.access import allow
from app.web.htmx import (
    confirmation_page,
    fragment_or_redirect,
    render_page_or_fragment,
)
from app.web.outbox import account_mail

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
            with changes():
                centre = create_centre(form.details())
        except DomainError as error:
            form.number.errors.append(str(error))
        else:
            flash(f"Centre {centre.label} created.", "success")
            # The form posted to "...#create-centre-errors"; a redirect without a
            # fragment of its own would keep that one in the address bar.
            return redirect(url_for(".centre", centre_id=centre.id, _anchor="main"))
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
    return _centre_page(centre, CentreForm(formdata=None, data=centre_form_data(centre)))


def _centre_page(centre: Centre, form: CentreForm, status: int = 200, **context):
    return render_template(
        "admin/centre.html",
        centre=centre,
        pending_restore=form.restoring,
        **_form_context(form),
        **_users_context(centre),
        **context,
    ), status


def _stored_location(centre: Centre) -> tuple[str, str]:
    return centre.country, centre.timezone


@bp.route("/centres/<int:centre_id>", methods=["POST"])
@allow("admin")
def save_centre(centre_id: int):
    centre = _centre_or_404(centre_id)
    if request.form.get("action") == "undo_delete":
        return _pending_restore(centre)
    form = CentreForm(stored=_stored_location(centre))
    if form.validate_on_submit():
        try:
            with changes():
                saved = save_centre_details(
                    centre, form.details(), read_version=form.version.data, restore=form.restoring
                )
        except EditConflict as conflict:
            return _edit_conflict(centre, form, conflict)
        except DomainError as error:
            form.number.errors.append(str(error))
        else:
            flash(_saved_message(centre, saved), "success")
            return redirect(url_for(".centre", centre_id=centre.id))
    return _centre_page(centre, form, 422)


def _pending_restore(centre: Centre):
    """Undo Delete: nothing is stored yet; the banner changes, and Save restores the centre."""
    form = CentreForm()  # what was typed stays in the fields
    form.restore.data = "1"
    return render_page_or_fragment(
        "admin/centre.html",
        "admin/_centre_status.html",
        "centre-status",
        centre=centre,
        pending_restore=True,
        **_form_context(form),
        **_users_context(centre),
    )


def _edit_conflict(centre: Centre, yours: CentreForm, conflict: EditConflict):
    """The centre as it is now, the conflict explained, and where the admin's form differs
    from it (what they changed, and what the other save changed: we cannot tell which)."""
    current = CentreForm(formdata=None, data=centre_form_data(centre))
    typed = [
        (yours[name].label.text, yours[name].data, current[name].data)
        for name in ("number", "name", "country", "town", "timezone", "zone")
        if str(yours[name].data or "").strip() != str(current[name].data or "")
    ]
    return _centre_page(centre, current, 409, conflict=str(conflict), typed=typed)


def _saved_message(centre: Centre, saved: CentreSaved) -> str:
    if saved.restored:
        return f"Centre {centre.label} restored" + (" and saved." if saved.changes else ".")
    if not saved.changes:
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
    if form.validate_on_submit():
        try:
            with changes():
                user = add_centre_user(centre, form.email.data)
        except AccountError as error:
            form.email.errors.append(account_error_message(error, account_page))
        else:
            return _users_changed(
                centre, f"Added {user.email}. Their PIN is in the PIN column below.", added=user
            )
    return _users_response(centre, form, 422)


def _users_changed(centre: Centre, message: str, **context):
    """The users section after a change: re-rendered for htmx, else the centre's page.

    The message may travel in the session cookie (a flash), so it never holds a
    PIN: the table shows it.
    """
    return fragment_or_redirect(
        "admin/_users.html",
        url_for(".centre", centre_id=centre.id, _anchor="users"),
        message,
        centre=centre,
        users=users_of_centre(centre),
        form=AddUserForm(formdata=None),
        **context,
    )


def _row_or_redirect(centre: Centre, user: User, message: str, *, error: bool = False, **row):
    """One user's row after an action: re-rendered for htmx, else the centre's page."""
    return fragment_or_redirect(
        "admin/_user_row.html",
        url_for(".centre", centre_id=centre.id, _anchor="users"),
        message,
        category="error" if error else "success",
        centre=centre,
        user=user,
        **row,
    )


@bp.route("/centres/<int:centre_id>/users/<int:user_id>/pin", methods=["POST"])
@allow("admin")
def new_pin(centre_id: int, user_id: int):
    centre = _centre_or_404(centre_id)
    user = _user_of(centre, user_id)
    try:
        with changes():
            reset_pin(user)
    except AccountError as error:
        return _row_or_redirect(centre, user, str(error), error=True)
    # The PIN itself stays out of the message, which may travel in the session cookie.
    return _row_or_redirect(
        centre, user, f"{user.email} has a new PIN: see the PIN column below.", new_pin=True
    )


@bp.route("/centres/<int:centre_id>/users/<int:user_id>/activation-email", methods=["POST"])
@allow("admin")
def send_activation(centre_id: int, user_id: int):
    centre = _centre_or_404(centre_id)
    user = _user_of(centre, user_id)
    if user.activated_at is not None:
        return _row_or_redirect(
            centre, user, f"{user.email} has already activated their account.", error=True
        )
    send_activation_email(user, account_mail())
    return _row_or_redirect(centre, user, f"Activation email on its way to {user.email}.")


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
    delete_centre_user(user)
    return fragment_or_redirect(
        "admin/_user_deleted.html",  # the row becomes the message, announced
        url_for(".centre", centre_id=centre.id, _anchor="users"),
        f"User {user.email} deleted.",
    )
