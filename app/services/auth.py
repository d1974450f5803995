"""Signing in: checking credentials and slowing down password guessing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services import passwords

# After this many consecutive failures an account waits before the next try...
LOCKOUT_THRESHOLD = 5
# ...first this long, doubling with each further failure, up to the ceiling.
LOCKOUT_FIRST_WAIT = timedelta(minutes=1)
LOCKOUT_LONGEST_WAIT = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in attempt came to. `reason` is for the Event Logs, never the user."""

    user: User | None
    reason: str  # "ok", "unknown_user", "bad_password", "not_activated", "locked"

    @property
    def succeeded(self) -> bool:
        return self.reason == "ok"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def lockout_wait(failed_logins: int) -> timedelta | None:
    """How long an account must wait after this many consecutive failures, if at all."""
    if failed_logins < LOCKOUT_THRESHOLD:
        return None
    doublings = min(failed_logins - LOCKOUT_THRESHOLD, 10)
    return min(LOCKOUT_FIRST_WAIT * 2**doublings, LOCKOUT_LONGEST_WAIT)


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def authenticate(email: str, password: str, *, now: datetime) -> SignInAttempt:
    """Check a username and password, updating the user's failure count and lock.

    Every path verifies one argon2 hash, so the time taken does not say whether
    the account exists. Attempts during a lock do not extend it: the wait is
    bounded by LOCKOUT_LONGEST_WAIT whatever an attacker does. Flushes, never commits.
    """
    user = find_user_by_email(email)
    if user is None:
        passwords.verify_password(None, password)
        return SignInAttempt(None, "unknown_user")
    if user.activated_at is None or user.password_hash is None:
        passwords.verify_password(None, password)
        return SignInAttempt(user, "not_activated")
    if is_locked(user, now):
        passwords.verify_password(None, password)
        return SignInAttempt(user, "locked")

    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        wait = lockout_wait(user.failed_logins)
        user.locked_until = now + wait if wait else None
        db.session.flush()
        return SignInAttempt(user, "bad_password")

    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    db.session.flush()
    return SignInAttempt(user, "ok")
