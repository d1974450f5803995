"""Slowing down password guessing: per-account waits and the per-IP rate limit."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from app.auth.routes import SIGN_IN_FAILED
from app.extensions import limiter
from app.models import User
from app.services.accounts import passwords
from tests.auth.test_login import sign_in
from tests.conftest import PASSWORD, csrf_token_of


def fail(client, csrf_token, user, times):
    for _ in range(times):
        assert sign_in(client, csrf_token, user.email, "wrong password").status_code == 401


def test_five_failures_make_the_account_wait_a_minute(client, csrf_token, make_user, db, clock):
    user = make_user("centre")
    fail(client, csrf_token, user, 5)
    stored = db.session.get(User, user.id)
    assert stored.failed_logins == 5
    assert stored.locked_until == clock.now + timedelta(minutes=1)

    response = sign_in(client, csrf_token, user.email, PASSWORD)
    assert response.status_code == 401
    assert SIGN_IN_FAILED in response.get_data(as_text=True)

    clock.advance(seconds=59)
    assert sign_in(client, csrf_token, user.email, PASSWORD).status_code == 401
    clock.advance(seconds=2)
    assert sign_in(client, csrf_token, user.email, PASSWORD).status_code == 302
    stored = db.session.get(User, user.id)
    assert (stored.failed_logins, stored.locked_until) == (0, None)


def test_each_further_failure_doubles_the_wait_up_to_fifteen_minutes(
    client, csrf_token, make_user, db, clock
):
    user = make_user("centre")
    fail(client, csrf_token, user, 5)
    waits = []
    for _ in range(6):
        clock.advance(minutes=20)  # past any lock, so the next failure counts
        limiter.reset()  # the per-IP limit runs on real time; it is tested below
        fail(client, csrf_token, user, 1)
        stored = db.session.get(User, user.id)
        waits.append(stored.locked_until - clock.now)
    assert waits == [timedelta(minutes=m) for m in (2, 4, 8, 15, 15, 15)]


def test_tries_during_a_wait_do_not_extend_it(client, csrf_token, make_user, db, clock):
    user = make_user("centre")
    fail(client, csrf_token, user, 5)
    locked_until = db.session.get(User, user.id).locked_until
    clock.advance(seconds=30)
    fail(client, csrf_token, user, 3)
    assert db.session.get(User, user.id).locked_until == locked_until


def test_a_success_before_the_threshold_resets_the_count(client, csrf_token, make_user, db):
    user = make_user("centre")
    fail(client, csrf_token, user, 4)
    assert sign_in(client, csrf_token, user.email, PASSWORD).status_code == 302
    assert db.session.get(User, user.id).failed_logins == 0


def test_sign_in_posts_are_rate_limited_per_ip(client, csrf_token):
    for _ in range(10):
        assert sign_in(client, csrf_token, "nobody@example.com", "guess").status_code == 401
    response = sign_in(client, csrf_token, "nobody@example.com", "guess")
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many attempts" in body
    assert "Please wait a minute and try again." in body
    assert int(response.headers["Retry-After"]) > 0
    # Viewing the page is not limited: only the guesses are.
    assert client.get("/login").status_code == 200


def test_the_rate_limit_counts_each_ip_separately(client, csrf_token):
    for _ in range(10):
        sign_in(client, csrf_token, "nobody@example.com", "guess")
    other = client.post(
        "/login",
        data={"username": "x@example.com", "password": "guess", "csrf_token": csrf_token(client)},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 401


def test_parallel_guesses_cannot_slip_past_the_lockout(app, make_user, db, monkeypatch):
    """Each attempt is counted before its password is checked, under a row lock."""
    user = make_user("centre", failed_logins=4)
    real_hash, email = user.password_hash, user.email
    checked_real_hash = []
    real_verify = passwords._verify

    def counting_verify(hash_, password):
        if hash_ == real_hash:
            checked_real_hash.append(password)
        return real_verify(hash_, password)

    monkeypatch.setattr(passwords, "_verify", counting_verify)
    clients = [app.test_client() for _ in range(6)]
    tokens = [csrf_token_of(c) for c in clients]
    start = threading.Barrier(len(clients))

    def guess(client, token):
        start.wait()
        return client.post(
            "/login", data={"username": email, "password": "guess", "csrf_token": token}
        ).status_code

    with ThreadPoolExecutor(len(clients)) as pool:
        statuses = list(pool.map(guess, clients, tokens))
    assert statuses == [401] * 6
    assert len(checked_real_hash) == 1  # the fifth failure; the rest found the account waiting
    db.session.rollback()
    assert db.session.get(User, user.id).failed_logins == 5
