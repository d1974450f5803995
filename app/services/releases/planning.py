"""Planning a release (who gets what, when) and saving it as authorisations.

`plan_release` works out, without writing anything, one window per targeted
(centre, resource) and every blocker: centres whose window cannot be worked out
(a Key Time Error, an untimetabled component with a relative rule), and targeted
centres with open Entry Errors. `save_release` writes the Release and its
authorisations in bulk (300,000 rows in one transaction), refusing while a centre
is blocked unless the admin chose to leave the blocked centres out.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models import (
    Authorisation,
    Centre,
    Entry,
    EntryError,
    Release,
    ReleaseCentre,
    ReleaseResource,
    Resource,
    TimetableSlot,
)
from app.services.audit import record_event
from app.services.errors import DomainError
from app.services.releases.windows import NoWindow, WindowRule
from app.services.timetable.checks import KeyTimeTable, Problem, problem_or_times
from app.services.timetable.instants import TZ_DATABASE_VERSION

CHUNK = 5_000


class ReleaseRefused(DomainError):
    """The release cannot be saved as planned; str() says why."""


class Target(NamedTuple):
    """One authorisation to be (a tuple: 300,000 are made at once)."""

    centre_id: int
    resource_id: int
    opens_at: datetime
    closes_at: datetime


@dataclass
class ReleasePlan:
    series: str
    resource_ids: list[int]
    audience: str
    rule: WindowRule
    chosen: list[int] = field(default_factory=list)  # centre ids, for "chosen"
    targets: list[Target] = field(default_factory=list)
    # centre id → why no window can be worked out for it (the first reason found)
    blocked: dict[int, str] = field(default_factory=dict)
    # centre id → how many open Entry Errors it has in the series
    entry_errors: dict[int, int] = field(default_factory=dict)

    @property
    def centres(self) -> int:
        return len({t.centre_id for t in self.targets})

    @property
    def earliest(self) -> datetime | None:
        return min((t.opens_at for t in self.targets), default=None)

    @property
    def latest(self) -> datetime | None:
        return max((t.opens_at for t in self.targets), default=None)


def plan_release(
    series: str,
    resource_ids: Iterable[int],
    audience: str,
    rule: WindowRule,
    chosen: Iterable[int] = (),
) -> ReleasePlan:
    """What releasing these resources of `series` to `audience` would authorise."""
    plan = ReleasePlan(series, sorted(set(resource_ids)), audience, rule, sorted(set(chosen)))
    resources = db.session.execute(
        select(Resource.id, Resource.syllabus, Resource.component).where(
            Resource.id.in_(plan.resource_ids),
            Resource.series == series,
            Resource.deleted_at.is_(None),
        )
    ).all()
    if len(resources) != len(plan.resource_ids):
        raise ReleaseRefused("Choose resources of this series that are not deleted.")
    slots = {
        (syllabus, component): (session, day, timedelta(minutes=minutes))
        for syllabus, component, session, day, minutes in db.session.execute(
            select(
                TimetableSlot.syllabus,
                TimetableSlot.component,
                TimetableSlot.session,
                TimetableSlot.exam_date,
                TimetableSlot.duration_minutes,
            ).where(TimetableSlot.series == series)
        )
    }
    live = select(Centre.id, Centre.country, Centre.timezone).where(Centre.deleted_at.is_(None))
    if audience == "chosen":
        live = live.where(Centre.id.in_(plan.chosen))
    places = {centre_id: (country, tz) for centre_id, country, tz in db.session.execute(live)}
    table = KeyTimeTable.of_series(series)
    # Every centre in one place sitting one slot has the same window (or the same
    # reason for none): each is worked out once, however many centres share it.
    windows: dict[tuple, tuple[datetime, datetime] | str] = {}
    targets = plan.targets
    for resource_id, syllabus, component in resources:
        slot = slots.get((syllabus, component))
        for centre_id in _audience(plan, syllabus, component, places):
            place = places[centre_id]
            key = (place, slot)
            window = windows.get(key)
            if window is None:
                window = windows[key] = _window(table, rule, place, slot, f"{syllabus}/{component}")
            if type(window) is str:
                plan.blocked.setdefault(centre_id, window)
            else:
                targets.append(Target(centre_id, resource_id, *window))
    plan.entry_errors = _open_entry_errors(
        series, {t.centre_id for t in plan.targets} | set(plan.blocked)
    )
    return plan


def _window(
    table: KeyTimeTable, rule: WindowRule, place: tuple[str, str], slot: tuple | None, code: str
) -> tuple[datetime, datetime] | str:
    """The window for centres in `place` sitting `slot`, or why there is none."""
    country, tz = place
    exam = None
    if slot is not None:
        found = problem_or_times(table, country, tz, *slot)
        exam = found.times if isinstance(found, Problem) else found
        if exam is None and rule.needs_exam:
            return found.detail
    try:
        return rule.window(exam, tz)
    except NoWindow as error:
        return f"{code} is not timetabled: {error}" if slot is None else str(error)


def _audience(plan: ReleasePlan, syllabus: str, component: str, places: dict) -> list[int]:
    """The live centres a resource of this component goes to."""
    if plan.audience in ("all", "chosen"):
        return list(places)
    entered = db.session.scalars(
        select(Entry.centre_id).where(
            Entry.series == plan.series,
            Entry.syllabus == syllabus,
            Entry.component == component,
            Entry.withdrawn_at.is_(None),
        )
    )
    return [centre_id for centre_id in entered if centre_id in places]


def _open_entry_errors(series: str, centre_ids: set[int]) -> dict[int, int]:
    if not centre_ids:
        return {}
    numbers = dict(
        db.session.execute(
            select(Centre.number, Centre.id).where(Centre.id.in_(sorted(centre_ids)))
        ).all()
    )
    counts = db.session.execute(
        select(EntryError.centre_number, func.count())
        .where(
            EntryError.series == series,
            EntryError.resolved_at.is_(None),
            EntryError.dismissed_at.is_(None),
            EntryError.centre_number.in_(sorted(numbers)),
        )
        .group_by(EntryError.centre_number)
    )
    return {numbers[number]: count for number, count in counts}


def save_release(
    plan: ReleasePlan, *, title: str, actor_id: int | None, leave_out_blocked: bool = False
) -> Release:
    """Store the release and one Authorisation per target, in bulk. Flushes, never
    commits. Refused while centres are blocked, unless `leave_out_blocked`: then
    they are recorded on the release as left out, with why."""
    if plan.blocked and not leave_out_blocked:
        raise ReleaseRefused(
            f"No window can be worked out for {len(plan.blocked):,} centre(s): correct their "
            "key times or entries, or leave them out of this release."
        )
    if not plan.targets:
        raise ReleaseRefused("This release would authorise nothing: no centre is targeted.")
    rule = plan.rule
    release = Release(
        series=plan.series,
        title=title,
        audience=plan.audience,
        opens_days=rule.opens_days if rule.opens_at is None else None,
        opens_hours=rule.opens_hours if rule.opens_at is None else None,
        opens_at_fixed=rule.opens_at,
        closes_at_fixed=rule.closes_at,
        tz_version=TZ_DATABASE_VERSION,
        created_by_id=actor_id,
    )
    db.session.add(release)
    db.session.flush()
    db.session.execute(
        insert(ReleaseResource),
        [{"release_id": release.id, "resource_id": r} for r in plan.resource_ids],
    )
    named = [
        {"release_id": release.id, "centre_id": c, "role": "chosen", "reason": ""}
        for c in (plan.chosen if plan.audience == "chosen" else ())
        if c not in plan.blocked
    ] + [
        {"release_id": release.id, "centre_id": c, "role": "left-out", "reason": why}
        for c, why in sorted(plan.blocked.items())
    ]
    if named:
        db.session.execute(insert(ReleaseCentre), named)
    # Core, in chunks: the ORM would make 300,000 objects.
    table = Authorisation.__table__
    rows = [
        {
            "release_id": release.id,
            "centre_id": t.centre_id,
            "resource_id": t.resource_id,
            "opens_at": t.opens_at,
            "closes_at": t.closes_at,
        }
        for t in plan.targets
    ]
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[start : start + CHUNK])
    record_event(
        "release.created",
        subject=release,
        details={
            "series": plan.series,
            "resources": plan.resource_ids,
            "audience": plan.audience,
            "centres": plan.centres,
            "authorisations": len(rows),
            "left_out": len(plan.blocked),
            "earliest": plan.earliest.isoformat() if plan.earliest else None,
            "latest": plan.latest.isoformat() if plan.latest else None,
        },
    )
    return release
