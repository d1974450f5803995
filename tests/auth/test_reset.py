"""Existing user: asking for a password reset, and choosing a new password by the link."""

import html

import pytest
from sqlalchemy import select

from app.auth.accounts import RESET_EMPTY, RESET_SENT
from app.models import Event, OutboxMessage, User
from app.services.accounts import passwords
from app.services.accounts.password_policy import password_problem
from tests.auth.test_login import sign_in, without_csrf_tokens
from tests.conftest import PASSWORD, csrf_token_of

NEW_PASSWORD = "quiet meadow under snow"


def ask_to_reset(client, csrf_token, username):
    return client.post(
        "/reset", data={"reset-username": username, "csrf_token": csrf_token(client)}
    )


def choose(client, path, password=NEW_PASSWORD, confirm=None):
    data = {"password": password, "confirm": password if confirm is None else confirm}
    return client.post(path, data={**data, "csrf_token": csrf_token_of(client, path)})


def reset_link(smtp_server, client, csrf_token, user):
    assert ask_to_reset(client, csrf_token, user.email).status_code == 200
    [message] = smtp_server.to(user.email)
    return smtp_server.link_path(message)


def test_a_user_resets_a_forgotten_password(
    mail_client, mail_app, smtp_server, csrf_token, make_user, db, clock
):
    user = make_user("centre", email="officer@example.org")
    other_session = mail_app.test_client()
    assert sign_in(other_session, csrf_token, user.email).status_code == 302

    path = reset_link(smtp_server, mail_client, csrf_token, user)
    [message] = smtp_server.messages
    assert message["Subject"] == "Reset your Example Exam Board secure portal password"
    assert "stops working at 1 June 2026 09:00 UTC" in message.get_content()  # one hour
    assert "Choose a new password" in mail_client.get(path).get_data(as_text=True)

    response = choose(mail_client, path)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = mail_client.get("/").get_data(as_text=True)
    assert "Your password has been changed and you are signed in." in home
    assert "Signed in as <strong>officer@example.org</strong>" in home

    stored = db.session.get(User, user.id)
    assert passwords.verify_password(stored.password_hash, NEW_PASSWORD)
    [event] = db.session.scalars(select(Event).where(Event.action == "account.password_reset"))
    assert event.actor_id == user.id
    # The other session has ended; the old password no longer signs in, the new one does.
    assert other_session.get("/").status_code == 302
    fresh = mail_app.test_client()
    assert sign_in(fresh, csrf_token, user.email, PASSWORD).status_code == 401
    assert sign_in(fresh, csrf_token, user.email, NEW_PASSWORD).status_code == 302
    # The link worked once.
    again = mail_client.get(path)
    assert again.status_code == 404
    assert "This link is not valid, or has already been used" in again.get_data(as_text=True)


def test_a_reset_link_expires_after_an_hour(mail_client, smtp_server, csrf_token, make_user, clock):
    user = make_user("tp")
    path = reset_link(smtp_server, mail_client, csrf_token, user)
    clock.advance(hours=1, seconds=1)
    page = mail_client.get(path)
    assert page.status_code == 404
    assert "This link has expired: links work for 1 hour." in page.get_data(as_text=True)
    assert choose(mail_client, path).status_code == 404


def test_a_reset_link_dies_when_the_password_changes_another_way(
    mail_client, smtp_server, csrf_token, make_user, db
):
    user = make_user("tp")
    first = reset_link(smtp_server, mail_client, csrf_token, user)
    smtp_server.messages.clear()
    second = reset_link(smtp_server, mail_client, csrf_token, user)
    assert choose(mail_client, second).status_code == 302
    assert choose(mail_client, first, password="another long password").status_code == 404
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)


@pytest.mark.parametrize(
    "username", ["active@example.org", "nobody@example.org", "new@example.org"]
)
def test_the_answer_never_tells_who_is_registered(client, csrf_token, make_user, db, username):
    make_user("centre", email="active@example.org")
    make_user("centre", activated=False, email="new@example.org")
    baseline = ask_to_reset(client, csrf_token, "nobody@example.org")
    response = ask_to_reset(client, csrf_token, username)
    assert response.status_code == baseline.status_code == 200
    body = response.get_data(as_text=True)
    assert without_csrf_tokens(body) == without_csrf_tokens(baseline.get_data(as_text=True))
    assert RESET_SENT in body
    queued = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert queued == (["active@example.org"] if username == "active@example.org" else [])


def test_an_empty_username_is_asked_for(client, csrf_token):
    response = ask_to_reset(client, csrf_token, "")
    assert response.status_code == 422
    assert RESET_EMPTY in response.get_data(as_text=True)


def test_a_weak_new_password_is_refused_and_the_old_one_stays(
    mail_client, smtp_server, csrf_token, make_user, db
):
    user = make_user("tp")
    path = reset_link(smtp_server, mail_client, csrf_token, user)
    response = choose(mail_client, path, password="password1234")
    assert response.status_code == 422
    assert "This is a very common password." in response.get_data(as_text=True)
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)
    assert choose(mail_client, path).status_code == 302  # the link still works


def test_reset_requests_are_rate_limited_per_address(client, csrf_token, make_user, db):
    make_user("tp", email="staff@example.org")
    statuses = [ask_to_reset(client, csrf_token, "staff@example.org").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 3


def test_another_field_in_the_form_cannot_dodge_the_per_address_limit(
    client, csrf_token, make_user, db
):
    make_user("tp", email="staff@example.org")
    statuses = [
        client.post(
            "/reset",
            data={
                "reset-username": "staff@example.org",
                "activate-email": f"decoy{n}@example.org",  # not this form's field
                "csrf_token": csrf_token(client),
            },
        ).status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_what_was_typed_is_not_kept_unless_it_is_a_user_s_address(
    client, csrf_token, make_user, db
):
    user = make_user("tp", email="staff@example.org")
    ask_to_reset(client, csrf_token, "my secret password typed in the wrong box")
    ask_to_reset(client, csrf_token, "staff@example.org")
    unknown, known = db.session.scalars(
        select(Event).where(Event.action == "account.reset_requested").order_by(Event.id)
    )
    assert (unknown.subject_id, unknown.details) == (None, {})
    assert known.subject_id == user.id and known.details["template"] == "password_reset"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Staff.Example.org!", "Your password is too like your email address"),
        ("Example Exam Board 1", "made from your email address, the board's name"),
        ("abcabcabcabc", 'Repeats like "abcabcabc" are only slightly harder'),
    ],
)
def test_a_guessable_new_password_is_refused_with_the_reason(
    mail_client, smtp_server, csrf_token, make_user, db, password, why
):
    user = make_user("tp", email="staff@example.org")
    path = reset_link(smtp_server, mail_client, csrf_token, user)
    response = choose(mail_client, path, password=password)
    assert response.status_code == 422
    assert why in html.unescape(response.get_data(as_text=True))
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


def test_no_database_lock_is_held_while_the_password_is_estimated(
    mail_client, smtp_server, csrf_token, make_user, db, monkeypatch
):
    from app.auth import accounts

    in_transaction = []

    def estimate(*args, **kwargs):
        in_transaction.append(db.session().in_transaction())
        return password_problem(*args, **kwargs)

    monkeypatch.setattr(accounts, "password_problem", estimate)
    user = make_user("tp")
    path = reset_link(smtp_server, mail_client, csrf_token, user)
    assert choose(mail_client, path).status_code == 302
    assert in_transaction == [False]
