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


@dataclass(frozen=True)
class LinkCheck:
    """What a link is worth: the user it works for, or whether it merely expired."""

    user: User | None = None
    # Made by us (its signature says so) for an account it would still apply to,
    # but too old: asking for a new one will help. Anything else is not valid.
    expired: bool = False


def check_link(token: str, purpose: str, *, secret_key: str, lifetime: timedelta) -> LinkCheck:
    """Whether a link works, and for whom; if not, whether it is only too old.

    Only a token whose signature is good can be called expired: itsdangerous
    checks the signature before the age, and nobody else can sign. A tampered,
    unknown, used or other-purpose link is simply not valid, so an outsider
    learns nothing about which accounts exist.
    """
    serializer = _serializer(secret_key, purpose)
    try:
        payload = serializer.loads(token, max_age=int(lifetime.total_seconds()))
        expired = False
    except SignatureExpired:
        payload, expired = serializer.loads(token), True  # the signature is good
    except BadSignature:
        return LinkCheck()
    user = _user_it_applies_to(payload, purpose)
    if user is None:
        return LinkCheck()
    return LinkCheck(expired=True) if expired else LinkCheck(user)


def _user_it_applies_to(payload, purpose: str) -> User | None:
    """The user of a token's payload, if the token was made for their present state."""
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        return None
    user = db.session.get(User, payload["user"])
    if user is None or payload.get("state") != _fingerprint(user, purpose):
        return None
    if purpose == RESET and user.activated_at is None:
        return None
    return user
