"""Activation PINs: short one-time secrets an admin passes to a centre out of band."""

import secrets

from sqlalchemy import select

from app.extensions import db
from app.models import User

# No 0/O, 1/I/l: a PIN is read aloud or copied from paper.
PIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PIN_LENGTH = 8


def generate_pin() -> str:
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))


def new_unused_pin() -> str:
    """A fresh PIN that no other not-yet-activated user holds."""
    while True:
        pin = generate_pin()
        if db.session.scalar(select(User.id).where(User.pin == pin)) is None:
            return pin
