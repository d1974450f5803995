"""Signing in and out through the sign-in page."""

import re

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.auth.routes import SIGN_IN_ERROR, SIGN_IN_FAILED
from app.models import Event, User
from app.services.accounts import passwords
from tests.conftest import PASSWORD


def sign_in(client, csrf_token, username, password=PASSWORD, **extra):
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    data.update(extra)
    return client.post("/login", data=data)


def without_csrf_tokens(body: str) -> str:
    body = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]+', r"\1", body)
    body = re.sub(r'(type="hidden" name="csrf_token" value=")[^"]+', r"\1", body)
    return re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", body)


def events(db, action):
    return list(db.session.scalars(select(Event).where(Event.action == action)))


def test_sign_in_page_has_the_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<label for="username">Username</label>' in page
    assert '<label for="password">Password</label>' in page
    assert 'value="Sign in"' in page


def test_success_signs_in_records_the_time_and_the_event(client, csrf_token, make_user, db, clock):
    user = make_user("admin")
    response = sign_in(client, csrf_token, user.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert f"Signed in as <strong>{user.email}</strong>" in home
    stored = db.session.get(User, user.id)
    assert stored.last_login_at == clock.now
    [event] = events(db, "login.succeeded")
    assert (event.actor_id, event.ip) == (user.id, "127.0.0.1")


def test_username_is_case_insensitive_and_trimmed(client, csrf_token, make_user):
    make_user("tp", email="mixed.case@example.com")
    response = sign_in(client, csrf_token, "  Mixed.Case@EXAMPLE.com ")
    assert response.status_code == 302
    assert "Signed in as <strong>mixed.case@example.com</strong>" in client.get("/").get_data(
        as_text=True
    )


def test_session_is_renewed_at_sign_in(client, csrf_token, make_user):
    user = make_user("admin")
    token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"username": user.email, "password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == user.session_token
        assert session.permanent


def test_every_credential_failure_looks_the_same(client, csrf_token, make_user, db, clock):
    active = make_user("centre")
    waiting = make_user("centre", activated=False)
    locked = make_user("centre", locked_until=clock.now.replace(year=2027), failed_logins=5)
    attempts = {
        "unknown_user": ("nobody@example.com", PASSWORD),
        "bad_password": (active.email, "not the password"),
        "not_activated": (waiting.email, PASSWORD),
        "locked": (locked.email, PASSWORD),
    }
    bodies = set()
    for reason, (username, password) in attempts.items():
        response = sign_in(client, csrf_token, username, password)
        assert response.status_code == 401, reason
        body = response.get_data(as_text=True)
        assert SIGN_IN_FAILED in body
        # Apart from the CSRF token and the username typed back, the pages are identical.
        bodies.add(without_csrf_tokens(body).replace(username, "USERNAME"))
    assert len(bodies) == 1
    logged = {e.details["reason"]: e for e in events(db, "login.failed")}
    assert set(logged) == set(attempts)
    # A failure is done *to* an account by somebody unknown: the account is the subject.
    assert all(event.actor_id is None for event in logged.values())
    assert logged["unknown_user"].subject_id is None
    assert (logged["bad_password"].subject_type, logged["bad_password"].subject_id) == (
        "User",
        active.id,
    )
    assert logged["locked"].ip == "127.0.0.1"
    for event in logged.values():
        assert "not the password" not in str(event.details)
        assert PASSWORD not in str(event.details)


def test_every_path_checks_exactly_one_password_hash(
    client, csrf_token, make_user, clock, monkeypatch
):
    """So the time a failure takes does not tell an outsider whether the account exists."""
    active = make_user("centre")
    waiting = make_user("centre", activated=False)
    locked = make_user("centre", locked_until=clock.now.replace(year=2027), failed_logins=5)
    checks = []
    real_verify = passwords._verify
    monkeypatch.setattr(
        passwords, "_verify", lambda hash_, pw: checks.append(hash_) or real_verify(hash_, pw)
    )
    for username, password in (
        ("nobody@example.com", PASSWORD),
        (active.email, "not the password"),
        (waiting.email, PASSWORD),
        (locked.email, PASSWORD),
        (active.email, PASSWORD),
    ):
        checks.clear()
        sign_in(client, csrf_token, username, password)
        assert len(checks) == 1, username


def test_a_failure_keeps_the_username_and_clears_the_password(client, csrf_token, make_user):
    user = make_user("admin")
    body = sign_in(client, csrf_token, user.email, "wrong password").get_data(as_text=True)
    assert f'value="{user.email}"' in body
    assert "wrong password" not in body


def test_next_on_this_site_is_followed(client, csrf_token, make_user):
    user = make_user("admin")
    response = sign_in(client, csrf_token, user.email, next="/?tab=figures")
    assert response.headers["Location"] == "/?tab=figures"


def test_anonymous_visit_is_sent_to_sign_in_and_back(client, csrf_token, make_user):
    user = make_user("admin")
    response = client.get("/?tab=figures")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/?tab%3Dfigures"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/?tab=figures"' in page
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "username": user.email,
            "password": PASSWORD,
            "next": "/?tab=figures",
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/?tab=figures"


def test_next_off_site_is_ignored(app, csrf_token, make_user):
    user = make_user("admin")
    for target in ("https://evil.example.net/", "//evil.example.net/", "/\\evil.example.net"):
        response = sign_in(app.test_client(), csrf_token, user.email, next=target)
        assert response.headers["Location"] == "/", target


def test_signed_in_user_visiting_sign_in_goes_home(client, login_as):
    login_as("tp")
    response = client.get("/login")
    assert (response.status_code, response.headers["Location"]) == (302, "/")


def test_sign_out_ends_the_session_even_for_a_copied_cookie(client, csrf_token, make_user, db, app):
    user = make_user("admin")
    sign_in(client, csrf_token, user.email)
    copied_cookie = client.get_cookie("portal_session").value
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.headers["Location"] == "/login"
    assert "You have signed out." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302

    thief = app.test_client()
    thief.set_cookie("portal_session", copied_cookie)
    assert thief.get("/").status_code == 302
    assert [e.actor_id for e in events(db, "logout")] == [user.id]


def test_sign_out_needs_a_post(client, login_as):
    login_as("admin")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_a_server_failure_shows_the_seed_message(client, csrf_token, make_user, monkeypatch):
    user = make_user("admin")

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr("app.auth.routes.sign_in", broken)
    response = sign_in(client, csrf_token, user.email)
    assert response.status_code == 503
    assert SIGN_IN_ERROR in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_over_long_fields_are_refused_before_any_work(client, csrf_token, db):
    response = sign_in(client, csrf_token, "a" * 300 + "@example.com", "x" * 2000)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A username has at most 254 characters." in body
    assert "A password has at most 1024 characters." in body
    assert events(db, "login.failed") == []


def test_empty_fields_say_what_is_missing(client, csrf_token):
    body = sign_in(client, csrf_token, "", "").get_data(as_text=True)
    assert "Enter your username (your email address)." in body
    assert "Enter your password." in body


def test_non_utf8_bytes_get_the_generic_answer(client, csrf_token, make_user, db):
    user = make_user("admin")
    token = csrf_token(client)
    body = (
        b"username=" + user.email.encode() + b"%FF%FE&password=%C3%28&csrf_token=" + token.encode()
    )
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert SIGN_IN_FAILED in response.get_data(as_text=True)
    assert db.session.get(User, user.id).last_login_at is None


def test_control_characters_in_the_username_are_refused_clearly(client, csrf_token, db):
    response = sign_in(client, csrf_token, "a\x00b@example.com")
    assert response.status_code == 400
    assert (
        "Username contains an invisible control character (U+0000), which is not allowed"
        in response.get_data(as_text=True)
    )
    assert events(db, "login.failed") == []


def test_a_wrong_csrf_token_is_refused(client, csrf_token, make_user, db):
    user = make_user("admin")
    csrf_token(client)  # the session has a token, but not this one
    response = client.post(
        "/login", data={"username": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert db.session.get(User, user.id).last_login_at is None


def test_sign_out_without_a_csrf_token_is_refused(client, login_as):
    login_as("admin")
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in


def test_missing_csrf_token_is_refused_and_changes_nothing(client, make_user, db):
    user = make_user("admin")
    response = client.post("/login", data={"username": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).last_login_at is None
    assert events(db, "login.succeeded") == []


def test_tampered_session_cookie_counts_as_signed_out(client, csrf_token, make_user):
    user = make_user("admin")
    sign_in(client, csrf_token, user.email)
    cookie = client.get_cookie("portal_session").value
    payload, rest = cookie.split(".", 1)
    client.set_cookie(
        "portal_session", payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_changing_the_session_token_ends_existing_sessions(client, login_as, db):
    user = login_as("admin")
    assert client.get("/").status_code == 200
    stored = db.session.get(User, user.id)
    stored.rotate_session_token()
    db.session.commit()
    assert client.get("/").status_code == 302


def test_a_password_typed_as_the_username_is_not_kept(client, csrf_token, db):
    sign_in(client, csrf_token, "violet harbour lantern 42", "violet harbour lantern 42")
    sign_in(client, csrf_token, "nobody@example.com", "x")
    kept = [e.details["username"] for e in events(db, "login.failed")]
    assert kept == ["(not an email address: 25 characters)", "nobody@example.com"]
