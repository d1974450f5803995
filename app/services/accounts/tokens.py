"""Signed links for activating an account and resetting a password.

A token names a user and carries a fingerprint of the state it was made for:
for activation, that the account is not activated yet; for a reset, the
password hash. Once the user activates or changes their password the
fingerprint no longer matches, so each link works once and dies with the
password it was sent for. Each purpose signs with its own salt, so a reset
link cannot be used to activate and the other way round.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.models import User
from app.services.clock import utcnow

ACTIVATE = "activate"
RESET = "reset"
PURPOSES = (ACTIVATE, RESET)


class _ClockedSerializer(URLSafeTimedSerializer):
    """Timestamps from the app's clock, so tests can stand at a link's last second."""

    def __init__(self, secret_key: str, salt: str):
        super().__init__(secret_key, salt=salt)

    def make_signer(self, salt=None):
        signer = super().make_signer(salt)
        signer.get_timestamp = lambda: int(utcnow().timestamp())
        return signer


@dataclass(frozen=True)
class Link:
    token: str
    expires_at: datetime


def _serializer(secret_key: str, purpose: str) -> _ClockedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return _ClockedSerializer(secret_key, salt=f"portal-{purpose}-link")


def _fingerprint(user: User, purpose: str) -> str:
    if purpose == ACTIVATE:
        state = f"{user.email}|not activated" if user.activated_at is None else "activated"
    else:
        state = f"{user.email}|{user.password_hash or ''}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def make_token(user: User, purpose: str, *, secret_key: str, lifetime: timedelta) -> Link:
    """A signed token for this user and purpose, and when it stops working."""
    token = _serializer(secret_key, purpose).dumps(
        {"user": user.id, "state": _fingerprint(user, purpose)}
    )
    return Link(token, utcnow() + lifetime)


def signed_user_id(token: str, purpose: str, *, secret_key: str) -> int | None:
    """The user id in a token whose signature is good, expired or not: for counting
    tries per account, which forged links must not be able to use up."""
    try:
        payload = _serializer(secret_key, purpose).loads(token)
    except BadSignature:
        return None
    user_id = payload.get("user") if isinstance(payload, dict) else None
    return user_id if isinstance(user_id, int) else None


def user_for_token(
    token: str, purpose: str, *, secret_key: str, lifetime: timedelta
) -> User | None:
    """The user a valid token was made for, or None when it is expired, used,
    tampered with, or made for another purpose."""
    try:
        payload = _serializer(secret_key, purpose).loads(
            token, max_age=int(lifetime.total_seconds())
        )
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = db.session.get(User, payload["user"])
    if user is None or payload.get("state") != _fingerprint(user, purpose):
        return None
    if purpose == RESET and user.activated_at is None:
        return None
    return user
