"""Signing in: checking credentials and slowing down password guessing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.services.accounts import passwords
from app.services.audit import record_event

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


def find_user_by_email(email: str, *, for_update: bool = False) -> User | None:
    query = select(User).where(User.email == normalise_email(email))
    return db.session.scalar(query.with_for_update() if for_update else query)


def lockout_wait(failed_logins: int) -> timedelta | None:
    """How long an account must wait after this many consecutive failures, if at all."""
    if failed_logins < LOCKOUT_THRESHOLD:
        return None
    doublings = min(failed_logins - LOCKOUT_THRESHOLD, 10)
    return min(LOCKOUT_FIRST_WAIT * 2**doublings, LOCKOUT_LONGEST_WAIT)


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def sign_in(email: str, password: str, *, now: datetime) -> SignInAttempt:
    """Check a username and password, count the attempt, and write the Event.

    The attempt is counted as a failure *before* the password is checked, in a
    short transaction that locks the user's row; a success then clears the
    count. So parallel guesses cannot slip past the lockout (each one is
    counted before it is tried), and no lock is held while argon2 runs. Every
    path checks exactly one hash, so the time taken does not tell whether the
    account exists. Tries during a wait do not extend it.

    Sign-in is the one operation that commits by itself, in these steps; the
    caller commits nothing.
    """
    user = find_user_by_email(email, for_update=True)
    refusal = _refusal(user, now)
    stored_hash = None
    if refusal is None:
        stored_hash = user.password_hash
        user.failed_logins += 1
        wait = lockout_wait(user.failed_logins)
        user.locked_until = now + wait if wait else None
    db.session.commit()

    # Refused attempts hash too (stored_hash is None: a dummy is checked).
    password_ok = passwords.verify_password(stored_hash, password)
    if refusal is not None or not password_ok:
        attempt = SignInAttempt(user, refusal or "bad_password")
        record_event(
            "login.failed",
            subject=user,
            details={"username": _as_logged(email), "reason": attempt.reason},
        )
        db.session.commit()
        return attempt

    user = find_user_by_email(email, for_update=True)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if passwords.needs_rehash(stored_hash):
        user.password_hash = passwords.hash_password(password)
    record_event("login.succeeded", actor=user)
    db.session.commit()
    return SignInAttempt(user, "ok")


def _refusal(user: User | None, now: datetime) -> str | None:
    """Why an attempt is refused without looking at the password, if it is."""
    if user is None:
        return "unknown_user"
    if user.activated_at is None or user.password_hash is None:
        return "not_activated"
    if is_locked(user, now):
        return "locked"
    return None


def _as_logged(typed: str) -> str:
    """What a refused sign-in's Event keeps of the username typed: an address as typed;
    anything else (a password typed into the wrong box, say) only as its length, since
    the Event Logs show and export it."""
    typed = typed.strip()[:254]
    local, at, domain = typed.rpartition("@")
    if at and local and "." in domain and " " not in typed:
        return typed
    return f"(not an email address: {len(typed)} characters)"
