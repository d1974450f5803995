"""Activating an account and resetting a forgotten password, by emailed link.

The request functions answer nothing: whether or not the address belongs to
somebody, the caller shows the same words (no enumeration). The functions
that finish a flow lock the user's row and check again that the link still
applies, so two tabs cannot both use one link.
"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMessage, User
from app.models.user import ROLE_LABELS
from app.services.accounts.sign_in import find_user_by_email
from app.services.accounts.tokens import ACTIVATE, RESET, make_token
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.email import templates as email_templates
from app.services.email.outbox import queue_email
from app.services.releases import notices

# Wrong PINs allowed before the PIN stops working and an admin must issue a new one.
PIN_ATTEMPTS = 5


@dataclass(frozen=True)
class AccountMail:
    """What account emails need from the app: signing key, wording, lifetimes, links."""

    secret_key: str
    organisation: str
    activation_lifetime: timedelta
    reset_lifetime: timedelta
    link_for: Callable[[str, str], str]  # (purpose, token) -> the absolute link

    def lifetime(self, purpose: str) -> timedelta:
        return self.activation_lifetime if purpose == ACTIVATE else self.reset_lifetime


class ActivationRefused(Exception):
    """The link cannot finish its job; `reason` says which page to show."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason  # "link_used", "pin_void", "wrong_pin"
        self.message = message


def format_expiry(moment: datetime) -> str:
    return f"{moment:%-d %B %Y %H:%M} UTC"


def format_lifetime(lifetime: timedelta) -> str:
    """How long a link works, in words: "72 hours", "1 hour", "90 minutes"."""
    minutes = int(lifetime.total_seconds()) // 60
    count, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def send_activation_email(user: User, mail: AccountMail) -> OutboxMessage:
    """Queue the email that lets a not-yet-activated user activate (an admin's doing)."""
    message = _activation_email(user, mail)
    record_event("email.queued", subject=user, details=_queued(message))
    return message


def _activation_email(user: User, mail: AccountMail) -> OutboxMessage:
    """The activation email for a centre user, the invitation for staff, queued."""
    context = _link_context(user, ACTIVATE, mail)
    if user.role == "centre":
        key = "activation"
        context.update(centre_number=user.centre.number, centre_name=user.centre.name)
    else:
        key = "invitation"
        context.update(role=ROLE_LABELS[user.role])
    return _queue(user, key, context)


def _reset_email(user: User, mail: AccountMail) -> OutboxMessage:
    return _queue(user, "password_reset", _link_context(user, RESET, mail))


def _link_context(user: User, purpose: str, mail: AccountMail) -> dict:
    """The placeholders every account email has: a new link for `purpose`, and when it dies."""
    link = make_token(user, purpose, secret_key=mail.secret_key, lifetime=mail.lifetime(purpose))
    return {
        "email": user.email,
        "link": mail.link_for(purpose, link.token),
        "expires": format_expiry(link.expires_at),
        "organisation": mail.organisation,
    }


def _queue(user: User, key: str, context: dict) -> OutboxMessage:
    subject, body = email_templates.render_email(key, context)
    return queue_email(to=user.email, template=key, subject=subject, body=body)


def _queued(message: OutboxMessage | None) -> dict:
    return {"template": message.template, "message": message.id} if message else {}


def request_activation(email: str, mail: AccountMail) -> None:
    """Email an activation link ("New user") if the address is a not-yet-activated user's.

    Registered or not, the request writes one Event and commits, so that the two
    cases take about the same time; the email itself is sent after the response.
    What was typed is not kept unless it is a user's address: it could be anything,
    a password typed into the wrong field included.
    """
    user = find_user_by_email(email)
    wanted = user is not None and user.activated_at is None
    message = _activation_email(user, mail) if wanted else None
    record_event(
        "account.activation_requested",
        subject=user if wanted else None,
        details=_queued(message),
    )


def request_reset(username: str, mail: AccountMail) -> None:
    """Email a reset link ("Existing user") if the username is an activated user's.
    Answers in about the same time either way, like request_activation."""
    user = find_user_by_email(username)
    wanted = user is not None and user.activated_at is not None
    message = _reset_email(user, mail) if wanted else None
    record_event(
        "account.reset_requested",
        subject=user if wanted else None,
        details=_queued(message),
    )


def _locked(user_id: int) -> User | None:
    return db.session.scalar(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def pins_match(typed: str, pin: str) -> bool:
    typed = "".join(typed.split()).upper()
    return hmac.compare_digest(typed.encode(), pin.upper().encode())


def activate_account(user_id: int, *, pin: str | None, password_hash: str) -> User:
    """Activate the account with the chosen password (already hashed), checking the
    PIN of a centre user. Commits by itself, like signing in: a wrong PIN is
    counted (and the fifth voids the PIN) even though the activation is refused.
    """
    user = _locked(user_id)
    if user is None or user.activated_at is not None:
        db.session.rollback()
        raise ActivationRefused("link_used")
    if user.role == "centre":
        if user.pin is None:
            db.session.rollback()
            raise ActivationRefused("pin_void")
        if not pins_match(pin or "", user.pin):
            _count_wrong_pin(user)
            # Read before committing: reading after would start a new transaction.
            voided, left = user.pin is None, PIN_ATTEMPTS - user.pin_failures
            db.session.commit()
            if voided:
                raise ActivationRefused("pin_void")
            raise ActivationRefused(
                "wrong_pin",
                f"That PIN is not right. You can try {left} more time{'s' if left != 1 else ''} "
                "before the PIN stops working.",
            )
    user.activated_at = utcnow()
    user.pin = None
    user.pin_failures = 0
    # The centre's releases not yet open: the user is told when they open, as the
    # users activated before them are.
    notices.user_activated(user)
    return _signed_in_with(user, password_hash, "account.activated")


def _count_wrong_pin(user: User) -> None:
    user.pin_failures += 1
    record_event("account.wrong_pin", subject=user, details={"failures": user.pin_failures})
    if user.pin_failures >= PIN_ATTEMPTS:
        user.pin = None
        record_event("account.pin_voided", subject=user, details={"email": user.email})


def reset_password(user_id: int, *, old_password_hash: str, password_hash: str) -> User:
    """Set a new password, if the password the link was made for is still the one
    stored, and end every other session. Commits by itself."""
    user = _locked(user_id)
    if user is None or user.activated_at is None or user.password_hash != old_password_hash:
        db.session.rollback()
        raise ActivationRefused("link_used")
    return _signed_in_with(user, password_hash, "account.password_reset")


def _signed_in_with(user: User, password_hash: str, action: str) -> User:
    """The new password stored, any wait after failed sign-ins over, every other
    session ended (the user is signed in afresh), the Event written; committed."""
    user.password_hash = password_hash
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    user.rotate_session_token()
    record_event(action, subject=user, actor=user)
    db.session.commit()
    return user
