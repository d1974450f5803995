"""The "Users for NUMBER" table on a centre's page: shown with the page, add, New PIN, delete."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.models import Event, User
from tests.admin.test_centres import HTMX, events, post

USERS = {**HTMX, "HX-Target": "centre-users"}


def test_the_details_page_shows_the_users_itself(client, login_as, make_centre, make_user):
    """Rendered with the page, not loaded by a script: it works without JavaScript."""
    login_as("admin")
    centre = make_centre(number="IN301")
    make_user("centre", centre=centre, email="waiting@example.com", activated=False, pin="ABCD2345")
    page = client.get(f"/admin/centres/{centre.id}").get_data(as_text=True)
    assert '<h2 id="users-heading">Users for IN301</h2>' in page
    assert '<th scope="col">Email address</th><th scope="col">PIN</th>' in page
    assert '<strong class="pin">ABCD2345</strong>' in page
    assert "Loading..." not in page
    assert 'hx-trigger="load"' not in page


def test_users_fragment_shows_pin_or_activation_and_last_sign_in(
    client, login_as, make_centre, make_user
):
    login_as("admin")
    centre = make_centre(number="IN301", timezone="Asia/Kolkata")
    make_user("centre", centre=centre, email="waiting@example.com", activated=False, pin="ABCD2345")
    make_user(
        "centre",
        centre=centre,
        email="active@example.com",
        activated_at=datetime(2026, 5, 4, 9, 0, tzinfo=UTC),
        last_login_at=datetime(2026, 6, 1, 3, 30, tzinfo=UTC),
    )
    response = client.get(f"/admin/centres/{centre.id}/users", headers=USERS)
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert '<th scope="col">Email address</th><th scope="col">PIN</th>' in body
    waiting = body.split("waiting@example.com", 1)[1].split("</tr>", 1)[0]
    assert '<strong class="pin">ABCD2345</strong>' in waiting
    assert "Never" in waiting
    assert ">New PIN</button>" in waiting
    active = body.split("active@example.com", 1)[1].split("</tr>", 1)[0]
    assert "Activated 04 May 2026" in active
    assert "01 Jun 2026 03:30 UTC (09:00 Asia/Kolkata)" in active
    assert "New PIN" not in active


def test_users_without_javascript_is_a_whole_page(client, login_as, make_centre):
    login_as("admin")
    centre = make_centre(number="IN301")
    page = client.get(f"/admin/centres/{centre.id}/users").get_data(as_text=True)
    assert "<h1>Users for IN301</h1>" in page
    assert "IN301 has no users yet." in page


def test_adding_a_user_appends_the_row_with_its_pin(client, csrf_token, login_as, make_centre, db):
    admin = login_as("admin")
    centre = make_centre(number="IN301")
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users",
        {"email": "New.Officer@Example.com"},
        headers=USERS,
    )
    body = response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "new.officer@example.com"))
    assert response.status_code == 200
    assert "<html" not in body
    assert (
        f'Added new.officer@example.com. Their PIN is <strong class="pin">{user.pin}</strong>.'
        in body
    )
    assert f'<tr id="user-{user.id}">' in body
    assert 'name="email" required spellcheck="false" type="email" value=""' in body  # cleared
    [event] = events(db, "user.created")
    assert (event.actor_id, event.subject_id) == (admin.id, user.id)


def test_adding_without_javascript_returns_to_the_centre(client, csrf_token, login_as, make_centre):
    login_as("admin")
    centre = make_centre(number="IN301")
    response = post(
        client, csrf_token, f"/admin/centres/{centre.id}/users", {"email": "plain@example.com"}
    )
    assert response.headers["Location"] == f"/admin/centres/{centre.id}#users"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Added plain@example.com. Their PIN is in the PIN column below." in page


def test_add_errors_are_shown_by_the_field(
    client, csrf_token, login_as, make_centre, make_user, db
):
    login_as("admin")
    centre = make_centre()
    make_user("tp", email="taken@example.com")
    url = f"/admin/centres/{centre.id}/users"
    cases = {
        "": "Enter an email address.",
        "not an address": "“not an address” is not an email address",
        "TAKEN@example.com": 'That email address is already in use by <a href="/admin/users#staff-',
        "x" * 250 + "@example.com": "An email address has at most 254 characters.",
    }
    for email, message in cases.items():
        response = post(client, csrf_token, url, {"email": email}, headers=USERS)
        body = response.get_data(as_text=True)
        assert response.status_code == 422, email
        assert f'<small id="email-error" class="field-error">{message}' in body, email
        assert 'aria-invalid="true"' in body
    assert db.session.scalars(select(User).where(User.centre_id == centre.id)).all() == []


def test_an_address_in_use_says_where_and_links_there(
    client, csrf_token, login_as, make_centre, make_user, db
):
    login_as("admin")
    here, there = make_centre(number="GB101"), make_centre(number="IN301")
    holder = make_user("centre", email="officer@example.com", centre=there)
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{here.id}/users",
        {"email": "Officer@Example.com"},
        headers=USERS,
    )
    assert response.status_code == 422
    assert (
        "That email address is already in use at "
        f'<a href="/admin/centres/{there.id}#user-{holder.id}">IN301</a>.'
    ) in response.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.centre_id == here.id)).all() == []


def test_a_database_busy_while_adding_is_a_503_that_says_try_again(
    app, client, csrf_token, login_as, make_centre, monkeypatch, db
):
    login_as("admin")
    centre = make_centre()
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def locked(*args):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr("app.admin.centres.add_centre_user", locked)
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users",
        {"email": "a@example.com"},
        headers=USERS,
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Nothing was changed. Please try again in a moment." in response.get_data(as_text=True)


def test_new_pin_replaces_the_row(client, csrf_token, login_as, make_centre, make_user, db):
    login_as("admin")
    centre = make_centre()
    user = make_user("centre", centre=centre, activated=False, pin="ABCD2345")
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users/{user.id}/pin",
        {},
        headers={**HTMX, "HX-Target": f"user-{user.id}"},
    )
    body = response.get_data(as_text=True)
    stored = db.session.get(User, user.id)
    assert stored.pin != "ABCD2345"
    assert body.lstrip().startswith(f'<tr id="user-{user.id}">')
    assert f'<strong class="pin">{stored.pin}</strong> <small role="status">New PIN</small>' in body
    assert [e.subject_id for e in events(db, "user.pin_reset")] == [user.id]
    assert "ABCD2345" not in str([e.details for e in db.session.scalars(select(Event))])


def test_new_pin_is_refused_after_activation(client, csrf_token, login_as, make_centre, make_user):
    login_as("admin")
    centre = make_centre()
    user = make_user("centre", centre=centre)
    response = post(client, csrf_token, f"/admin/centres/{centre.id}/users/{user.id}/pin", {})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "has activated their account: there is no PIN to reset." in page


def test_delete_user_with_htmx_removes_the_row(
    client, csrf_token, login_as, make_centre, make_user, db
):
    login_as("admin")
    centre = make_centre()
    user_id = make_user("centre", centre=centre, email="gone@example.com").id
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users/{user_id}/delete",
        {},
        headers={**HTMX, "HX-Target": f"user-{user_id}"},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == (
        '<tr><td colspan="4"><small role="status">User gone@example.com deleted.</small></td></tr>'
    )
    assert db.session.get(User, user_id) is None
    assert db.session.get(type(centre), centre.id).deleted_at is None
    [event] = events(db, "user.deleted")
    assert event.details == {"email": "gone@example.com", "centre": centre.number}


def test_delete_user_without_javascript_asks_first(
    client, csrf_token, login_as, make_centre, make_user, db
):
    login_as("admin")
    centre = make_centre(number="IN301", name="Delhi")
    user_id = make_user("centre", centre=centre, email="gone@example.com").id
    page = client.get(f"/admin/centres/{centre.id}/users/{user_id}/delete").get_data(as_text=True)
    assert "<h1>Delete user gone@example.com?</h1>" in page
    assert "This deletes the user only, not centre IN301 – Delhi." in page
    response = post(client, csrf_token, f"/admin/centres/{centre.id}/users/{user_id}/delete", {})
    assert "User gone@example.com deleted." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert db.session.get(User, user_id) is None


def test_a_user_of_another_centre_is_not_found_here(
    client, csrf_token, login_as, make_centre, make_user, db
):
    login_as("admin")
    here, elsewhere = make_centre(), make_centre()
    user = make_user("centre", centre=elsewhere)
    response = post(client, csrf_token, f"/admin/centres/{here.id}/users/{user.id}/delete", {})
    assert response.status_code == 404
    assert db.session.get(User, user.id) is not None


def test_add_errors_without_javascript_show_the_whole_page(
    client, csrf_token, login_as, make_centre
):
    login_as("admin")
    centre = make_centre(number="IN301")
    response = post(client, csrf_token, f"/admin/centres/{centre.id}/users", {"email": "nope"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<h1>Users for IN301</h1>" in body
    assert "“nope” is not an email address" in body


def test_an_email_taken_at_the_same_moment_is_a_field_error(
    client, csrf_token, login_as, make_centre, make_user, monkeypatch, db
):
    login_as("admin")
    centre = make_centre()
    make_user("centre", email="raced@example.com")
    monkeypatch.setattr("app.services.accounts.users.refuse_duplicate_email", lambda email: None)
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users",
        {"email": "raced@example.com"},
        headers=USERS,
    )
    assert response.status_code == 422
    assert "That email address is already in use." in response.get_data(as_text=True)
    assert db.session.scalars(select(User).where(User.centre_id == centre.id)).all() == []


def test_new_pin_for_an_activated_user_with_htmx_says_why_in_the_row(
    client, csrf_token, login_as, make_centre, make_user
):
    login_as("admin")
    centre = make_centre()
    user = make_user("centre", centre=centre)
    response = post(
        client,
        csrf_token,
        f"/admin/centres/{centre.id}/users/{user.id}/pin",
        {},
        headers={**HTMX, "HX-Target": f"user-{user.id}"},
    )
    body = response.get_data(as_text=True)
    assert "<html" not in body and f'<tr id="user-{user.id}">' in body
    assert 'role="alert">' in body and "there is no PIN to reset" in body


def test_pins_never_travel_in_flash_messages(client, csrf_token, login_as, make_centre, db):
    login_as("admin")
    centre = make_centre()
    post(client, csrf_token, f"/admin/centres/{centre.id}/users", {"email": "x@example.com"})
    pin = db.session.scalar(select(User.pin).where(User.email == "x@example.com"))
    with client.session_transaction() as session:
        assert pin not in str(session.get("_flashes"))
