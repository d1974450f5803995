"""What must be worked out again when the inputs of the release clock change.

Every service that changes key times, the timetable, entries or centres calls
one of these in the same transaction, so Entry Errors and Key Time Errors are
never stale. Each is scoped to what changed, so one edit costs one small query.
"""

from collections.abc import Iterable

from app.services.timetable.checks import refresh_key_time_errors
from app.services.timetable.entries import recheck_entry_errors


def key_times_changed(series: str, countries: Iterable[str]) -> None:
    recheck_entry_errors(series=series)
    refresh_key_time_errors(series, countries)


def timetable_changed(series: str) -> None:
    recheck_entry_errors(series=series)
    refresh_key_time_errors(series)


def entries_changed(series: str) -> None:
    refresh_key_time_errors(series)


def centres_changed(countries: Iterable[str] | None = None) -> None:
    """Centres were added, edited, deleted or restored in `countries` (None: any)."""
    recheck_entry_errors()
    refresh_key_time_errors(None, countries)
