"""Activation and reset links, on the model of Flask-Security-Too's test_recoverable.py:
valid to the last second, then expired; once only; tampered; wrong purpose; dead
after a password change."""

from datetime import timedelta

import pytest

from app.extensions import db
from app.services.accounts import passwords
from app.services.accounts.tokens import ACTIVATE, RESET, LinkCheck, check_link, make_token

KEY = "test-secret-key-not-for-production"
HOUR = timedelta(hours=1)


def token_for(user, purpose=RESET, lifetime=HOUR, key=KEY):
    return make_token(user, purpose, secret_key=key, lifetime=lifetime)


def check(token, purpose=RESET, lifetime=HOUR, key=KEY):
    return check_link(token, purpose, secret_key=key, lifetime=lifetime).user


@pytest.mark.parametrize("purpose,activated", [(RESET, True), (ACTIVATE, False)])
def test_valid_until_the_last_second_then_expired(make_user, clock, purpose, activated):
    user = make_user("centre", activated=activated)
    link = token_for(user, purpose)
    assert link.expires_at == clock.now + HOUR
    clock.advance(hours=1)
    assert check(link.token, purpose) == user
    clock.advance(seconds=1)
    assert check(link.token, purpose) is None


def test_the_lifetime_is_the_one_configured(make_user, clock):
    user = make_user("centre", activated=False)
    link = token_for(user, ACTIVATE, lifetime=timedelta(hours=72))
    clock.advance(hours=71, minutes=59)
    assert check(link.token, ACTIVATE, lifetime=timedelta(hours=72)) == user
    assert check(link.token, ACTIVATE, lifetime=timedelta(hours=1)) is None


def test_a_reset_link_dies_when_the_password_changes(make_user, clock):
    user = make_user("tp")
    link = token_for(user)
    user.password_hash = passwords.hash_password("a different long password")
    db.session.commit()
    assert check(link.token) is None


def test_an_activation_link_works_once(make_user, clock):
    user = make_user("centre", activated=False)
    link = token_for(user, ACTIVATE)
    assert check(link.token, ACTIVATE) == user
    user.activated_at = clock.now
    user.password_hash = passwords.hash_password("a long enough password")
    db.session.commit()
    assert check(link.token, ACTIVATE) is None


def test_tampered_tokens_are_refused(make_user, clock):
    user = make_user("tp")
    token = token_for(user).token
    payload, timestamp, signature = token.split(".")
    other = make_user("tp")
    other_payload = token_for(other).token.split(".")[0]
    # The first character: the last one's low bits are base64 padding, ignored when decoded.
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (
        f"{other_payload}.{timestamp}.{signature}",  # another user's id, this signature
        f"{payload}.{timestamp}.{flipped}",
        f"{payload}.{timestamp}",
        "",
        "not-a-token",
        token + "x",
    ):
        assert check(bad) is None, bad


def test_a_token_is_for_one_purpose_only(make_user, clock):
    unactivated = make_user("centre", activated=False)
    activated = make_user("centre")
    assert check(token_for(unactivated, ACTIVATE).token, RESET) is None
    assert check(token_for(activated, RESET).token, ACTIVATE) is None


def test_another_secret_key_refuses_the_token(make_user, clock):
    user = make_user("tp")
    assert check(token_for(user).token, key="another key") is None


def test_a_deleted_user_has_no_valid_link(make_user, clock):
    user = make_user("tp")
    token = token_for(user).token
    db.session.delete(user)
    db.session.commit()
    assert check(token) is None


def test_a_reset_link_needs_an_activated_account(make_user, clock):
    user = make_user("centre", activated=False)
    assert check(token_for(user, RESET).token, RESET) is None


def status(token, purpose=RESET, lifetime=HOUR, key=KEY):
    return check_link(token, purpose, secret_key=key, lifetime=lifetime)


def test_only_a_genuine_link_that_would_still_work_is_called_expired(make_user, clock):
    user = make_user("tp")
    link = token_for(user)
    assert status(link.token) == LinkCheck(user)
    clock.advance(hours=1, seconds=1)
    assert status(link.token) == LinkCheck(expired=True)
    # Signed with another key (nobody else can sign ours), or used: not valid, not expired.
    assert status(link.token, key="another key") == LinkCheck()
    user.password_hash = passwords.hash_password("a different long password")
    db.session.commit()
    assert status(link.token) == LinkCheck()
