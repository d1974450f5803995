"""Audit Reports: the releases, and by release who has and who has not downloaded.

What the words mean (the by-release page says the same to the admin):

- A centre's **window** in a release runs from its first opening to its last closing
  over the resources it is authorised for there. It is *not yet open* before the first
  opening, *closed* from the last closing, *open* in between, at the time now
  (manage.CENTRE_STATUSES, as on the release's page).
- **Downloaded**: at least one file was sent to one of the centre's users under this
  release (a Download with status "sent": the file, or the part a Range asked for).
  A "not-modified" answer (304: the browser's copy was already current, nothing was
  sent) and refused attempts do not count, as on Manage Releases.
- **Not downloaded**: the window is open or closed, and nothing was sent under the
  release. A centre whose window has not opened yet is neither.
- **Downloaded a replaced version**: for at least one resource of the release, the
  latest file sent to the centre under the release is a version that has since been
  replaced (its number is below the resource's current version): the centre has not
  downloaded the current version since.

The rows are the centres the release authorises now (centres removed from it are
listed on the release's page). Soft-deleted centres keep their rows.

Queries. A centre's figures in the release (first opening, last closing, resources,
files sent, the first of them) are kept in release_centre_figures by the services
that change them (services/releases/figures.py), one short row per centre: so the
totals read the release's rows once (joined to centres for country and zone), a page
reads the 50 rows it shows, and an export reads them all in batches. Only the
"replaced version" flag is worked out here, from the replaced files' downloads
(downloads (resource_file_id, at)): nothing to read when no file was replaced.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, false, func, literal_column, or_, select

from app.extensions import db
from app.models import (
    Centre,
    CentreFigures,
    Download,
    Release,
    ReleaseResource,
    Resource,
    ResourceFile,
)
from app.services.paging import Paging
from app.services.releases.manage import CENTRE_STATUSES, ReleaseSummary, summaries

PAGE_SIZE = 50
RELEASES_PAGE_SIZE = 20
EXPORT_BATCH = 1_000
ZONES = tuple(range(1, 7))
WINDOW_STATUSES = CENTRE_STATUSES  # not-yet, open, closed
DOWNLOADED_CHOICES = {"yes": "Downloaded", "no": "Not downloaded"}
SENT = "sent"
# EXISTS (SELECT 1 ...), not SQLAlchemy's SELECT *: SQLite then answers it from an
# index alone, without reading the row.
ONE = literal_column("1")


# ---------------------------------------------------------------------------
# The releases (the landing page)


@dataclass(frozen=True)
class ReleaseLine:
    summary: ReleaseSummary  # status, centres, windows (manage.summaries)
    downloaded: int  # centres with a file sent under it

    @property
    def release(self) -> Release:
        return self.summary.release


@dataclass
class ReleaseList(Paging):
    lines: list[ReleaseLine]
    total: int
    number: int
    size: int

    @property
    def by_series(self) -> list[tuple[str, list[ReleaseLine]]]:
        grouped: dict[str, list[ReleaseLine]] = {}
        for line in self.lines:
            grouped.setdefault(line.release.series, []).append(line)
        return list(grouped.items())


def release_list(page: int, now: datetime, size: int | None = None) -> ReleaseList:
    """The releases newest first (newest series first, then newest saved), a page of
    them, each with its status and how many of its centres have downloaded."""
    size = size or RELEASES_PAGE_SIZE
    total = db.session.scalar(select(func.count(Release.id))) or 0
    number = min(page, max(1, -(-total // size)))
    releases = list(
        db.session.scalars(
            select(Release)
            .order_by(Release.series.desc(), Release.created_at.desc(), Release.id.desc())
            .limit(size)
            .offset((number - 1) * size)
        )
    )
    downloaded = downloaded_centres([r.id for r in releases])
    lines = [ReleaseLine(s, downloaded.get(s.release.id, 0)) for s in summaries(releases, now)]
    return ReleaseList(lines, total, number, size)


def downloaded_centres(release_ids: list[int]) -> dict[int, int]:
    """Release id → how many of the centres it authorises had a file sent under it."""
    if not release_ids:
        return {}
    f = FIGURES
    return dict(
        db.session.execute(
            select(f.c.release_id, func.count())
            .where(f.c.release_id.in_(release_ids), f.c.downloads > 0)
            .group_by(f.c.release_id)
        ).all()
    )


# ---------------------------------------------------------------------------
# By release


@dataclass(frozen=True)
class ReleaseFilters:
    country: str = ""  # ISO code, or ""
    zone: int | None = None  # 1-6
    downloaded: str = ""  # a key of DOWNLOADED_CHOICES, or ""
    window: str = ""  # a key of WINDOW_STATUSES, or ""
    replaced: bool = False  # only centres that downloaded a replaced version

    @property
    def any(self) -> bool:
        return bool(self.country or self.zone or self.downloaded or self.window or self.replaced)

    def args(self) -> dict[str, str]:
        """The filters set, as query-string values (for links, and the export's Event)."""
        values = {
            "country": self.country,
            "zone": str(self.zone) if self.zone else "",
            "downloaded": self.downloaded,
            "window": self.window,
            "replaced": "yes" if self.replaced else "",
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class CountryTotals:
    country: str
    centres: int  # in the release
    downloaded: int  # with a file sent under it
    not_yet: int  # window not yet open
    closed: int  # window closed
    missed_open: int  # not downloaded: window open, nothing sent
    missed_closed: int  # not downloaded: window closed, nothing sent
    replaced: int  # downloaded a replaced version, not the current one since
    matching: int  # of `centres`, how many the filters keep
    first_opens: datetime | None  # the first centre's first opening
    last_closes: datetime | None  # the last centre's last closing


def _summed(name: str) -> property:
    """A total over the countries of one of CountryTotals' counts."""
    return property(lambda self: sum(getattr(row, name) for row in self.by_country))


@dataclass(frozen=True)
class ReleaseTotals:
    by_country: list[CountryTotals]

    centres = _summed("centres")
    downloaded = _summed("downloaded")
    not_yet = _summed("not_yet")
    closed = _summed("closed")
    missed_open = _summed("missed_open")
    missed_closed = _summed("missed_closed")
    replaced = _summed("replaced")
    matching = _summed("matching")

    @property
    def open(self) -> int:
        return self.centres - self.not_yet - self.closed

    @property
    def not_downloaded(self) -> int:
        return self.missed_open + self.missed_closed

    @property
    def countries(self) -> list[str]:
        return [row.country for row in self.by_country]

    @property
    def first_opens(self) -> datetime | None:
        return min((r.first_opens for r in self.by_country), default=None)

    @property
    def last_closes(self) -> datetime | None:
        return max((r.last_closes for r in self.by_country), default=None)


@dataclass(frozen=True)
class CentreAudit:
    """One centre's row of the by-release report."""

    centre_id: int
    number: str
    name: str
    country: str
    zone: int
    timezone: str
    deleted: bool
    opens_at: datetime  # its first opening in the release
    closes_at: datetime  # its last closing
    resources: int  # authorised to it under the release
    downloads: int  # files sent under the release
    first_download_at: datetime | None
    first_download_by: str | None  # the user's email, kept if the account was deleted
    replaced: bool  # see the module's docstring
    window: str  # a key of WINDOW_STATUSES

    @property
    def downloaded(self) -> bool:
        return self.downloads > 0

    @property
    def not_downloaded(self) -> bool:
        return not self.downloaded and self.window != "not-yet"


@dataclass
class ReleaseReport(Paging):
    rows: list[CentreAudit]
    totals: ReleaseTotals
    number: int
    size: int
    filters: ReleaseFilters = field(default_factory=ReleaseFilters)

    @property
    def total(self) -> int:  # what the pages count: the centres that match
        return self.totals.matching


DOWNLOADS, FILES, RESOURCES = Download.__table__, ResourceFile.__table__, Resource.__table__
FIGURES = CentreFigures.__table__


def _replaced_condition(release_id: int, centre_id, *, every: bool):
    """Whether the centre (the column `centre_id`) downloaded a replaced version: false
    outright when no resource of the release has a replaced file (the usual case: one
    indexed look), else found for the whole release (`every`) or centre by centre."""
    replaced_any = db.session.scalar(
        select(ONE)
        .select_from(ReleaseResource)
        .join(Resource, Resource.id == ReleaseResource.resource_id)
        .where(ReleaseResource.release_id == release_id, Resource.current_version > 1)
        .limit(1)
    )
    if replaced_any is None:
        return false()
    if every:
        return centre_id.in_(_replaced_centres(release_id))
    return _replaced_for(release_id, centre_id)


def _replaced_centres(release_id: int):
    """The ids of the centres that downloaded a replaced version and not the current
    one since: for some resource of the release, the latest old version sent to the
    centre is later than the latest current version sent (or none was). Driven from
    the files of the release's replaced resources (few: replacing a file is rare)
    through downloads' index on resource_file_id; nothing to read when none was."""
    d, f, r = DOWNLOADS, FILES, RESOURCES
    latest = (
        select(
            d.c.centre_id.label("centre_id"),
            func.max(case((f.c.number < r.c.current_version, d.c.at))).label("old"),
            func.max(case((f.c.number == r.c.current_version, d.c.at))).label("current"),
        )
        .select_from(r)
        .join(f, f.c.resource_id == r.c.id)
        .join(d, d.c.resource_file_id == f.c.id)
        .where(
            r.c.id.in_(
                select(ReleaseResource.resource_id).where(ReleaseResource.release_id == release_id)
            ),
            r.c.current_version > 1,
            # "+ 0": not a term an index can serve, so that SQLite reads this from the
            # replaced files' downloads, not from every download under the release.
            d.c.release_id + 0 == release_id,
            d.c.status == SENT,
        )
        .group_by(r.c.id, d.c.centre_id)
        .subquery("latest")
    )
    return select(latest.c.centre_id).where(
        latest.c.old.is_not(None),
        or_(latest.c.current.is_(None), latest.c.current < latest.c.old),
    )


def _conditions(
    filters: ReleaseFilters, now: datetime, *, country, zone, opens, closes, sent
) -> list:
    """The filters as SQL conditions on these columns (of whichever query applies them)."""
    conditions = []
    if filters.country:
        conditions.append(country == filters.country)
    if filters.zone:
        conditions.append(zone == filters.zone)
    if filters.window == "not-yet":
        conditions.append(opens > now)
    elif filters.window == "open":
        conditions.extend((opens <= now, closes > now))
    elif filters.window == "closed":
        conditions.append(closes <= now)
    if filters.downloaded == "yes":
        conditions.append(sent)
    elif filters.downloaded == "no":
        conditions.extend((~sent, opens <= now))
    return conditions


def release_totals(release: Release, filters: ReleaseFilters, now: datetime) -> ReleaseTotals:
    """The release's centres counted by country: downloaded, windows, not downloaded,
    replaced versions, and how many the filters keep. One statement over the
    release's figures."""
    f = FIGURES
    replaced = _replaced_condition(release.id, f.c.centre_id, every=True)
    sent = f.c.downloads > 0
    matching = _conditions(
        filters,
        now,
        country=Centre.country,
        zone=Centre.zone,
        opens=f.c.opens_at,
        closes=f.c.closes_at,
        sent=sent,
    )
    if filters.replaced:
        matching.append(replaced)

    def counted(*conditions):
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            Centre.country,
            func.count(),
            counted(sent),
            counted(f.c.opens_at > now),
            counted(f.c.closes_at <= now),
            counted(~sent, f.c.opens_at <= now, f.c.closes_at > now),
            counted(~sent, f.c.closes_at <= now),
            counted(replaced),
            counted(*matching) if matching else func.count(),
            func.min(f.c.opens_at),
            func.max(f.c.closes_at),
        )
        .join_from(f, Centre, Centre.id == f.c.centre_id)
        .where(f.c.release_id == release.id)
        .group_by(Centre.country)
        .order_by(Centre.country)
    ).all()
    return ReleaseTotals([CountryTotals(*row) for row in rows])


def _rows_query(release: Release, filters: ReleaseFilters, now: datetime, *, every: bool):
    """The report's rows (by Centre Number) as one statement: the centres the filters
    keep, with their columns. `every`: it keeps every row of an export, so the
    replaced versions are found once for the release rather than centre by centre."""
    f = FIGURES
    conditions = _conditions(
        filters,
        now,
        country=Centre.country,
        zone=Centre.zone,
        opens=f.c.opens_at,
        closes=f.c.closes_at,
        sent=f.c.downloads > 0,
    )
    if filters.replaced:
        conditions.append(_replaced_condition(release.id, f.c.centre_id, every=True))
    replaced = _replaced_condition(release.id, f.c.centre_id, every=every)
    return (
        select(
            f.c.centre_id,
            Centre.number,
            Centre.name,
            Centre.country,
            Centre.zone,
            Centre.timezone,
            Centre.deleted_at,
            f.c.opens_at,
            f.c.closes_at,
            f.c.resources,
            f.c.downloads,
            f.c.first_download_at,
            f.c.first_download_by,
            replaced,
        )
        .join_from(f, Centre, Centre.id == f.c.centre_id)
        .where(f.c.release_id == release.id, *conditions)
        .order_by(Centre.number)
    )


def _replaced_for(release_id: int, centre_id):
    """Whether the centre `centre_id` (a column) downloaded a replaced version and
    not the current one since (see the module's docstring): for a page's rows."""
    d, f, r = DOWNLOADS, FILES, RESOURCES
    sent = (d.c.release_id == release_id, d.c.centre_id == centre_id, d.c.status == SENT)
    now_d, now_f = DOWNLOADS.alias(), FILES.alias()
    newer = exists(
        select(ONE)
        .select_from(now_d)
        .join(now_f, now_f.c.id == now_d.c.resource_file_id)
        .where(
            now_d.c.release_id == release_id,
            now_d.c.centre_id == d.c.centre_id,
            now_d.c.status == SENT,
            now_d.c.at >= d.c.at,
            now_f.c.resource_id == r.c.id,
            now_f.c.number == r.c.current_version,
        )
    )
    return exists(
        select(ONE)
        .select_from(d)
        .join(f, f.c.id == d.c.resource_file_id)
        .join(r, r.c.id == f.c.resource_id)
        .where(*sent, f.c.number < r.c.current_version, ~newer)
    )


def _audit_row(row, now: datetime) -> CentreAudit:
    (cid, number, name, country, zone, tz, deleted_at, opens, closes, resources) = row[:10]
    downloads, first_at, first_by, replaced = row[10:]
    window = "not-yet" if now < opens else "closed" if closes <= now else "open"
    return CentreAudit(
        cid,
        number,
        name,
        country,
        zone,
        tz,
        deleted_at is not None,
        opens,
        closes,
        resources,
        downloads,
        first_at,
        first_by,
        bool(replaced),
        window,
    )


def release_report(
    release: Release, filters: ReleaseFilters, page: int, now: datetime, size: int | None = None
) -> ReleaseReport:
    """A page of the by-release report, and its totals: two statements."""
    size = size or PAGE_SIZE
    totals = release_totals(release, filters, now)
    number = min(page, max(1, -(-totals.matching // size)))
    query = _rows_query(release, filters, now, every=False)
    rows = db.session.execute(query.limit(size).offset((number - 1) * size))
    return ReleaseReport([_audit_row(row, now) for row in rows], totals, number, size, filters)


def export_rows(release: Release, filters: ReleaseFilters, now: datetime) -> Iterator[CentreAudit]:
    """Every row the filters keep, by Centre Number: one statement, read in batches."""
    query = _rows_query(release, filters, now, every=True)
    for row in db.session.execute(query.execution_options(yield_per=EXPORT_BATCH)):
        yield _audit_row(row, now)
