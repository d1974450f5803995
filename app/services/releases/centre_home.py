"""A centre's Home: the resources released to it, grouped by series and exam date.

One query reads every authorisation of the centre under a release that is not
cancelled, with its resource (not deleted), the resource's current file and its
timetable slot. A resource authorised by several releases is shown once: under the
window open now if there is one, else the next to open, else the one that closed last.
Every instant is UTC; the page shows them in the centre's own zone (`local_text`).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select

from app.extensions import db
from app.models import Authorisation, Release, Resource, ResourceFile, TimetableSlot
from app.services.releases.windows import is_open
from app.services.resources.naming import kind_label, series_label
from app.services.timetable.instants import wall_time

AVAILABLE, OPENS, CLOSED = "available", "opens", "closed"
_STATE_ORDER = {AVAILABLE: 0, OPENS: 1, CLOSED: 2}


class HomeItem(NamedTuple):
    """One resource on the Home (a tuple: quick to make by the hundred, and to hash as
    the key of its rendered row)."""

    resource_id: int
    release_id: int
    kind: str
    kind_label: str
    title: str
    syllabus: str
    component: str
    file_name: str
    size: int
    sha256: str
    opens_at: datetime
    closes_at: datetime
    state: str  # AVAILABLE, OPENS or CLOSED at `now`

    def sort_key(self) -> tuple:
        """The order within a section: open ones first (closing soonest first), then
        the ones to open (soonest first), then closed ones (latest closed first)."""
        if self.state == AVAILABLE:
            moment = self.closes_at.timestamp()
        elif self.state == OPENS:
            moment = self.opens_at.timestamp()
        else:
            moment = -self.closes_at.timestamp()
        return (_STATE_ORDER[self.state], moment, self.title.casefold(), self.resource_id)


@dataclass
class HomeSection:
    series: str
    exam_date: date | None  # None: not timetabled
    items: list[HomeItem] = field(default_factory=list)

    @property
    def series_label(self) -> str:
        return series_label(self.series)

    @property
    def date_label(self) -> str:
        if self.exam_date is None:
            return "Not timetabled"
        return f"{self.exam_date:%A} {self.exam_date.day} {self.exam_date:%B %Y}"

    @property
    def key(self) -> str:
        """A slug for element ids: "2026-06-2026-06-04" or "2026-06-none"."""
        return f"{self.series}-{self.exam_date.isoformat() if self.exam_date else 'none'}"


def state_at(opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    if is_open(opens_at, closes_at, now):
        return AVAILABLE
    return OPENS if now < opens_at else CLOSED


@cache
def _home_query():
    """The Home's one query, built once (building it costs more than running it), for
    the centre bound as `centre_id`."""
    current_file = and_(
        ResourceFile.resource_id == Resource.id, ResourceFile.number == Resource.current_version
    )
    slot = and_(
        TimetableSlot.series == Resource.series,
        TimetableSlot.syllabus == Resource.syllabus,
        TimetableSlot.component == Resource.component,
    )
    return (
        select(
            Authorisation.resource_id,
            Authorisation.release_id,
            Authorisation.opens_at,
            Authorisation.closes_at,
            Resource.series,
            Resource.syllabus,
            Resource.component,
            Resource.kind,
            Resource.title,
            ResourceFile.original_name,
            ResourceFile.size,
            ResourceFile.sha256,
            TimetableSlot.exam_date,
        )
        .join(Release, Release.id == Authorisation.release_id)
        .join(Resource, Resource.id == Authorisation.resource_id)
        .join(ResourceFile, current_file)
        .outerjoin(TimetableSlot, slot)
        .where(
            Authorisation.centre_id == bindparam("centre_id"),
            Release.cancelled_at.is_(None),
            Resource.deleted_at.is_(None),
        )
    )


def centre_home(centre_id: int, now: datetime) -> list[HomeSection]:
    """The sections of the centre's Home at `now`, by series then exam date (the
    untimetabled last in their series); one query."""
    # On the session's connection: a select of columns needs nothing of the ORM's.
    rows = db.session.connection().execute(_home_query(), {"centre_id": centre_id}).all()

    chosen: dict[int, tuple[HomeItem, tuple, str, date | None]] = {}
    for (
        resource_id,
        release_id,
        opens_at,
        closes_at,
        series,
        syllabus,
        component,
        kind,
        title,
        file_name,
        size,
        sha256,
        exam_date,
    ) in rows:  # unpacked: reading a row's fields by name costs more than the rest
        item = HomeItem(
            resource_id,
            release_id,
            kind,
            kind_label(kind),
            title,
            syllabus,
            component,
            file_name,
            size,
            sha256,
            opens_at,
            closes_at,
            state_at(opens_at, closes_at, now),
        )
        key = item.sort_key()
        kept = chosen.get(resource_id)
        if kept is None or key[:2] < kept[1][:2]:
            chosen[resource_id] = (item, key, series, exam_date)

    sections: dict[tuple[str, date | None], HomeSection] = {}
    for item, _key, series, exam_date in sorted(chosen.values(), key=itemgetter(1)):
        section = sections.get((series, exam_date))
        if section is None:
            section = sections[(series, exam_date)] = HomeSection(series, exam_date)
        section.items.append(item)
    return sorted(
        sections.values(),
        key=lambda s: (s.series, s.exam_date is None, s.exam_date or date.min),
    )


def local_text(instant: datetime, zone_name: str) -> str:
    """An instant as clocks in the zone show it, with the zone's abbreviation:
    "Thu 4 Jun 2026 10:30 BST"."""
    local = wall_time(instant, zone_name)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}"


def utc_text(instant: datetime) -> str:
    """The same instant in UTC, for the title attribute: "4 Jun 2026 09:30 UTC"."""
    return f"{instant.day} {instant:%b %Y %H:%M} UTC"


def time_until(now: datetime, then: datetime) -> str:
    """How long from `now` until `then`, as the page says it: "in 2 days 3 hours",
    "in 1 hour 5 minutes", "in 5 minutes", "in less than a minute". Whole units,
    rounded down; minutes are left out once it is a day or more away."""
    left = then - now
    if left < timedelta(minutes=1):
        return "in less than a minute"
    minutes = int(left.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return "in " + " ".join(words)
