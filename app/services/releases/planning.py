"""Planning a release (who gets what, when) and saving it as authorisations.

`plan_release` works out, without writing anything, one window per targeted
(centre, resource) and every blocker: centres whose window cannot be worked out
(a Key Time Error, an untimetabled component with a relative rule), and targeted
centres with open Entry Errors. `save_release` writes the Release and its
authorisations in bulk (300,000 rows in one transaction), refusing while a centre
is blocked unless the admin chose to leave the blocked centres out.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
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
)
from app.services.audit import record_event
from app.services.errors import DomainError
from app.services.paging import Paging
from app.services.releases import figures, notices
from app.services.releases.windows import NoWindow, WindowRule
from app.services.timetable.checks import KeyTimeTable, Problem, problem_or_times, series_slots
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
    slots = series_slots(series)
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
                window = windows[key] = window_for(
                    table, rule, place, slot, f"{syllabus}/{component}"
                )
            if type(window) is str:
                plan.blocked.setdefault(centre_id, window)
            else:
                targets.append(Target(centre_id, resource_id, *window))
    plan.entry_errors = _open_entry_errors(
        series, {t.centre_id for t in plan.targets} | set(plan.blocked)
    )
    return plan


def window_for(
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
    plan: ReleasePlan,
    *,
    title: str,
    actor_id: int | None,
    leave_out_blocked: bool = False,
    opens_zone: str = "UTC",
    closes_zone: str = "UTC",
    notify_scheduled: bool = False,
) -> Release:
    """Store the release and one Authorisation per target, in bulk, and queue each
    centre's release notices (due when its window opens); with `notify_scheduled`, also
    an email now telling the centres the release is scheduled. Flushes, never
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
        opens_zone=opens_zone,  # the zones fixed moments were typed in, to show them so
        closes_zone=closes_zone,
        tz_version=TZ_DATABASE_VERSION,
        notify_scheduled=notify_scheduled,
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
    insert_authorisations(release.id, plan.targets)
    record_event(
        "release.created",
        subject=release,
        details={
            "series": plan.series,
            "resources": plan.resource_ids,
            "audience": plan.audience,
            "centres": plan.centres,
            "authorisations": len(plan.targets),
            "left_out": len(plan.blocked),
            "earliest": plan.earliest.isoformat() if plan.earliest else None,
            "latest": plan.latest.isoformat() if plan.latest else None,
            "notify_scheduled": notify_scheduled,
        },
    )
    # The plan's targets are the release's windows: they are not read back.
    notices.queue_release_notices(release, plan.targets, scheduled=notify_scheduled)
    return release


def insert_authorisations(release_id: int, targets: list[Target]) -> None:
    """One Authorisation per target, with Core in chunks: the ORM would make 300,000
    objects."""
    table = Authorisation.__table__
    for start in range(0, len(targets), CHUNK):
        db.session.execute(
            insert(table),
            [
                {
                    "release_id": release_id,
                    "centre_id": t.centre_id,
                    "resource_id": t.resource_id,
                    "opens_at": t.opens_at,
                    "closes_at": t.closes_at,
                }
                for t in targets[start : start + CHUNK]
            ],
        )
    if targets:
        figures.refresh(release_id, {t.centre_id for t in targets})


# Previewing a plan: what the admin sees before saving it.

PREVIEW_PAGE_SIZE = 50


@dataclass(frozen=True)
class CentrePlace:
    id: int
    number: str
    name: str
    country: str
    timezone: str


def centre_places(centre_ids: Iterable[int]) -> dict[int, CentrePlace]:
    """Number, name, country and zone of each centre, in one query per 5,000."""
    ids = sorted(set(centre_ids))
    found: dict[int, CentrePlace] = {}
    for start in range(0, len(ids), CHUNK):
        for row in db.session.execute(
            select(Centre.id, Centre.number, Centre.name, Centre.country, Centre.timezone).where(
                Centre.id.in_(ids[start : start + CHUNK])
            )
        ):
            found[row[0]] = CentrePlace(*row)
    return found


@dataclass(frozen=True)
class PreviewRow:
    centre: CentrePlace
    opens_at: datetime  # its first opening
    closes_at: datetime  # its last closing
    resources: int


@dataclass
class PreviewPage(Paging):
    rows: list[PreviewRow]
    total: int
    number: int
    size: int


def preview_page(plan: ReleasePlan, page: int, size: int | None = None) -> PreviewPage:
    """One page of the plan's centres, by Centre Number, each with its first opening
    and last closing over the resources it gets."""
    size = size or PREVIEW_PAGE_SIZE
    windows: dict[int, list] = {}
    for t in plan.targets:
        found = windows.get(t.centre_id)
        if found is None:
            windows[t.centre_id] = [t.opens_at, t.closes_at, 1]
        else:
            found[0] = min(found[0], t.opens_at)
            found[1] = max(found[1], t.closes_at)
            found[2] += 1
    numbers = (
        dict(
            db.session.execute(
                select(Centre.id, Centre.number).where(Centre.id.in_(sorted(windows)))
            ).all()
        )
        if windows
        else {}
    )
    ordered = sorted(windows, key=lambda c: numbers.get(c, ""))
    total = len(ordered)
    pages = max(1, -(-total // size))
    number = min(max(page, 1), pages)
    shown = ordered[(number - 1) * size : number * size]
    places = centre_places(shown)
    rows = [PreviewRow(places[c], *windows[c]) for c in shown]
    return PreviewPage(rows, total, number, size)


def opening_extremes(
    plan: ReleasePlan,
) -> tuple[tuple[datetime, CentrePlace] | None, tuple[datetime, CentrePlace] | None]:
    """The earliest and the latest opening, each with a centre that opens then."""
    if not plan.targets:
        return None, None
    first = min(plan.targets, key=lambda t: t.opens_at)
    last = max(plan.targets, key=lambda t: t.opens_at)
    places = centre_places({first.centre_id, last.centre_id})
    return (first.opens_at, places[first.centre_id]), (last.opens_at, places[last.centre_id])


@dataclass(frozen=True)
class ChosenCentres:
    ids: list[int]
    unknown: list[str]  # numbers of no centre
    deleted: list[str]  # numbers of deleted centres


def chosen_centres(numbers: Iterable[str]) -> ChosenCentres:
    """Centre ids for the Centre Numbers an admin pasted (case ignored)."""
    wanted = sorted({n.strip().upper() for n in numbers if n.strip()})
    found: dict[str, tuple[int, bool]] = {}
    for start in range(0, len(wanted), CHUNK):
        for number, centre_id, deleted in db.session.execute(
            select(Centre.number, Centre.id, Centre.deleted_at.is_not(None)).where(
                Centre.number.in_(wanted[start : start + CHUNK])
            )
        ):
            found[number] = (centre_id, deleted)
    return ChosenCentres(
        ids=sorted(c for c, deleted in found.values() if not deleted),
        unknown=[n for n in wanted if n not in found],
        deleted=[n for n in wanted if n in found and found[n][1]],
    )


# Choosing the resources: the series' resources that are not deleted.

PICK_MAX = 500


@dataclass(frozen=True)
class Pickable:
    resources: list[Resource]  # those matching the filters, and every ticked one
    matching: int  # how many match the filters
    shown_matching: int  # how many of those are in `resources`
    ids: set[int]  # every resource of the series that may be released


def pickable_resources(
    series: str, syllabus: str, component: str, kind: str, ticked: Iterable[int]
) -> Pickable:
    """The resources of `series` to choose from: those matching the filters (at most
    PICK_MAX), and the ticked ones whatever the filters say."""
    live = (Resource.series == series, Resource.deleted_at.is_(None))
    ids = set(db.session.scalars(select(Resource.id).where(*live)))
    filters = []
    if syllabus:
        filters.append(Resource.syllabus.startswith(syllabus, autoescape=True))
    if component:
        filters.append(Resource.component == component)
    if kind:
        filters.append(Resource.kind == kind)
    order = (Resource.syllabus, Resource.component, Resource.kind, Resource.title, Resource.id)
    matching = db.session.scalar(select(func.count()).where(*live, *filters)) or 0
    shown = list(
        db.session.scalars(select(Resource).where(*live, *filters).order_by(*order).limit(PICK_MAX))
    )
    extra_ids = sorted((set(ticked) & ids) - {r.id for r in shown})
    extra = (
        list(db.session.scalars(select(Resource).where(Resource.id.in_(extra_ids))))
        if extra_ids
        else []
    )
    every = sorted(shown + extra, key=lambda r: (r.syllabus, r.component, r.kind, r.title, r.id))
    return Pickable(every, matching, len(shown), ids)


def fingerprint(plan: ReleasePlan, *, notify_scheduled: bool = False) -> str:
    """A digest of everything the plan would store, and of whether the centres are told
    now, so that Save can tell whether the plan it works out now is the one the admin
    previewed."""
    digest = hashlib.sha256()
    rule = plan.rule
    digest.update(
        repr(
            (
                notify_scheduled,
                plan.series,
                plan.resource_ids,
                plan.audience,
                plan.chosen,
                rule.opens_days,
                rule.opens_hours,
                rule.opens_at,
                rule.closes_at,
                sorted(plan.blocked.items()),
            )
        ).encode()
    )
    for t in sorted(plan.targets, key=lambda t: (t.centre_id, t.resource_id)):
        digest.update(
            f"{t.centre_id},{t.resource_id},{t.opens_at.isoformat()},{t.closes_at.isoformat()};".encode()
        )
    return digest.hexdigest()
