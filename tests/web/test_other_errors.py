"""Errors → Other Errors: unexpected server errors, found by the reference users see."""

import json
import re

from sqlalchemy import select

from app.models import ServerError, User
from app.services.server_errors import store_spooled_errors
from app.services.transactions import BEGIN_IMMEDIATE
from app.web.access import allow
from app.web.errors import error_spool
from tests.conftest import csrf_token_of


def broken_app(make_app, **config):
    app = make_app(PROPAGATE_EXCEPTIONS=False, **config)

    def broken():
        raise RuntimeError("the centre list could not be sorted")

    app.add_url_rule("/broken", "broken", allow("admin", "centre")(broken), methods=["GET", "POST"])
    return app


def sign_in(client, user):
    with client.session_transaction() as session:
        session["_user_id"] = user.session_token


def test_an_unexpected_error_is_kept_with_the_reference_the_user_saw(make_app, make_user, db):
    app = broken_app(make_app)
    client = app.test_client()
    officer = make_user("centre", email="officer@x.example")
    sign_in(client, officer)
    body = client.get("/broken?page=2").get_data(as_text=True)
    reference = re.search(r'<strong class="reference">([0-9A-F]{8})</strong>', body).group(1)
    stored = db.session.scalar(select(ServerError))
    assert (stored.reference, stored.method, stored.path) == (reference, "GET", "/broken?page=2")
    assert (stored.user_id, stored.user_email) == (officer.id, "officer@x.example")
    assert stored.error_type == "builtins.RuntimeError"
    assert stored.message == "the centre list could not be sorted"
    assert "raise RuntimeError" in stored.traceback


def test_a_failed_post_is_kept_too(make_app, make_user, db, csrf_token):
    """A POST holds SQLite's write lock until it ends: the record must not wait for it."""
    app = broken_app(make_app)
    client = app.test_client()
    sign_in(client, make_user("admin"))
    token = csrf_token(client, "/")
    assert client.post("/broken", data={"csrf_token": token}).status_code == 500
    assert db.session.scalar(select(ServerError.method)) == "POST"


def test_admins_find_an_error_by_its_reference(make_app, make_user, client, login_as, db):
    app = broken_app(make_app)
    other = app.test_client()
    sign_in(other, make_user("admin"))
    references = [
        re.search(
            r'class="reference">([0-9A-F]{8})<', other.get("/broken").get_data(as_text=True)
        ).group(1)
        for _ in range(2)
    ]
    login_as("admin")
    page = client.get("/errors/other").get_data(as_text=True)
    assert all(f'<td class="reference">{r}</td>' in page for r in references)
    assert "RuntimeError: the centre list could not be sorted" in page
    found = client.get(f"/errors/other?reference={references[0].lower()}").get_data(as_text=True)
    assert f'<td class="reference">{references[0]}</td>' in found
    assert found.count('<td class="reference">') == 1  # the full reference finds one
    missing = client.get("/errors/other?reference=ZZZZZZZZ").get_data(as_text=True)
    assert "No error has the reference “ZZZZZZZZ”." in missing


def test_empty_state(client, login_as):
    login_as("admin")
    assert "No unexpected errors have been recorded." in client.get("/errors/other").get_data(
        as_text=True
    )


def test_a_flood_of_errors_keeps_only_the_latest(make_app, make_user, db, monkeypatch):
    monkeypatch.setattr("app.services.server_errors.KEPT", 3)
    app = broken_app(make_app)
    client = app.test_client()
    sign_in(client, make_user("admin"))
    references = [
        re.search(
            r'class="reference">([0-9A-F]{8})<', client.get("/broken").get_data(as_text=True)
        ).group(1)
        for _ in range(5)
    ]
    kept = db.session.scalars(select(ServerError.reference).order_by(ServerError.id)).all()
    assert kept == references[-3:]


def test_an_error_while_another_request_holds_the_lock_is_spooled_then_listed(
    make_app, make_user, client, login_as, db
):
    """The error record must not need the lock the busy database holds: it waits a
    moment, then goes to a spool file that Other Errors stores when next opened."""
    app = broken_app(make_app, DATABASE_LOCK_WAIT_MS=300)
    other = app.test_client()
    sign_in(other, make_user("centre"))
    other.get("/")  # the user is loaded before the lock is taken
    holder = db.engine.connect()
    if holder.dialect.name == "sqlite":
        holder = holder.execution_options(**{BEGIN_IMMEDIATE: True})
        holder.exec_driver_sql("SELECT 1")
    else:
        holder.exec_driver_sql("LOCK TABLE server_errors IN EXCLUSIVE MODE")
    try:
        page = other.get("/broken").get_data(as_text=True)
    finally:
        holder.rollback()
        holder.close()
    reference = re.search(r'class="reference">([0-9A-F]{8})<', page).group(1)
    spool = error_spool(app)
    assert db.session.scalars(select(ServerError)).all() == []
    assert reference in spool.read_text(encoding="utf-8")

    login_as("admin")
    listed = client.get("/errors/other").get_data(as_text=True)
    assert f'<td class="reference">{reference}</td>' in listed
    assert not spool.exists()
    assert db.session.scalar(select(ServerError.reference)) == reference


def test_a_race_is_a_409_but_another_integrity_error_is_a_bug_with_a_reference(
    make_app, make_user, db
):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def raced():
        db.session.add(User(email="raced@example.com", role="tp"))
        db.session.add(User(email="raced@example.com", role="tp"))
        db.session.flush()

    def buggy():
        db.session.add(User(email="no-centre@example.com", role="centre"))
        db.session.flush()

    for name, view in (("raced", raced), ("buggy", buggy)):
        app.add_url_rule(f"/{name}", name, allow("admin")(view), methods=["POST"])
    client = app.test_client()
    sign_in(client, make_user("admin"))
    token = csrf_token_of(client, "/")
    raced_page = client.post("/raced", data={"csrf_token": token})
    assert raced_page.status_code == 409
    assert "Someone else changed this at the same moment" in raced_page.get_data(as_text=True)
    assert db.session.scalars(select(ServerError)).all() == []
    buggy_page = client.post("/buggy", data={"csrf_token": token})
    assert buggy_page.status_code == 500
    assert db.session.scalar(select(ServerError.error_type)) == "sqlalchemy.exc.IntegrityError"


def test_spooled_errors_that_cannot_be_stored_yet_wait_for_the_next_time(
    app, make_user, client, login_as, db, monkeypatch, tmp_path
):
    spool = tmp_path / "unsaved-server-errors.jsonl"
    row = {"at": "2026-06-01T08:00:00+00:00", "reference": "ABCD1234", "method": "GET",
           "path": "/x", "user_id": None, "user_email": None, "error_type": "E",
           "message": "m", "traceback": "t"}  # fmt: skip
    spool.write_text(json.dumps(row) + "\n")

    def down(rows, **kwargs):
        raise OSError("the database is still busy")

    monkeypatch.setattr("app.services.server_errors._store", down)
    assert store_spooled_errors(spool) == 0
    spool.write_text(json.dumps({**row, "reference": "EFGH5678"}) + "\n")  # a new one
    assert store_spooled_errors(spool) == 0
    monkeypatch.undo()
    assert store_spooled_errors(spool) == 2
    stored = db.session.scalars(select(ServerError.reference).order_by(ServerError.reference))
    assert stored.all() == ["ABCD1234", "EFGH5678"]
    assert list(tmp_path.iterdir()) == []
