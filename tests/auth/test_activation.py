"""New user: asking for an activation email, and activating with the link (and PIN)."""

import pytest
from sqlalchemy import select

from app.auth.accounts import ACTIVATION_EMPTY, ACTIVATION_SENT
from app.models import Event, OutboxMessage, User
from app.services.accounts import passwords
from tests.auth.test_login import sign_in, without_csrf_tokens
from tests.conftest import csrf_token_of

NEW_PASSWORD = "  violet harbour lantern 42  "  # kept exactly as typed, spaces too


def ask_to_activate(client, csrf_token, email, **headers):
    return client.post(
        "/activate",
        data={"activate-email": email, "csrf_token": csrf_token(client)},
        headers=headers,
    )


def activate(client, path, pin="", password=NEW_PASSWORD, confirm=None):
    data = {"pin": pin, "password": password, "confirm": password if confirm is None else confirm}
    data["csrf_token"] = csrf_token_of(client, path)
    return client.post(path, data=data)


def events(db, action):
    return list(db.session.scalars(select(Event).where(Event.action == action)))


def activation_link(smtp_server, mail_client, csrf_token, user):
    response = ask_to_activate(mail_client, csrf_token, user.email)
    assert response.status_code == 200
    [message] = smtp_server.to(user.email)
    return smtp_server.link_path(message)


def test_a_centre_user_activates_with_the_emailed_link_and_the_pin(
    mail_client, smtp_server, csrf_token, make_user, db, clock
):
    user = make_user("centre", activated=False, email="officer@riverside.example.org")
    old_session_token = user.session_token
    path = activation_link(smtp_server, mail_client, csrf_token, user)
    [message] = smtp_server.messages
    assert message["Subject"] == "Activate your Example Exam Board secure portal account"
    assert f"centre {user.centre.number} ({user.centre.name})" in message.get_content()
    assert "stops working at 4 June 2026 08:00 UTC" in message.get_content()  # 72 hours

    page = mail_client.get(path).get_data(as_text=True)
    assert "Activate your account" in page and '<label for="pin">PIN</label>' in page

    response = activate(mail_client, path, pin=user.pin.lower())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = mail_client.get("/").get_data(as_text=True)
    assert "Your account is active and you are signed in." in home
    assert f"Signed in as <strong>{user.email}</strong>" in home

    stored = db.session.get(User, user.id)
    assert stored.activated_at == clock.now
    assert stored.pin is None
    assert passwords.verify_password(stored.password_hash, NEW_PASSWORD)
    assert not passwords.verify_password(stored.password_hash, NEW_PASSWORD.strip())
    assert stored.session_token != old_session_token
    [event] = events(db, "account.activated")
    assert (event.subject_id, event.actor_id) == (user.id, user.id)

    # Signed out, the new password signs in; the link is spent.
    fresh = mail_client.application.test_client()
    assert sign_in(fresh, csrf_token, user.email, NEW_PASSWORD).status_code == 302
    dead = mail_client.get(path)
    assert dead.status_code == 404
    assert "This link is not valid, or has already been used" in dead.get_data(as_text=True)


def test_staff_activate_without_a_pin(mail_client, smtp_server, csrf_token, make_user, db):
    user = make_user("tp", activated=False, pin=None)
    path = activation_link(smtp_server, mail_client, csrf_token, user)
    [message] = smtp_server.messages
    assert message["Subject"] == "You are invited to the Example Exam Board secure portal"
    assert "as Admin - TP" in message.get_content()
    assert "PIN" not in mail_client.get(path).get_data(as_text=True)
    assert activate(mail_client, path).status_code == 302
    assert db.session.get(User, user.id).activated_at is not None


@pytest.mark.parametrize(
    "typed", ["registered", "unknown", "already-active", "  REGISTERED  ", "not an address"]
)
def test_the_answer_never_tells_who_is_registered(client, csrf_token, make_user, typed, db):
    make_user("centre", activated=False, email="registered@example.org")
    make_user("centre", email="already-active@example.org")
    baseline = ask_to_activate(client, csrf_token, "unknown@example.org")
    address = typed if " " in typed and "@" not in typed else f"{typed.strip()}@example.org"
    if typed.strip() == "REGISTERED":
        address = "  REGISTERED@example.org  "
    response = ask_to_activate(client, csrf_token, address)
    assert response.status_code == baseline.status_code == 200
    body = response.get_data(as_text=True)
    assert without_csrf_tokens(body) == without_csrf_tokens(baseline.get_data(as_text=True))
    assert ACTIVATION_SENT in body
    assert address.strip() not in body  # the field is emptied, so nothing echoes it
    queued = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert queued == (["registered@example.org"] if typed.strip().lower() == "registered" else [])


def test_an_empty_address_is_asked_for(client, csrf_token, db):
    response = ask_to_activate(client, csrf_token, "   ")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in body and 'aria-describedby="activate-email-error"' in body
    assert f'<small id="activate-email-error" class="field-error">{ACTIVATION_EMPTY}' in body
    # The panel's error summary, which announces it (role="alert"), links to the field.
    assert '<div id="new-user-errors" class="error-summary" tabindex="-1"' in body
    assert f'<a href="#activate-email">{ACTIVATION_EMPTY}</a>' in body
    assert db.session.scalar(select(OutboxMessage)) is None


def test_the_htmx_answer_is_the_form_and_the_words_for_the_live_region(client, csrf_token):
    response = ask_to_activate(
        client,
        csrf_token,
        "someone@example.org",
        **{"HX-Request": "true", "HX-Target": "new-user-form"},
    )
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<article" not in body
    assert body.lstrip().startswith('<form id="new-user-form"')
    # The words go into the panel's region, which stays in place (so it is announced).
    assert (
        f'<p id="new-user-answer" class="answer" role="status" hx-swap-oob="innerHTML">'
        f"{ACTIVATION_SENT}</p>" in body
    )
    page = client.get("/login").get_data(as_text=True)
    assert '<p id="new-user-answer" class="answer" role="status"></p>' in page


def test_links_start_with_the_configured_address_whatever_the_request_says(
    make_app, smtp_server, make_user
):
    # Without CSRF, so that the session cookie (set for "localhost") is not needed.
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, WTF_CSRF_ENABLED=False)
    user = make_user("centre", activated=False)
    client = app.test_client()
    for environ in (
        {"HTTP_HOST": "attacker.example.net"},
        {"HTTP_X_FORWARDED_HOST": "attacker.example.net"},
        {"SCRIPT_NAME": "@attacker.example.net"},
    ):
        response = client.post(
            "/activate", data={"activate-email": user.email}, environ_overrides=environ
        )
        assert response.status_code == 200
    assert len(smtp_server.messages) == 3
    for message in smtp_server.messages:
        content = message.get_content()
        assert "https://portal.example.org/activate/" in content
        assert "attacker" not in content


def test_five_wrong_pins_void_the_pin_until_an_admin_gives_a_new_one(
    mail_client, smtp_server, csrf_token, make_user, db
):
    user = make_user("centre", activated=False)
    path = activation_link(smtp_server, mail_client, csrf_token, user)
    for left in (4, 3, 2, 1):
        page = activate(mail_client, path, pin="WRONG234")
        assert page.status_code == 422
        assert f"That PIN is not right. You can try {left} more time" in page.get_data(as_text=True)
    fifth = activate(mail_client, path, pin="WRONG234")
    assert fifth.status_code == 403
    assert "Your PIN no longer works" in fifth.get_data(as_text=True)
    # Now even the right PIN is refused.
    assert activate(mail_client, path, pin=user.pin).status_code == 403
    assert "Ask Example Exam Board for a new PIN" in mail_client.get(path).get_data(as_text=True)
    stored = db.session.get(User, user.id)
    assert (stored.pin, stored.pin_failures, stored.activated_at) == (None, 5, None)
    assert len(events(db, "account.wrong_pin")) == 5
    assert len(events(db, "account.pin_voided")) == 1

    # The admin's users table says so; New PIN makes the same link work again.
    admin = mail_client.application.test_client()
    with admin.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
    table = admin.get(f"/admin/centres/{user.centre_id}/users").get_data(as_text=True)
    assert "PIN stopped working after too many wrong tries" in table
    token = csrf_token_of(admin, "/")
    admin.post(f"/admin/centres/{user.centre_id}/users/{user.id}/pin", data={"csrf_token": token})
    new_pin = db.session.get(User, user.id).pin
    assert new_pin and db.session.get(User, user.id).pin_failures == 0
    assert activate(mail_client, path, pin=new_pin).status_code == 302


def test_bad_passwords_are_refused_and_nothing_changes(
    mail_client, smtp_server, csrf_token, make_user, db
):
    user = make_user("centre", activated=False)
    path = activation_link(smtp_server, mail_client, csrf_token, user)
    for password, confirm, message in (
        ("short one", None, "Your password must have at least 12 characters."),
        ("1qaz2wsx3edc", None, "This is a very common password."),
        (
            "violet harbour lantern",
            "violet harbour lanterns",
            "The two passwords are not the same.",
        ),
        ("", None, "Choose a password."),
    ):
        response = activate(mail_client, path, pin=user.pin, password=password, confirm=confirm)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    stored = db.session.get(User, user.id)
    assert (stored.activated_at, stored.password_hash, stored.pin) == (None, None, user.pin)
    missing_pin = activate(mail_client, path, pin="")
    assert "Enter the PIN your centre was given." in missing_pin.get_data(as_text=True)
    no_pin_field = mail_client.post(
        path,
        data={
            "password": "violet harbour lantern",
            "confirm": "violet harbour lantern",
            "csrf_token": csrf_token_of(mail_client, path),
        },
    )
    assert no_pin_field.status_code == 422
    assert "Enter the PIN your centre was given." in no_pin_field.get_data(as_text=True)


def test_a_128_character_password_is_stored_exactly(
    mail_client, smtp_server, csrf_token, make_user, db
):
    user = make_user("tp", activated=False, pin=None)
    path = activation_link(smtp_server, mail_client, csrf_token, user)
    long_password = ("Ünïcode & spaces, 128 long! " * 5)[:128]
    assert activate(mail_client, path, password=long_password).status_code == 302
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, long_password)


def test_asking_is_rate_limited_per_address_and_per_ip(client, csrf_token, make_user, db):
    make_user("centre", activated=False, email="target@example.org")
    for _ in range(3):
        assert ask_to_activate(client, csrf_token, "target@example.org").status_code == 200
    flooded = ask_to_activate(client, csrf_token, "TARGET@example.org")
    assert flooded.status_code == 429
    assert "Too many attempts" in flooded.get_data(as_text=True)
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 3
    # Other addresses from the same IP are answered, up to the per-IP limit (5 a minute;
    # the refused request did not count).
    statuses = [
        ask_to_activate(client, csrf_token, f"other{n}@example.org").status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_pin_entry_is_rate_limited_per_ip(make_app, smtp_server, csrf_token, make_user, db):
    app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, ACTIVATION_RATE_LIMIT="3 per minute"
    )
    client = app.test_client()
    users = [make_user("centre", activated=False) for _ in range(2)]
    paths = [activation_link(smtp_server, client, csrf_token, u) for u in users]
    smtp_server.messages.clear()
    statuses = [activate(client, paths[i % 2], pin="WRONG234").status_code for i in range(4)]
    assert statuses == [422, 422, 422, 429]


def test_pin_entry_is_rate_limited_per_account_across_ips(
    make_app, smtp_server, csrf_token, make_user, db
):
    app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, ACTIVATION_RATE_LIMIT="2 per minute"
    )
    user = make_user("centre", activated=False)
    client = app.test_client()
    path = activation_link(smtp_server, client, csrf_token, user)
    statuses = []
    for n in range(3):
        # Each try from another address, with a link of its own for the same account.
        other = app.test_client()
        link = activation_link(smtp_server, other, csrf_token, user) if n else path
        smtp_server.messages.clear()
        token = csrf_token_of(other, link)
        statuses.append(
            other.post(
                link,
                data={"pin": "WRONG234", "password": "x", "confirm": "x", "csrf_token": token},
                environ_overrides={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
            ).status_code
        )
    assert statuses == [422, 422, 429]


def test_forged_links_do_not_use_up_an_account_s_tries(
    make_app, smtp_server, csrf_token, make_user, db
):
    app = make_app(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, ACTIVATION_RATE_LIMIT="2 per minute"
    )
    user = make_user("centre", activated=False)
    client = app.test_client()
    path = activation_link(smtp_server, client, csrf_token, user)
    payload = path.rsplit("/", 1)[1].split(".")[0]  # anyone knowing the address could build it
    for n in range(4):
        attacker = app.test_client()
        forged = f"/activate/{payload}.AAAAAA.forged-signature"
        response = attacker.post(
            forged,
            data={"pin": "x", "password": "x", "confirm": "x", "csrf_token": csrf_token(attacker)},
            environ_overrides={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
        assert response.status_code == 404
    assert activate(client, path, pin=user.pin).status_code == 302
