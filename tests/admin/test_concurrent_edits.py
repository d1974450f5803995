"""Two admins at once: no save overwrites another unseen, and a locked database is 'busy'.

Each admin has a client of their own (their own session); the tests run on
SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

import re

from sqlalchemy import select, text

from app.models import Centre, ServerError, User
from app.services.transactions import BEGIN_IMMEDIATE
from tests.conftest import csrf_token_of


def signed_in(app, user):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token
    return client


def centre_form(page: str) -> dict:
    """The centre form's fields as the page filled them in (what a browser would send)."""
    fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page))
    fields.update(re.findall(r'<input[^>]*id="(\w+)"[^>]*name="\w+"[^>]*value="([^"]*)"', page))
    for name in ("country", "timezone", "zone"):
        fields[name] = re.search(
            rf'<select id="{name}".*?<option value="([^"]*)" selected', page, re.S
        ).group(1)
    return {k: v for k, v in fields.items() if k in CENTRE_FIELDS}


CENTRE_FIELDS = {"number", "name", "country", "town", "timezone", "zone", "version"}


def save(client, centre, data):
    token = csrf_token_of(client, f"/admin/centres/{centre.id}")
    return client.post(
        f"/admin/centres/{centre.id}", data={**data, "action": "save", "csrf_token": token}
    )


def test_a_save_against_a_newer_version_is_refused_and_shows_the_centre_now(
    app, make_user, make_centre, db, clock
):
    centre = make_centre(number="GB101", name="Hillside Academy", town="London")
    alice = signed_in(app, make_user("admin", email="alice@board.example"))
    bob = signed_in(app, make_user("admin", email="bob@board.example"))
    alices_form = centre_form(alice.get(f"/admin/centres/{centre.id}").get_data(as_text=True))
    bobs_form = centre_form(bob.get(f"/admin/centres/{centre.id}").get_data(as_text=True))
    assert alices_form["version"] == bobs_form["version"] == "1"

    assert save(alice, centre, {**alices_form, "name": "Hillside College"}).status_code == 302
    response = save(bob, centre, {**bobs_form, "town": "Croydon"})

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert (
        "Centre GB101 was changed by alice@board.example at 01 Jun 2026 08:00 UTC since you "
        "opened it, so your changes were not saved." in page
    )
    assert 'value="Hillside College"' in page  # the centre as it is now
    assert '<th scope="row">Town</th><td>Croydon</td><td>London</td>' in page
    stored = db.session.get(Centre, centre.id)
    assert (stored.name, stored.town, stored.version) == ("Hillside College", "London", 2)

    # Bob saves again from the page he was shown: now it goes through.
    again = centre_form(page)
    assert again["version"] == "2"
    assert save(bob, centre, {**again, "town": "Croydon"}).status_code == 302
    stored = db.session.get(Centre, centre.id)
    assert (stored.name, stored.town) == ("Hillside College", "Croydon")


def test_a_role_change_against_a_newer_version_is_refused(app, make_user, db):
    producer = make_user("tp", email="producer@board.example")
    alice = signed_in(app, make_user("admin", email="alice@board.example"))
    bob = signed_in(app, make_user("admin", email="bob@board.example"))
    read_at = producer.version

    def change_role(client, role):
        token = csrf_token_of(client, "/")
        data = {"role": role, "version": read_at, "csrf_token": token}
        return client.post(f"/admin/users/{producer.id}/role", data=data)

    answers = [change_role(alice, "admin")]
    # Someone fails to sign in as the producer meanwhile: not a change to name.
    anyone = app.test_client()
    anyone.post(
        "/login",
        data={"username": producer.email, "password": "wrong", "csrf_token": csrf_token_of(anyone)},
    )
    answers.append(change_role(bob, "tp"))
    assert [answer.status_code for answer in answers] == [302, 422]
    assert "The account producer@board.example was changed by alice@board.example" in answers[
        1
    ].get_data(as_text=True)
    assert db.session.get(User, producer.id).role == "admin"


def hold_the_lock(engine, centre_id: int):
    """Another request in the middle of writing: SQLite's write lock, or the centre's row."""
    connection = engine.connect()
    if engine.dialect.name == "sqlite":
        connection = connection.execution_options(**{BEGIN_IMMEDIATE: True})
        connection.exec_driver_sql("SELECT 1")  # begins the transaction, with the write lock
    else:
        connection.execute(
            text("SELECT id FROM centres WHERE id = :id FOR UPDATE"), {"id": centre_id}
        )
    return connection


def test_a_request_that_cannot_get_the_lock_is_told_busy_not_a_500(
    make_app, make_user, make_centre, db
):
    app = make_app(PROPAGATE_EXCEPTIONS=False, DATABASE_LOCK_WAIT_MS=300)
    centre = make_centre(number="GB101", name="Hillside Academy")
    admin = signed_in(app, make_user("admin"))
    form = centre_form(admin.get(f"/admin/centres/{centre.id}").get_data(as_text=True))
    token = csrf_token_of(admin, "/")
    holder = hold_the_lock(db.engine, centre.id)
    try:
        response = admin.post(
            f"/admin/centres/{centre.id}",
            data={**form, "name": "Renamed", "action": "save", "csrf_token": token},
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Nothing was changed. Please try again in a moment." in response.get_data(as_text=True)
    assert db.session.scalar(select(Centre.name).where(Centre.id == centre.id)) == (
        "Hillside Academy"
    )
    assert db.session.scalars(select(ServerError)).all() == []  # not a fault

    # Once the other writer is done, the same save goes through.
    response = admin.post(
        f"/admin/centres/{centre.id}",
        data={**form, "name": "Renamed", "action": "save", "csrf_token": token},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Centre.name).where(Centre.id == centre.id)) == "Renamed"


def test_a_mangled_version_is_refused_as_a_conflict_not_a_hidden_error(
    app, make_user, make_centre, db
):
    centre = make_centre(number="GB101", name="Hillside Academy")
    admin = signed_in(app, make_user("admin"))
    form = centre_form(admin.get(f"/admin/centres/{centre.id}").get_data(as_text=True))
    response = save(admin, centre, {**form, "name": "Renamed", "version": "1x"})
    assert response.status_code == 409
    assert "Centre GB101 was changed" in response.get_data(as_text=True)
    assert db.session.get(Centre, centre.id).name == "Hillside Academy"
