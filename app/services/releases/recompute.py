"""Keeping authorisations true when what their windows were worked out from changes.

When key times, the timetable or entries' centres (their country or time zone)
change, the windows of releases counted from key times may move. A window that has
not opened yet is moved in the same transaction. One that is open is never moved
silently: the window it would now have is kept beside it (`review_*`) for an admin
to move it or keep it (Releases → Windows to Decide), and it is left as it is until
then. So is a window not yet open for which no window can now be worked out. A
closed window is history: it never moves. Fixed windows never move.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select, update

from app.extensions import db
from app.models import (
    Authorisation,
    Centre,
    Entry,
    Release,
    ReleaseCentre,
    ReleaseResource,
    Resource,
)
from app.services.clock import utcnow
from app.services.releases import figures, notices
from app.services.releases.planning import Target, insert_authorisations, window_for
from app.services.releases.windows import WindowRule
from app.services.timetable.checks import KeyTimeTable, series_slots

ENTRY_WITHDRAWN = "The centre's entry was withdrawn after this window opened."
OPEN_WINDOW_CHANGED = (
    "The exam's key time, the timetable or the centre's time zone changed after this window opened."
)


@dataclass
class Moved:
    moved: int = 0  # not yet open: moved to their new window
    open_changed: list[int] = field(default_factory=list)  # authorisation ids, left as they were
    no_window: list[int] = field(default_factory=list)  # not yet open, now without a window
    # (release id, centre id) of every window moved, for their release notices
    centres: set[tuple[int, int]] = field(default_factory=set)
    # Entries changed: authorisations added for new entries, and taken away for
    # withdrawn ones (both not yet open); new entries whose window is already open
    # (not added: the admin adds their centres, Add centres), as (release, centre).
    added: set[tuple[int, int]] = field(default_factory=set)
    removed: set[tuple[int, int]] = field(default_factory=set)
    late: set[tuple[int, int]] = field(default_factory=set)


class Reworked(NamedTuple):
    """One authorisation as stored, and the window its release's rule gives it now."""

    id: int
    release_id: int
    centre_id: int
    opens_at: datetime
    closes_at: datetime
    review_reason: str | None
    review_opens_at: datetime | None
    review_closes_at: datetime | None
    window: tuple[datetime, datetime] | None
    why_none: str  # why `window` is None


def rule_of(release: Release) -> WindowRule:
    return WindowRule(
        opens_days=release.opens_days,
        opens_hours=release.opens_hours,
        opens_at=release.opens_at_fixed,
        closes_at=release.closes_at_fixed,
    )


def rework(
    series: str, rules: dict[int, WindowRule], centre_ids: Iterable[int] | None = None
) -> Iterator[Reworked]:
    """The authorisations of the releases in `rules` (release id → the rule to apply;
    of `centre_ids`, or every centre), each with the window that rule gives it now.
    Each (release, place, exam) is worked out once, however many centres share it."""
    query = (
        select(
            Authorisation.id,
            Authorisation.release_id,
            Authorisation.centre_id,
            Authorisation.opens_at,
            Authorisation.closes_at,
            Authorisation.review_reason,
            Authorisation.review_opens_at,
            Authorisation.review_closes_at,
            Centre.country,
            Centre.timezone,
            Resource.syllabus,
            Resource.component,
        )
        .join(Centre, Centre.id == Authorisation.centre_id)
        .join(Resource, Resource.id == Authorisation.resource_id)
        .where(Authorisation.release_id.in_(sorted(rules)))
    )
    if centre_ids is not None:
        ids = sorted(set(centre_ids))
        if not ids:
            return
        query = query.where(Authorisation.centre_id.in_(ids))
    slots = series_slots(series)
    table = KeyTimeTable.of_series(series)
    windows: dict[tuple, tuple[datetime, datetime] | str] = {}
    for row in db.session.execute(query):
        *stored, country, tz, syllabus, component = row
        key = (stored[1], country, tz, syllabus, component)
        window = windows.get(key)
        if window is None:
            window = windows[key] = window_for(
                table,
                rules[stored[1]],
                (country, tz),
                slots.get((syllabus, component)),
                f"{syllabus}/{component}",
            )
        if type(window) is str:
            yield Reworked(*stored, None, window)
        else:
            yield Reworked(*stored, window, "")


def recompute_windows(series: str, centre_ids: Iterable[int] | None = None) -> Moved:
    """Work out again the windows of `series`' releases counted from key times (of
    `centre_ids`, or every centre): move those not yet open, and put the open ones
    whose window would change up for a decision. Flushes only."""
    now = utcnow()
    rules = {
        release.id: rule_of(release)
        for release in db.session.scalars(
            select(Release).where(
                Release.series == series,
                Release.cancelled_at.is_(None),
                (Release.opens_at_fixed.is_(None)) | (Release.closes_at_fixed.is_(None)),
            )
        )
    }
    done = Moved()
    if not rules:
        return done
    moves, reviews = [], []
    for row in rework(series, rules, centre_ids):
        if row.closes_at <= now:
            continue  # closed: history
        if row.window == (row.opens_at, row.closes_at):
            if row.review_reason is not None:
                reviews.append(_review(row.id, None, None, None))  # changed back: nothing to decide
            continue
        if row.opens_at <= now or row.window is None:
            new_opens, new_closes = row.window or (None, None)
            reason = OPEN_WINDOW_CHANGED if row.opens_at <= now else row.why_none
            (done.open_changed if row.opens_at <= now else done.no_window).append(row.id)
            if (row.review_reason, row.review_opens_at, row.review_closes_at) != (
                reason,
                new_opens,
                new_closes,
            ):
                reviews.append(_review(row.id, reason, new_opens, new_closes))
            continue
        moves.append({"id_": row.id, "new_opens": row.window[0], "new_closes": row.window[1]})
        done.centres.add((row.release_id, row.centre_id))
    move_windows(moves)
    set_reviews(reviews)
    done.moved = len(moves)
    for release_id, centres in _by_release(done.centres).items():
        notices.windows_moved(release_id, centres)
    return done


def _by_release(pairs: set[tuple[int, int]]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for release_id, centre_id in sorted(pairs):
        found.setdefault(release_id, []).append(centre_id)
    return found


def _review(auth_id: int, reason, opens, closes) -> dict:
    return {"id_": auth_id, "reason": reason, "r_opens": opens, "r_closes": closes}


_TABLE = Authorisation.__table__


def move_windows(moves: list[dict]) -> None:
    """Give each authorisation ({"id_", "new_opens", "new_closes"}) its new window, with
    nothing left to decide about it (one executemany), and its centre's figures."""
    if moves:
        ids = [move["id_"] for move in moves]
        centres: dict[int, set[int]] = {}
        for start in range(0, len(ids), 5_000):
            for release_id, centre_id in db.session.execute(
                select(Authorisation.release_id, Authorisation.centre_id)
                .where(Authorisation.id.in_(ids[start : start + 5_000]))
                .distinct()
            ):
                centres.setdefault(release_id, set()).add(centre_id)
        db.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("id_"))
            .values(
                opens_at=bindparam("new_opens", type_=_TABLE.c.opens_at.type),
                closes_at=bindparam("new_closes", type_=_TABLE.c.closes_at.type),
                review_reason=None,
                review_opens_at=None,
                review_closes_at=None,
            ),
            moves,
        )
        for release_id, centre_ids in centres.items():
            figures.refresh(release_id, centre_ids)


def set_reviews(reviews: list[dict]) -> None:
    """Put authorisations up for a decision ({"id_", "reason", "r_opens", "r_closes"}),
    or take them off (reason None)."""
    if reviews:
        db.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("id_"))
            .values(
                review_reason=bindparam("reason", type_=_TABLE.c.review_reason.type),
                review_opens_at=bindparam("r_opens", type_=_TABLE.c.review_opens_at.type),
                review_closes_at=bindparam("r_closes", type_=_TABLE.c.review_closes_at.type),
            ),
            reviews,
        )


def follow_entries(series: str) -> Moved:
    """Releases to "centres entered" follow the entries: a new entry gets its
    authorisations, a withdrawn one loses them, while their windows have not opened.
    A withdrawn entry whose window is open waits for a decision; a new entry whose
    window is already open is counted (`late`), not let in silently. Centres the admin
    left out of or removed from a release stay out. Flushes only."""
    now = utcnow()
    done = Moved()
    releases = list(
        db.session.scalars(
            select(Release).where(
                Release.series == series,
                Release.audience == "entered",
                Release.cancelled_at.is_(None),
            )
        )
    )
    if not releases:
        return done
    slots = series_slots(series)
    table = KeyTimeTable.of_series(series)
    for release in releases:
        _follow_entries_of(release, now, slots, table, done)
    return done


def _follow_entries_of(release: Release, now: datetime, slots, table, done: Moved) -> None:
    resources = db.session.execute(
        select(Resource.id, Resource.syllabus, Resource.component)
        .join(ReleaseResource, ReleaseResource.resource_id == Resource.id)
        .where(ReleaseResource.release_id == release.id)
    ).all()
    kept_out = select(ReleaseCentre.centre_id).where(
        ReleaseCentre.release_id == release.id,
        ReleaseCentre.role.in_(("left-out", "removed")),
    )
    entered = db.session.execute(
        select(Entry.centre_id, Resource.id, Centre.country, Centre.timezone)
        .join(Centre, Centre.id == Entry.centre_id)
        .join(
            Resource,
            (Resource.syllabus == Entry.syllabus) & (Resource.component == Entry.component),
        )
        .where(
            Entry.series == release.series,
            Entry.withdrawn_at.is_(None),
            Centre.deleted_at.is_(None),
            Resource.id.in_([r.id for r in resources]),
            Entry.centre_id.not_in(kept_out),
        )
    ).all()
    held = {
        (centre_id, resource_id): (auth_id, opens, closes, reason)
        for auth_id, centre_id, resource_id, opens, closes, reason in db.session.execute(
            select(
                Authorisation.id,
                Authorisation.centre_id,
                Authorisation.resource_id,
                Authorisation.opens_at,
                Authorisation.closes_at,
                Authorisation.review_reason,
            ).where(Authorisation.release_id == release.id)
        )
    }
    codes = {r.id: (r.syllabus, r.component) for r in resources}
    rule = rule_of(release)
    windows: dict[tuple, tuple | str] = {}
    new: list[Target] = []
    wanted = set()
    for centre_id, resource_id, country, tz in entered:
        wanted.add((centre_id, resource_id))
        if (centre_id, resource_id) in held:
            continue
        code = codes[resource_id]
        key = (country, tz, code)
        if key not in windows:
            windows[key] = window_for(table, rule, (country, tz), slots.get(code), "/".join(code))
        window = windows[key]
        if type(window) is str:
            continue  # no window: a Key Time Error says why; the centre is added once fixed
        if window[0] <= now:
            done.late.add((release.id, centre_id))
        else:
            new.append(Target(centre_id, resource_id, *window))
            done.added.add((release.id, centre_id))
    insert_authorisations(release.id, new)
    gone, reviews = [], []
    for pair, (auth_id, opens, closes, reason) in held.items():
        if pair in wanted:
            if reason == ENTRY_WITHDRAWN:  # entered again: nothing left to decide
                reviews.append(_review(auth_id, None, None, None))
            continue
        if closes <= now:
            continue
        if opens > now:
            gone.append(auth_id)
            done.removed.add((release.id, pair[0]))
        else:
            if reason != ENTRY_WITHDRAWN:
                reviews.append(_review(auth_id, ENTRY_WITHDRAWN, None, None))
            done.open_changed.append(auth_id)
    for start in range(0, len(gone), 5_000):
        db.session.execute(_TABLE.delete().where(_TABLE.c.id.in_(gone[start : start + 5_000])))
    if gone:
        figures.refresh(release.id, {c for r, c in done.removed if r == release.id})
    set_reviews(reviews)
    # A centre given resources is told when its window opens (anew, if it had some
    # already); one that lost some or all has its notices rewritten or withdrawn.
    touched = {c for r, c in done.added | done.removed if r == release.id}
    if touched:
        notices.windows_moved(release.id, touched)
        notices.queue_opening_notices(release, [c for r, c in done.added if r == release.id])
