"""Audit Reports by centre and by resource: every download of a file, and every
refused attempt with its reason, as the Download rows record them.

A page is a count and one query of its rows, with every column it shows joined in
(the file's version, its resource, the release, the centre), so the number of
queries does not grow with the rows. Exports read the whole filtered result in
batches (yield_per), never all of it at once. Reads only: nothing is flushed here.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import Centre, Download, Release, Resource, ResourceFile, User
from app.services.paging import Paging
from app.services.resources.naming import series_label

PAGE_SIZE = 50
RESOURCE_PAGE_SIZE = 50
EXPORT_BATCH = 1000

# What a download's status says, on the page and in exports.
STATUS_LABELS = {
    "sent": "Sent",
    "not-modified": "Not sent: the browser's copy was current",
    "refused": "Refused",
}
# The Status filter: every attempt unless one status is chosen.
STATUS_FILTERS = {"sent": "Sent", "not-modified": "Not modified", "refused": "Refused"}
NO_RELEASE = "none"  # the Release filter's value for attempts under no release


@dataclass(frozen=True)
class DownloadRow:
    """One Download, with what the reports show beside it."""

    id: int
    at: datetime
    status: str
    reason: str | None
    ip: str | None
    user_agent: str | None
    range: str | None
    user_email: str | None  # kept after the account is deleted
    release_id: int | None
    release_title: str | None
    version: int
    file_name: str
    sha256: str
    resource_id: int
    series: str
    syllabus: str
    component: str
    kind: str
    title: str
    current_version: int
    resource_deleted: bool
    centre_id: int | None  # None: a staff download from Manage Resources
    centre_number: str | None
    centre_timezone: str | None
    centre_deleted: bool

    @property
    def replaced(self) -> bool:
        """The file downloaded is not the resource's current version any more."""
        return self.version != self.current_version

    @property
    def status_text(self) -> str:
        if self.status == "refused":
            return f"Refused: {self.reason}" if self.reason else "Refused"
        return STATUS_LABELS.get(self.status, self.status)


def _rows() -> Select:
    """Every Download with its file, resource, release, centre and user's email: the
    joins are on primary keys, one statement for a page whatever its length."""
    return (
        select(
            Download.id,
            Download.at,
            Download.status,
            Download.reason,
            Download.ip,
            Download.user_agent,
            Download.range,
            # Downloads before user_email was kept have only the user's account.
            func.coalesce(Download.user_email, User.email),
            Download.release_id,
            Release.title,
            ResourceFile.number,
            ResourceFile.original_name,
            ResourceFile.sha256,
            Resource.id,
            Resource.series,
            Resource.syllabus,
            Resource.component,
            Resource.kind,
            Resource.title,
            Resource.current_version,
            Resource.deleted_at.is_not(None),
            Download.centre_id,
            Centre.number,
            Centre.timezone,
            Centre.deleted_at.is_not(None),
        )
        .select_from(Download)
        .join(ResourceFile, ResourceFile.id == Download.resource_file_id)
        .join(Resource, Resource.id == ResourceFile.resource_id)
        .outerjoin(User, User.id == Download.user_id)
        .outerjoin(Release, Release.id == Download.release_id)
        .outerjoin(Centre, Centre.id == Download.centre_id)
    )


def _newest_first(query: Select) -> Select:
    return query.order_by(Download.at.desc(), Download.id.desc())


def _as_rows(result) -> list[DownloadRow]:
    return [DownloadRow(*row) for row in result]


@dataclass
class DownloadPage(Paging):
    rows: list[DownloadRow]
    total: int
    number: int
    size: int


def _page(conditions: list, count_from: Select, page: int, size: int) -> DownloadPage:
    total = db.session.scalar(count_from.where(*conditions)) or 0
    number = min(page, max(1, -(-total // size)))
    rows = _as_rows(
        db.session.execute(
            _newest_first(_rows().where(*conditions)).limit(size).offset((number - 1) * size)
        )
    )
    return DownloadPage(rows, total, number, size)


def _export(conditions: list) -> Iterator[DownloadRow]:
    """The whole filtered result, newest first, fetched EXPORT_BATCH rows at a time."""
    result = db.session.execute(
        _newest_first(_rows().where(*conditions)).execution_options(yield_per=EXPORT_BATCH)
    )
    for row in result:
        yield DownloadRow(*row)


# ---------------------------------------------------------------------------
# By centre


@dataclass(frozen=True)
class CentreFilters:
    release: str = ""  # a release's id, NO_RELEASE, or "" for any
    status: str = ""  # a key of STATUS_FILTERS, or "" for every attempt

    @property
    def any(self) -> bool:
        return bool(self.release or self.status)


@dataclass(frozen=True)
class ReleaseOption:
    value: str  # the filter's value: the release's id, or NO_RELEASE
    label: str
    attempts: int


def centre_by_number(number: str) -> Centre | None:
    """The centre with this Centre Number (deleted ones too: their history is kept)."""
    return db.session.scalar(select(Centre).where(Centre.number == number.strip().upper()))


def centre_release_options(centre: Centre) -> list[ReleaseOption]:
    """The releases the centre's users downloaded (or tried to) under, newest first,
    with how many attempts; attempts under no release last. One grouped query on the
    index downloads (centre_id, at)."""
    options = []
    no_release = None
    for release_id, title, series, attempts in db.session.execute(
        select(Download.release_id, Release.title, Release.series, func.count())
        .outerjoin(Release, Release.id == Download.release_id)
        .where(Download.centre_id == centre.id)
        .group_by(Download.release_id, Release.title, Release.series)
        .order_by(Download.release_id.desc())
    ):
        if release_id is None:
            no_release = ReleaseOption(NO_RELEASE, "No release (not authorised)", attempts)
        else:
            label = title or f"Release {release_id}"
            options.append(
                ReleaseOption(str(release_id), f"{label} ({series_label(series)})", attempts)
            )
    return options + ([no_release] if no_release else [])


def _centre_conditions(centre: Centre, filters: CentreFilters) -> list:
    # ix_downloads_centre_at (centre_id, at) finds and orders them.
    conditions = [Download.centre_id == centre.id]
    if filters.release == NO_RELEASE:
        conditions.append(Download.release_id.is_(None))
    elif filters.release:
        conditions.append(Download.release_id == int(filters.release))
    if filters.status:
        conditions.append(Download.status == filters.status)
    return conditions


def centre_downloads(
    centre: Centre, filters: CentreFilters, page: int, size: int = PAGE_SIZE
) -> DownloadPage:
    """One page of the centre's downloads and attempts, newest first."""
    count = select(func.count()).select_from(Download)
    return _page(_centre_conditions(centre, filters), count, page, size)


def export_centre_downloads(centre: Centre, filters: CentreFilters) -> Iterator[DownloadRow]:
    return _export(_centre_conditions(centre, filters))


# ---------------------------------------------------------------------------
# By resource


@dataclass(frozen=True)
class ResourceFilters:
    version: int | None = None  # one version's downloads, or None for every version
    status: str = ""  # a key of STATUS_FILTERS, or ""

    @property
    def any(self) -> bool:
        return bool(self.version or self.status)


def _resource_conditions(resource: Resource, filters: ResourceFilters) -> list:
    # The resource's files (uq_resource_files_resource_number), then their downloads
    # (ix_downloads_resource_file).
    conditions = [ResourceFile.resource_id == resource.id]
    if filters.version:
        conditions.append(ResourceFile.number == filters.version)
    if filters.status:
        conditions.append(Download.status == filters.status)
    return conditions


def resource_downloads(
    resource: Resource, filters: ResourceFilters, page: int, size: int = PAGE_SIZE
) -> DownloadPage:
    """One page of the downloads of the resource's versions, newest first."""
    count = (
        select(func.count())
        .select_from(Download)
        .join(ResourceFile, ResourceFile.id == Download.resource_file_id)
    )
    return _page(_resource_conditions(resource, filters), count, page, size)


def export_resource_downloads(
    resource: Resource, filters: ResourceFilters
) -> Iterator[DownloadRow]:
    return _export(_resource_conditions(resource, filters))


@dataclass(frozen=True)
class ResourceChoice:
    id: int
    series: str
    syllabus: str
    component: str
    kind: str
    title: str
    deleted: bool
    versions: int
    sent: int  # downloads sent, every version


@dataclass
class ResourceChoicePage(Paging):
    rows: list[ResourceChoice]
    total: int
    number: int
    size: int


@dataclass(frozen=True)
class ChoiceFilters:
    series: str = ""
    syllabus: str = ""  # the start of a syllabus code


def resources_to_choose(
    filters: ChoiceFilters, page: int, size: int = RESOURCE_PAGE_SIZE
) -> ResourceChoicePage:
    """The series' resources (deleted ones too: their downloads are kept), by syllabus,
    component and kind, with how many versions each has and how many downloads were
    sent. The counts are correlated subqueries: one statement for the page
    (uq_resource_files_resource_number, then ix_downloads_resource_file)."""
    conditions = [Resource.series == filters.series]
    if filters.syllabus:
        conditions.append(Resource.syllabus.startswith(filters.syllabus, autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(Resource).where(*conditions)) or 0
    number = min(page, max(1, -(-total // size)))
    versions = (
        select(func.count())
        .where(ResourceFile.resource_id == Resource.id)
        .correlate(Resource)
        .scalar_subquery()
    )
    sent = (
        select(func.count())
        .select_from(Download)
        .join(ResourceFile, ResourceFile.id == Download.resource_file_id)
        .where(ResourceFile.resource_id == Resource.id, Download.status == "sent")
        .correlate(Resource)
        .scalar_subquery()
    )
    query = (
        select(
            Resource.id,
            Resource.series,
            Resource.syllabus,
            Resource.component,
            Resource.kind,
            Resource.title,
            Resource.deleted_at.is_not(None),
            versions,
            sent,
        )
        .where(*conditions)
        .order_by(Resource.syllabus, Resource.component, Resource.kind, Resource.title, Resource.id)
        .limit(size)
        .offset((number - 1) * size)
    )
    rows = [ResourceChoice(*row) for row in db.session.execute(query)]
    return ResourceChoicePage(rows, total, number, size)
