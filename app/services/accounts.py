"""Email addresses as usernames, and accounts made from the command line."""

from email_validator import EmailNotValidError, validate_email

from app.extensions import db
from app.models import User
from app.services import passwords
from app.services.auth import find_user_by_email, normalise_email
from app.services.clock import utcnow

MIN_PASSWORD_LENGTH = 12
EMAIL_IN_USE = "That email address is already in use."


class AccountError(ValueError):
    """An account cannot be created as asked; the message says why, for the user."""


def checked_email(raw: str) -> str:
    """The address lower-cased, or AccountError saying why it is not an email address."""
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(f"“{raw.strip()}” is not an email address: {error}") from None
    return normalise_email(result.normalized)


def refuse_duplicate_email(email: str) -> None:
    if find_user_by_email(email) is not None:
        raise AccountError(EMAIL_IN_USE)


def create_activated_staff(email: str, password: str, role: str = "admin") -> User:
    """A staff account that can sign in straight away (used from the command line)."""
    email = checked_email(email)
    refuse_duplicate_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(
        email=email,
        role=role,
        password_hash=passwords.hash_password(password),
        activated_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user
