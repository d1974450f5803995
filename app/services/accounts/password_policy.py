"""What makes a password acceptable: long enough and not one everybody guesses.

Following NIST SP 800-63B: a minimum length, a generous maximum, no rules
about character classes, and a check against a list of common passwords
(app/data/common-passwords.txt; its source and licence are beside it).
"""

from functools import cache
from pathlib import Path

# Long passphrases are welcome; this only stops a megabyte from being hashed.
MAX_PASSWORD_LENGTH = 1024

_COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt"


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(_COMMON_PASSWORDS.read_text(encoding="utf-8").split())


def password_problem(password: str, *, min_length: int, email: str = "") -> str | None:
    """Why this password may not be used, in words for the user; None when it may."""
    if len(password) < min_length:
        return f"Your password must have at least {min_length} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Your password can have at most {MAX_PASSWORD_LENGTH} characters."
    folded = password.casefold()
    if email and folded.strip() == email.casefold():
        return "Your password cannot be your email address."
    if folded in common_passwords() or len(set(password)) == 1:
        return (
            "That password is one of the most commonly used, so it is easy to guess. "
            "Choose another: a few unrelated words make a strong one."
        )
    return None
