"""Password hashing with argon2id."""

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
_dummy_hash = _hasher.hash("not a real password")


def configure(profile_name: str) -> None:
    """Choose the argon2 cost profile by its name in argon2.profiles."""
    global _hasher, _dummy_hash
    try:
        parameters = getattr(profiles, profile_name)
    except AttributeError:
        raise ValueError(
            f"ARGON2_PROFILE {profile_name!r} is not an argon2.profiles name"
        ) from None
    _hasher = PasswordHasher.from_parameters(parameters)
    _dummy_hash = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash; a missing hash costs the same time.

    Hashing a dummy for accounts without a password (unknown, not activated,
    locked) keeps a failed sign-in equally slow whatever the reason, so timing
    does not tell an outsider which usernames exist.
    """
    if password_hash is None:
        _verify(_dummy_hash, password)
        return False
    return _verify(password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other cost parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
