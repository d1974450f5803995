"""The one place the app asks what time it is, so tests can set the clock."""

from datetime import UTC, datetime

# Tests set this (through the `clock` fixture) to stop time; None means real time.
fixed_now: datetime | None = None


def utcnow() -> datetime:
    """Return the current moment as a timezone-aware UTC datetime."""
    return fixed_now if fixed_now is not None else datetime.now(UTC)
