"""The page a dead link opens: expired (ours, but too old) or not valid, never whose it is.

On the model of Flask-Security-Too's token status: only a genuinely signed
link may be called expired, and neither page names an account.
"""

import html
from datetime import timedelta

import pytest

from app.extensions import db
from app.models import User
from app.services.accounts import passwords
from app.services.accounts.tokens import ACTIVATE, RESET, make_token
from tests.conftest import PASSWORD

KEY = "test-secret-key-not-for-production"  # TestConfig's
LIFETIMES = {ACTIVATE: timedelta(hours=72), RESET: timedelta(minutes=60)}
PATHS = {ACTIVATE: "/activate/", RESET: "/reset/"}
EXPIRED = "This link has expired"
NOT_VALID = "This link is not valid, or has already been used"


def link(user, purpose, key=KEY) -> str:
    token = make_token(user, purpose, secret_key=key, lifetime=LIFETIMES[purpose]).token
    return PATHS[purpose] + token


def opened(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 404
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def waiting(make_user):
    return make_user("centre", activated=False, email="waiting@example.org")


@pytest.fixture
def active(make_user):
    return make_user("tp", email="active@example.org")


def test_an_expired_activation_link_says_so_and_offers_a_new_one(client, waiting, clock):
    path = link(waiting, ACTIVATE)
    clock.advance(hours=72, seconds=1)
    page = opened(client, path)
    assert "<h1>This link has expired</h1>" in page
    assert "This link has expired: links work for 72 hours. Ask for a new one below." in page
    assert (
        'id="new-user-form"' in page
        and 'name="activate-email" spellcheck="false" type="email" value=""' in page
    )
    # Whoever holds the link is not told whose account it is for.
    assert "waiting@example.org" not in page and "waiting" not in page.split("<main", 1)[1]
    assert NOT_VALID not in page


def test_an_expired_reset_link_says_so_and_offers_a_new_one(client, active, clock):
    path = link(active, RESET)
    clock.advance(minutes=60, seconds=1)
    page = opened(client, path)
    assert "This link has expired: links work for 1 hour. Ask for a new one below." in page
    assert 'id="existing-user-form"' in page
    assert "active@example.org" not in page


def test_a_link_is_not_expired_until_its_last_second(client, active, clock):
    path = link(active, RESET)
    clock.advance(minutes=60)
    assert client.get(path).status_code == 200


def test_a_tampered_link_is_not_valid_expired_or_not(client, active, clock):
    path = link(active, RESET)
    flipped = path[:-5] + ("A" if path[-5] != "A" else "B") + path[-4:]
    forged = link(active, RESET, key="somebody else's key")
    for when in ("now", "after it would have expired"):
        for bad in (flipped, forged, path + "x", "/reset/not-a-token"):
            page = opened(client, bad)
            assert NOT_VALID in page and EXPIRED not in page, (when, bad)
        clock.advance(hours=2)


def test_a_used_activation_link_is_not_valid_even_once_it_is_old(client, waiting, clock):
    path = link(waiting, ACTIVATE)
    waiting.activated_at = clock.now
    waiting.password_hash = passwords.hash_password("quiet meadow under snow")
    db.session.commit()
    page = opened(client, path)
    assert NOT_VALID in page and EXPIRED not in page
    assert "If your account is already active" in page
    clock.advance(hours=73)
    assert EXPIRED not in opened(client, path)


def test_a_reset_link_is_not_valid_after_a_password_change(client, active, clock):
    path = link(active, RESET)
    active.password_hash = passwords.hash_password("another quiet meadow")
    db.session.commit()
    assert NOT_VALID in opened(client, path)
    clock.advance(hours=2)
    assert EXPIRED not in opened(client, path)


def test_a_link_for_the_other_purpose_is_not_valid(client, waiting, active, clock):
    activation_token = link(waiting, ACTIVATE).removeprefix("/activate/")
    reset_token = link(active, RESET).removeprefix("/reset/")
    assert NOT_VALID in opened(client, "/reset/" + activation_token)
    assert NOT_VALID in opened(client, "/activate/" + reset_token)
    clock.advance(hours=80)
    assert EXPIRED not in opened(client, "/reset/" + activation_token)


def test_an_expired_link_of_a_deleted_account_is_not_valid(client, active, clock):
    path = link(active, RESET)
    db.session.delete(active)
    db.session.commit()
    clock.advance(hours=2)
    assert NOT_VALID in opened(client, path)


def test_posting_to_an_expired_link_says_it_expired(client, active, clock, csrf_token):
    path = link(active, RESET)
    clock.advance(hours=2)
    token = csrf_token(client)
    password = "quiet meadow under snow"
    response = client.post(
        path, data={"password": password, "confirm": password, "csrf_token": token}
    )
    assert response.status_code == 404
    assert EXPIRED in response.get_data(as_text=True)
    assert passwords.verify_password(db.session.get(User, active.id).password_hash, PASSWORD)
