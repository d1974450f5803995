"""Manage Releases: the releases by series with their status and counts, one
release's per-centre table, and Cancel release.

Every list is worked out with grouped queries (one per aggregate), never a query
per release or per centre. Flushes, never commits.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Authorisation,
    Centre,
    CentreFigures,
    Release,
    ReleaseCentre,
    ReleaseResource,
    Resource,
)
from app.services.audit import record_event, refuse_stale_edit
from app.services.errors import DomainError
from app.services.paging import Paging
from app.services.releases import figures, notices

PAGE_SIZE = 50

# A release's status, from its authorisations' windows and the time now:
#   Cancelled  cancelled_at is set (whatever the windows say)
#   Scheduled  now < the first opening            (no centre open yet)
#   Opening    first opening ≤ now < last opening (some centres open, some not yet)
#   Open       last opening ≤ now < first closing (every centre open)
#   Closing    first closing ≤ now < last closing (some centres closed, some still open)
#   Closed     last closing ≤ now                 (every window closed)
STATUSES = ("Scheduled", "Opening", "Open", "Closing", "Closed", "Cancelled")

# A centre's status in a release, from its first opening and last closing there.
CENTRE_STATUSES = {"not-yet": "Not yet open", "open": "Open", "closed": "Closed"}


class CancelRefused(DomainError):
    """The release cannot be cancelled; str() says why."""


def release_status(
    cancelled: bool,
    first_opens: datetime | None,
    last_opens: datetime | None,
    first_closes: datetime | None,
    last_closes: datetime | None,
    now: datetime,
) -> str:
    """One of STATUSES (see above). A release without authorisations is Closed."""
    if cancelled:
        return "Cancelled"
    if first_opens is None:
        return "Closed"
    if now < first_opens:
        return "Scheduled"
    if now < last_opens:
        return "Opening"
    if now < first_closes:
        return "Open"
    if now < last_closes:
        return "Closing"
    return "Closed"


@dataclass
class ReleaseSummary:
    release: Release
    status: str = "Closed"
    resources: int = 0
    centres: int = 0
    authorisations: int = 0
    downloads: int = 0
    left_out: int = 0
    first_opens: datetime | None = None
    last_opens: datetime | None = None
    first_closes: datetime | None = None
    last_closes: datetime | None = None


def _windows(release_ids: list[int] | None):
    """Per release: its windows' first and last opening and closing, authorisations,
    centres and files sent, from its centres' figures (one short row per centre)."""
    f = CentreFigures
    query = select(
        f.release_id,
        func.min(f.opens_at),
        func.max(f.last_opens_at),
        func.min(f.first_closes_at),
        func.max(f.closes_at),
        func.sum(f.resources),
        func.count(),
        func.sum(f.downloads),
    ).group_by(f.release_id)
    if release_ids is not None:
        query = query.where(f.release_id.in_(release_ids))
    return db.session.execute(query)


def _counted(column, *conditions, release_ids: list[int] | None) -> dict[int, int]:
    query = select(column, func.count()).where(*conditions).group_by(column)
    if release_ids is not None:
        query = query.where(column.in_(release_ids))
    return dict(db.session.execute(query).all())


def summaries(
    releases: list[Release], now: datetime, *, every: bool = False
) -> list[ReleaseSummary]:
    """Status and counts of `releases` (`every`: they are all the releases there are,
    so the grouped queries need no list of ids)."""
    ids = None if every else [r.id for r in releases]
    found = {r.id: ReleaseSummary(r) for r in releases}
    if not found:
        return []
    for release_id, first_o, last_o, first_c, last_c, count, centres, sent in _windows(ids):
        if release_id in found:
            row = found[release_id]
            row.first_opens, row.last_opens = first_o, last_o
            row.first_closes, row.last_closes = first_c, last_c
            row.authorisations, row.centres, row.downloads = count, centres, sent
    for name, counts in (
        ("resources", _counted(ReleaseResource.release_id, release_ids=ids)),
        (
            "left_out",
            _counted(ReleaseCentre.release_id, ReleaseCentre.role == "left-out", release_ids=ids),
        ),
    ):
        for release_id, count in counts.items():
            if release_id in found:
                setattr(found[release_id], name, count)
    for row in found.values():
        row.status = release_status(
            row.release.is_cancelled,
            row.first_opens,
            row.last_opens,
            row.first_closes,
            row.last_closes,
            now,
        )
    return [found[r.id] for r in releases]


def releases_by_series(now: datetime) -> list[tuple[str, list[ReleaseSummary]]]:
    """Every release with its status and counts, grouped by series (newest series
    first, newest release first within it)."""
    releases = db.session.scalars(
        select(Release).order_by(
            Release.series.desc(), Release.created_at.desc(), Release.id.desc()
        )
    ).all()
    grouped: dict[str, list[ReleaseSummary]] = {}
    for row in summaries(list(releases), now, every=True):
        grouped.setdefault(row.release.series, []).append(row)
    return list(grouped.items())


def summary_of(release: Release, now: datetime) -> ReleaseSummary:
    return summaries([release], now)[0]


def resources_of(release: Release) -> list[Resource]:
    return list(
        db.session.scalars(
            select(Resource)
            .join(ReleaseResource, ReleaseResource.resource_id == Resource.id)
            .where(ReleaseResource.release_id == release.id)
            .order_by(Resource.syllabus, Resource.component, Resource.kind, Resource.title)
        )
    )


def left_out_centres(release: Release) -> list[tuple[Centre, str]]:
    return [
        (centre, reason)
        for centre, reason in db.session.execute(
            select(Centre, ReleaseCentre.reason)
            .join(ReleaseCentre, ReleaseCentre.centre_id == Centre.id)
            .where(
                ReleaseCentre.release_id == release.id,
                ReleaseCentre.role.in_(("left-out", "removed")),
            )
            .order_by(Centre.number)
        )
    ]


@dataclass(frozen=True)
class CentreFilters:
    country: str = ""
    status: str = ""  # a key of CENTRE_STATUSES, or ""
    downloaded: str = ""  # "yes", "no" or ""

    @property
    def any(self) -> bool:
        return bool(self.country or self.status or self.downloaded)


@dataclass(frozen=True)
class CentreRow:
    centre_id: int
    number: str
    name: str
    country: str
    timezone: str
    opens_at: datetime  # its first opening in the release
    closes_at: datetime  # its last closing
    resources: int
    downloaded: bool
    status: str  # a key of CENTRE_STATUSES


@dataclass
class CentrePage(Paging):
    rows: list[CentreRow]
    total: int
    number: int
    size: int
    countries: list[str] = field(default_factory=list)  # every country in the release


def release_centres(
    release: Release, filters: CentreFilters, page: int, now: datetime, size: int | None = None
) -> CentrePage:
    """The release's centres, one row each (by Centre Number), filtered and paged.

    A centre is "not yet open" before its first opening in the release, "closed"
    from its last closing, and "open" in between; "downloaded" means at least one
    file was sent to it under this release."""
    size = size or PAGE_SIZE
    f = CentreFigures
    conditions = [f.release_id == release.id]
    if filters.country:
        conditions.append(Centre.country == filters.country)
    if filters.downloaded == "yes":
        conditions.append(f.downloads > 0)
    elif filters.downloaded == "no":
        conditions.append(f.downloads == 0)
    if filters.status == "not-yet":
        conditions.append(f.opens_at > now)
    elif filters.status == "open":
        conditions.extend((f.opens_at <= now, f.closes_at > now))
    elif filters.status == "closed":
        conditions.append(f.closes_at <= now)
    in_release = select(f.centre_id).join(Centre, Centre.id == f.centre_id)
    total = db.session.scalar(
        select(func.count()).select_from(in_release.where(*conditions).subquery())
    )
    pages = max(1, -(-(total or 0) // size))
    number = min(page, pages)
    rows = []
    for centre_id, num, name, country, tz, first, last, count, sent in db.session.execute(
        select(
            f.centre_id,
            Centre.number,
            Centre.name,
            Centre.country,
            Centre.timezone,
            f.opens_at,
            f.closes_at,
            f.resources,
            f.downloads,
        )
        .join(Centre, Centre.id == f.centre_id)
        .where(*conditions)
        .order_by(Centre.number)
        .limit(size)
        .offset((number - 1) * size)
    ):
        status = "not-yet" if now < first else "closed" if last <= now else "open"
        rows.append(
            CentreRow(centre_id, num, name, country, tz, first, last, count, sent > 0, status)
        )
    countries = list(
        db.session.scalars(
            select(Centre.country)
            .join(f, f.centre_id == Centre.id)
            .where(f.release_id == release.id)
            .distinct()
            .order_by(Centre.country)
        )
    )
    return CentrePage(rows, total or 0, number, size, countries)


def cancel_release(
    release: Release, read_version: int | None, actor_id: int | None, now: datetime
) -> None:
    """Cancel `release`: its authorisations stay (the record of what was released),
    but no download is allowed under it from `now` (access.may_download checks it).
    Refused if already cancelled, or if the page was read at an older version."""
    if release.is_cancelled:
        raise CancelRefused("This release is already cancelled.")
    refuse_stale_edit(release, read_version, "release")
    release.cancelled_at = now
    release.cancelled_by_id = actor_id
    db.session.flush()
    notices.withdraw_notices(release.id)
    record_event(
        "release.cancelled",
        subject=release,
        details={"series": release.series, "title": release.title},
    )


def remove_centre(release: Release, centre: Centre, read_version: int | None, now: datetime) -> int:
    """Take `centre` out of `release`: its authorisations under it are deleted, so its
    users cannot download from the next request on, and the centre is listed on the
    release as removed. Refused on a cancelled release, for a centre the release does
    not authorise, or from a page read at an older version. Returns how many
    authorisations went."""
    if release.is_cancelled:
        raise CancelRefused("This release is cancelled: its centres have no access already.")
    refuse_stale_edit(release, read_version, "release")
    table = Authorisation.__table__
    removed = db.session.execute(
        table.delete().where(table.c.release_id == release.id, table.c.centre_id == centre.id)
    ).rowcount
    if not removed:
        raise CancelRefused(f"Centre {centre.number} is not in this release.")
    figures.refresh(release.id, [centre.id])
    reason = f"Removed on {now:%d %b %Y %H:%M} UTC."
    listed = db.session.get(ReleaseCentre, (release.id, centre.id))
    if listed is None:
        db.session.add(
            ReleaseCentre(release_id=release.id, centre_id=centre.id, role="removed", reason=reason)
        )
    else:
        listed.role, listed.reason = "removed", reason
    release.updated_at = now  # a change to the release: its version moves on
    db.session.flush()
    notices.withdraw_notices(release.id, [centre.id])
    record_event(
        "release.centre_removed",
        subject=release,
        details={"centre": centre.number, "authorisations": removed},
    )
    return removed
