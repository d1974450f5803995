"""What must be worked out again when the inputs of the release clock change.

Every service that changes key times, the timetable, entries or centres calls
one of these in the same transaction, so Entry Errors and Key Time Errors are
never stale. Each is scoped to what changed, so one edit costs a few small
queries; many centre changes in one request (Delete Missing Centres) are
followed up once, at the end of `centre_changes_together()`.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import select

from app.extensions import db
from app.models import Centre, Release
from app.services.audit import record_event
from app.services.releases.recompute import Moved, follow_entries, recompute_windows
from app.services.timetable.checks import Refreshed, refresh_key_time_errors
from app.services.timetable.entries import flag_live_entries, recheck_entry_errors

# The centres changed so far inside centre_changes_together(): (countries, numbers).
_together: ContextVar[tuple[set[str], set[str]] | None] = ContextVar("together", default=None)
# What moving windows did since collect_window_changes(), for the admin to be told.
_window_changes: ContextVar[Moved | None] = ContextVar("window_changes", default=None)


def collect_window_changes() -> None:
    """Start counting the release windows moved (or needing a decision) from here on."""
    _window_changes.set(Moved())


def window_changes() -> Moved | None:
    """The windows moved since collect_window_changes(), if any moved or need a decision."""
    found = _window_changes.get()
    if found is None:
        return None
    return (
        found
        if found.moved or found.open_changed or found.added or found.removed or found.late
        else None
    )


def _counted(moved: Moved) -> Moved:
    total = _window_changes.get()
    if total is not None:
        total.moved += moved.moved
        total.open_changed.extend(moved.open_changed)
        total.no_window.extend(moved.no_window)
        total.centres |= moved.centres
        total.added |= moved.added
        total.removed |= moved.removed
        total.late |= moved.late
    return moved


def _recompute(series: str, centre_ids=None) -> Moved:
    return _counted(recompute_windows(series, centre_ids))


def key_times_changed(series: str, countries: Iterable[str]) -> Moved:
    recheck_entry_errors(series=series)  # late entries depend on key times
    refresh_key_time_errors(series, countries)
    return _recompute(series)


def timetable_changed(series: str) -> Moved:
    recheck_entry_errors(series=series)
    flag_live_entries(series=series)  # a component's zones may have changed
    refresh_key_time_errors(series)
    return _recompute(series)


def entries_changed(series: str) -> Moved:
    refresh_key_time_errors(series)
    return _counted(follow_entries(series))


def centres_changed(countries: Iterable[str], numbers: Iterable[str]) -> None:
    """Centres numbered `numbers` (their old numbers too, if renumbered) were added,
    edited, deleted or restored, in `countries` (old and new)."""
    together = _together.get()
    if together is not None:
        together[0].update(countries)
        together[1].update(numbers)
        return
    _follow_up_centres(set(countries), set(numbers))


@contextmanager
def centre_changes_together() -> Iterator[None]:
    """Follow up every centre change made inside the block once, when it ends."""
    if _together.get() is not None:
        yield
        return
    collected: tuple[set[str], set[str]] = (set(), set())
    token = _together.set(collected)
    try:
        yield
    finally:
        _together.reset(token)
    _follow_up_centres(*collected)


def _follow_up_centres(countries: set[str], numbers: set[str]) -> None:
    if numbers:
        recheck_entry_errors(centre_numbers=numbers)
        flag_live_entries(centre_numbers=numbers)  # deleted, or moved to another zone
        # A centre's country or time zone moves its windows.
        ids = list(db.session.scalars(select(Centre.id).where(Centre.number.in_(sorted(numbers)))))
        for series in db.session.scalars(
            select(Release.series).where(Release.cancelled_at.is_(None)).distinct()
        ):
            _recompute(series, ids)
    if countries:
        refresh_key_time_errors(None, countries)


def check_everything() -> Refreshed:
    """Work out every series' Entry Errors and Key Time Errors afresh: after a tz
    database upgrade, the one input that changes without an edit. An Event records it;
    returns what became of the Key Time Errors."""
    recheck_entry_errors()
    flag_live_entries()
    result = refresh_key_time_errors()
    record_event(
        "key_time_errors.checked",
        details={"found": result.found, "new": result.new, "fixed": result.fixed},
    )
    return result
