"""Keeping authorisations true when what their windows were worked out from changes.

When key times, the timetable, entries' centres (their country or time zone) change,
the windows of releases counted from key times may move. A window that has not
opened yet is moved in the same transaction; one that is already open is never
moved silently: it is counted as needing an admin's decision (and left as it is).
Fixed windows never move.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import Authorisation, Centre, Release, Resource
from app.services.clock import utcnow
from app.services.releases.windows import NoWindow, WindowRule
from app.services.timetable.checks import KeyTimeTable, Problem, problem_or_times, series_slots


@dataclass
class Moved:
    moved: int = 0  # not yet open: moved to their new window
    open_changed: list[int] = field(default_factory=list)  # authorisation ids, left as they were
    no_window: list[int] = field(default_factory=list)  # not yet open, now without a window


def recompute_windows(series: str, centre_ids: Iterable[int] | None = None) -> Moved:
    """Work out again the windows of `series`' releases counted from key times (of
    `centre_ids`, or every centre), and move those not yet open. Flushes only."""
    now = utcnow()
    releases = {
        release.id: release
        for release in db.session.scalars(
            select(Release).where(
                Release.series == series,
                Release.cancelled_at.is_(None),
                (Release.opens_at_fixed.is_(None)) | (Release.closes_at_fixed.is_(None)),
            )
        )
    }
    done = Moved()
    if not releases:
        return done
    query = (
        select(
            Authorisation.id,
            Authorisation.release_id,
            Authorisation.opens_at,
            Authorisation.closes_at,
            Centre.country,
            Centre.timezone,
            Resource.syllabus,
            Resource.component,
        )
        .join(Centre, Centre.id == Authorisation.centre_id)
        .join(Resource, Resource.id == Authorisation.resource_id)
        .where(Authorisation.release_id.in_(list(releases)))
    )
    if centre_ids is not None:
        ids = sorted(set(centre_ids))
        if not ids:
            return done
        query = query.where(Authorisation.centre_id.in_(ids))
    slots = series_slots(series)
    table = KeyTimeTable.of_series(series)
    rules = {release_id: _rule_of(release) for release_id, release in releases.items()}
    windows: dict[tuple, tuple[datetime, datetime] | None] = {}
    changes = []
    for auth_id, release_id, opens, closes, country, tz, syllabus, component in db.session.execute(
        query
    ):
        key = (release_id, country, tz, syllabus, component)
        if key not in windows:
            windows[key] = _window(
                rules[release_id], table, country, tz, slots.get((syllabus, component))
            )
        window = windows[key]
        if window == (opens, closes):
            continue
        if opens <= now:
            done.open_changed.append(auth_id)
        elif window is None:
            done.no_window.append(auth_id)
        else:
            changes.append({"id_": auth_id, "new_opens": window[0], "new_closes": window[1]})
    if changes:
        table_ = Authorisation.__table__
        db.session.execute(
            update(table_)
            .where(table_.c.id == bindparam("id_"))
            .values(
                opens_at=bindparam("new_opens", type_=table_.c.opens_at.type),
                closes_at=bindparam("new_closes", type_=table_.c.closes_at.type),
            ),
            changes,
        )
        done.moved = len(changes)
    return done


def _rule_of(release: Release) -> WindowRule:
    return WindowRule(
        opens_days=release.opens_days,
        opens_hours=release.opens_hours,
        opens_at=release.opens_at_fixed,
        closes_at=release.closes_at_fixed,
    )


def _window(rule: WindowRule, table, country: str, tz: str, slot) -> tuple | None:
    exam = None
    if slot is not None:
        found = problem_or_times(table, country, tz, *slot)
        exam = found.times if isinstance(found, Problem) else found
    try:
        return rule.window(exam, tz)
    except NoWindow:
        return None
