"""Email addresses as usernames: checked, normalised, and unique."""

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from app.models import User
from app.services.accounts.sign_in import find_user_by_email, normalise_email
from app.services.errors import DomainError
from app.services.transactions import on_clash

EMAIL_IN_USE = "That email address is already in use."


class AccountError(DomainError):
    """An account cannot be created as asked; the message says why, for the user."""


class EmailInUse(AccountError):
    """The address is another account's username; says whose (for admins only)."""

    def __init__(self, holder: User) -> None:
        self.holder = holder
        where = f"at {holder.centre.number}" if holder.centre else "by a staff account"
        super().__init__(f"That email address is already in use {where}.")


# Two requests adding the same address at once: the second learns it from the database.
on_clash("users.email", lambda: AccountError(EMAIL_IN_USE))


# Plain addresses (most of them) that email_validator would accept unchanged:
# checked by this pattern alone, 30 times faster, which matters for a 30,000-row
# upload. Anything else goes to email_validator, which also words the errors.
# tests/services/test_accounts.py checks the two agree.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
# Each is a single label, so only the last label of a domain can be one of them.
_SPECIAL_TOP_LABELS = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _plain_email(candidate: str) -> bool:
    if len(candidate) > 254 or not _PLAIN_EMAIL.fullmatch(candidate):
        return False
    local, domain = candidate.split("@")
    return (
        len(local) <= 64
        and "--" not in domain  # "ab--" labels are reserved (IDNA); Punycode is "xn--"
        and domain.rpartition(".")[2] not in _SPECIAL_TOP_LABELS
    )


def checked_email(raw: str) -> str:
    """The address lower-cased, or AccountError saying why it is not an email address."""
    candidate = raw.strip().lower()
    if _plain_email(candidate):
        return candidate
    try:
        # No SMTPUTF8: an address the mail server may refuse is no use for activation.
        result = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise AccountError(f"“{raw.strip()}” is not an email address: {error}") from None
    return normalise_email(result.normalized)


def refuse_duplicate_email(email: str) -> None:
    holder = find_user_by_email(email)
    if holder is not None:
        raise EmailInUse(holder)
