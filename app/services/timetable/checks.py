"""Which key time each entered centre sits its exam at, in UTC, and what stops it.

A centre uses its series' key time row for its own country and time zone, else
the row for its whole country. `entry_instants` works out, for every entry of a
series, when its exam starts and ends in UTC; each (date, wall time, zone) is
converted once, however many centres share it. `refresh_key_time_errors` keeps
the Key Time Errors table equal to what stops those instants now: it is called
in the same transaction as every change to key times, the timetable, entries or
centres, so the page and the menu's count read a small table, never 300,000 rows.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, tuple_, update

from app.extensions import db
from app.models import Centre, Entry, KeyTime, KeyTimeError, TimetableSlot
from app.services.clock import utcnow
from app.services.geography import countries, keeps_country_time
from app.services.timetable.instants import (
    AmbiguousLocalTime,
    ExamTimes,
    NonexistentLocalTime,
    UnknownZone,
    exam_times,
    published_gmt_disagrees,
    zone,
)

EXAMPLE_CENTRES = 5
KEY_COLUMNS = ("kind", "series", "country", "timezone", "session", "exam_date")


class KeyTimeTable:
    """A series' key times, looked up the way a centre finds its own."""

    def __init__(self, rows: Iterable[KeyTime]) -> None:
        self.rows: dict[tuple[str, str], KeyTime] = {(r.country, r.timezone): r for r in rows}
        self.zoned = {country for country, tz in self.rows if tz}

    @classmethod
    def of_series(cls, series: str) -> "KeyTimeTable":
        return cls(db.session.scalars(select(KeyTime).where(KeyTime.series == series)))

    def row_for(self, country: str, timezone: str) -> KeyTime | None:
        """The row for the centre's own zone, else its country's."""
        return self.rows.get((country, timezone)) or self.rows.get((country, ""))

    def zones_keyed(self, country: str) -> list[str]:
        return sorted(tz for c, tz in self.rows if c == country and tz)


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str
    key_time_id: int | None = None
    # Set when the instant is known but suspect (a published GMT time that disagrees,
    # a zone that does not keep its country's time): a window can still be timed.
    times: ExamTimes | None = None


def _hh_mm(text: str) -> time:
    return time(int(text[:2]), int(text[3:]))


def problem_or_times(
    table: KeyTimeTable,
    country: str,
    timezone: str,
    session: str,
    day: date,
    duration: timedelta,
) -> Problem | ExamTimes:
    """When a centre here sits an exam of this session on `day`, or why that cannot be said."""
    place = countries().get(country, country)
    try:
        zone(timezone)
    except UnknownZone:
        what = f"“{timezone}” is not a time zone" if timezone else "it has no time zone"
        return Problem(
            "unknown-zone", f"Centres in {place} are on a zone the portal lacks: {what}."
        )
    row = table.row_for(country, timezone)
    local = row.local(session) if row else None
    if local is None:
        keyed = table.zones_keyed(country)
        where = f"{place} ({timezone})" if keyed or row is not None else place
        detail = f"No {session} key time for {where} in this series."
        if keyed and (country, "") not in table.rows:
            detail += f" Key times for {place} are set only for {', '.join(keyed)}."
        return Problem("no-key-time", detail, row.id if row else None)
    wall = _hh_mm(local)
    try:
        times = exam_times(day, wall, timezone, duration)
    except NonexistentLocalTime as error:
        return Problem("nonexistent", str(error), row.id)
    except AmbiguousLocalTime as error:
        return Problem("ambiguous", str(error), row.id)
    if row.timezone == "" and not keeps_country_time(timezone, country):
        return Problem(
            "unusual-zone",
            f"The {session} key time {local} is set for the whole of {place}, but these "
            f"centres are on {timezone}, which does not keep {place}'s time: add a key time "
            f"row for {timezone}, or correct the centres' time zone.",
            row.id,
            times,
        )
    gmt = row.gmt(session)
    if gmt is not None:
        disagreement = published_gmt_disagrees(day, wall, timezone, _hh_mm(gmt))
        if disagreement:
            return Problem("gmt-disagrees", disagreement, row.id, times)
    return times


def series_slots(series: str) -> dict[tuple[str, str], tuple[str, date, timedelta]]:
    """A series' timetable: (syllabus, component) → (session, exam date, duration), the
    arguments problem_or_times takes after the place."""
    return {
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


class EntryInstant(NamedTuple):
    """One entry's exam start and end in UTC, or the Problem that stops them (a tuple:
    300,000 of them are made at once)."""

    entry_id: int
    centre_id: int
    syllabus: str
    component: str
    times: ExamTimes | Problem


def _with_slots(query):
    """`query` over entries, joined to their centres and timetable slots, live ones only."""
    return (
        query.select_from(Entry)
        .join(Centre, Centre.id == Entry.centre_id)
        .join(
            TimetableSlot,
            (TimetableSlot.series == Entry.series)
            & (TimetableSlot.syllabus == Entry.syllabus)
            & (TimetableSlot.component == Entry.component),
        )
        .where(Entry.withdrawn_at.is_(None), Centre.deleted_at.is_(None))
    )


def entry_instants(series: str) -> Iterator[EntryInstant]:
    """Every live entry of the series with its exam's UTC start and end, or its Problem.

    Entries of deleted centres, withdrawn ones, and those for components the
    timetable lacks are Entry Errors, and are not here. The entries are read as
    they are stored (four columns, no join); centres and slots are looked up in
    dictionaries, and each (place, slot) pair is worked out once: so this costs
    little more than loading the entries."""
    table = KeyTimeTable.of_series(series)
    places: dict[tuple[str, str], int] = {}
    centre_place: dict[int, int] = {}
    for centre_id, country, tz in db.session.execute(
        select(Centre.id, Centre.country, Centre.timezone).where(Centre.deleted_at.is_(None))
    ):
        centre_place[centre_id] = places.setdefault((country, tz), len(places))
    timetable = series_slots(series)
    slots = {code: index for index, code in enumerate(timetable)}
    slot_details = list(timetable.values())
    place_details = list(places)
    width = len(slot_details) + 1
    known: dict[int, ExamTimes | Problem] = {}
    rows = db.session.execute(
        select(Entry.id, Entry.centre_id, Entry.syllabus, Entry.component).where(
            Entry.series == series, Entry.withdrawn_at.is_(None)
        )
    )
    for entry_id, centre_id, syllabus, component in rows:
        place = centre_place.get(centre_id)
        slot = slots.get((syllabus, component))
        if place is None or slot is None:
            continue
        key = place * width + slot
        times = known.get(key)
        if times is None:
            country, tz = place_details[place]
            session, day, duration = slot_details[slot]
            times = known[key] = problem_or_times(table, country, tz, session, day, duration)
        yield EntryInstant(entry_id, centre_id, syllabus, component, times)


@dataclass(frozen=True)
class Refreshed:
    found: int  # open Key Time Errors in the refreshed scope, after
    new: int
    fixed: int


def refresh_key_time_errors(
    series: str | None = None, countries_: Iterable[str] | None = None
) -> Refreshed:
    """Make the Key Time Errors of `series` (all series if None), in `countries_` (all
    if None), what the stored key times, timetable, entries and centres give now.

    One grouped query: entries are counted by (series, country, time zone, session,
    date), and each group is checked once. Rows still wrong keep their first-seen
    time; fixed ones are deleted. Flushes, never commits."""
    scope_countries = None if countries_ is None else sorted(set(countries_))
    groups = _with_slots(
        select(
            Entry.series,
            Centre.country,
            Centre.timezone,
            TimetableSlot.session,
            TimetableSlot.exam_date,
            func.count(),
            func.count(Entry.centre_id.distinct()),
            func.min(TimetableSlot.duration_minutes),
        )
    )
    stored = select(KeyTimeError)
    if series is not None:
        groups = groups.where(Entry.series == series)
        stored = stored.where(KeyTimeError.series == series)
    if scope_countries is not None:
        groups = groups.where(Centre.country.in_(scope_countries))
        stored = stored.where(KeyTimeError.country.in_(scope_countries))
    groups = groups.group_by(
        Entry.series,
        Centre.country,
        Centre.timezone,
        TimetableSlot.session,
        TimetableSlot.exam_date,
    )
    tables: dict[str, KeyTimeTable] = {}
    wanted: dict[tuple, tuple[Problem, int, int]] = {}
    for group_series, country, tz, session, day, entries, centres, minutes in db.session.execute(
        groups
    ):
        table = tables.get(group_series)
        if table is None:
            table = tables[group_series] = KeyTimeTable.of_series(group_series)
        found = problem_or_times(table, country, tz, session, day, timedelta(minutes=minutes))
        if isinstance(found, Problem):
            wanted[(found.kind, group_series, country, tz, session, day)] = (
                found,
                entries,
                centres,
            )
    existing = {
        (e.kind, e.series, e.country, e.timezone, e.session, e.exam_date): e
        for e in db.session.execute(
            stored.with_only_columns(
                KeyTimeError.id,
                KeyTimeError.kind,
                KeyTimeError.series,
                KeyTimeError.country,
                KeyTimeError.timezone,
                KeyTimeError.session,
                KeyTimeError.exam_date,
            )
        )
    }
    fixed = [e.id for key, e in existing.items() if key not in wanted]
    for start in range(0, len(fixed), 500):
        db.session.execute(
            delete(KeyTimeError).where(KeyTimeError.id.in_(fixed[start : start + 500]))
        )
    # Core statements in bulk: a series without key times has thousands of these.
    now = utcnow()
    added, kept = [], []
    for key, (problem, entries, centres) in wanted.items():
        values = {
            "key_time_id": problem.key_time_id,
            "detail": problem.detail,
            "entries": entries,
            "centres": centres,
        }
        if key in existing:
            kept.append({"id_": existing[key].id, **{f"new_{k}": v for k, v in values.items()}})
        else:
            added.append(
                dict(
                    zip(
                        ("kind", "series", "country", "timezone", "session", "exam_date"),
                        key,
                        strict=True,
                    )
                )
                | values
                | {"first_seen_at": now}
            )
    table = KeyTimeError.__table__
    if added:
        db.session.execute(insert(table), added)
    if kept:
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("id_"))
            .values(
                {
                    name: bindparam(f"new_{name}")
                    for name in ("key_time_id", "detail", "entries", "centres")
                }
            ),
            kept,
        )
    return Refreshed(found=len(wanted), new=len(added), fixed=len(fixed))


def held_up(errors: list[KeyTimeError]) -> dict[int, tuple[str, str]]:
    """For the errors a page shows: the components, and the first few centre numbers,
    of each one's entries. Two grouped queries for the whole page."""
    if not errors:
        return {}
    group = (
        Entry.series,
        Centre.country,
        Centre.timezone,
        TimetableSlot.session,
        TimetableSlot.exam_date,
    )
    keys = {(e.series, e.country, e.timezone, e.session, e.exam_date): e.id for e in errors}
    scope = tuple_(*group).in_(list(keys))
    components: dict[tuple, list[str]] = {}
    for *key, syllabus, component in db.session.execute(
        _with_slots(select(*group, Entry.syllabus, Entry.component).distinct())
        .where(scope)
        .order_by(Entry.syllabus, Entry.component)
    ):
        components.setdefault(tuple(key), []).append(f"{syllabus}/{component}")
    numbered = (
        _with_slots(
            select(
                *group,
                Centre.number,
                func.dense_rank().over(partition_by=group, order_by=Centre.number).label("rank"),
            )
        )
        .where(scope)
        .subquery()
    )
    examples: dict[tuple, list[str]] = {}
    for *key, number in db.session.execute(
        select(*(numbered.c[column.key] for column in group), numbered.c.number)
        .where(numbered.c.rank <= EXAMPLE_CENTRES)
        .distinct()
        .order_by(numbered.c.number)
    ):
        examples.setdefault(tuple(key), []).append(number)
    found = {}
    for key, error_id in keys.items():
        listed = components.get(key, [])
        text = ", ".join(listed[:20]) + (", …" if len(listed) > 20 else "")
        found[error_id] = (text, ", ".join(examples.get(key, [])))
    return found


def open_key_time_errors() -> int:
    return db.session.scalar(select(func.count()).select_from(KeyTimeError)) or 0


def key_time_utc_on(row: KeyTime, session: str, day: date, timezone: str) -> datetime | Problem:
    """A key time row's session on `day`, in UTC, for a centre on `timezone` (for the
    UTC column of the Key Times page)."""
    local = row.local(session)
    if local is None:
        return Problem("no-key-time", "")
    try:
        return exam_times(day, _hh_mm(local), timezone, timedelta(0)).key
    except (NonexistentLocalTime, AmbiguousLocalTime) as error:
        return Problem(
            "nonexistent" if isinstance(error, NonexistentLocalTime) else "ambiguous", str(error)
        )
    except UnknownZone as error:
        return Problem("unknown-zone", str(error))


@dataclass(frozen=True)
class KeyTimeErrorPage:
    """One page of Errors → Key Time Errors, with what each error holds up."""

    errors: list[KeyTimeError]
    held: dict[int, tuple[str, str]]  # error id → (components, example centres)
    row_zones: dict[int, str]  # key time id → its row's time zone ("" for a country)
    total: int
    number: int
    pages: int
    size: int
    all_series: list[str]


def key_time_error_page(series: str, kind: str, number: int, size: int = 50) -> KeyTimeErrorPage:
    """The Key Time Errors of `series` and `kind` ("" for all), page `number` (past the
    last: the last), in exam order."""
    query = select(KeyTimeError)
    if series:
        query = query.where(KeyTimeError.series == series)
    if kind:
        query = query.where(KeyTimeError.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // size))
    number = min(number, pages)
    errors = list(
        db.session.scalars(
            query.order_by(
                KeyTimeError.series,
                KeyTimeError.exam_date,
                KeyTimeError.country,
                KeyTimeError.timezone,
                KeyTimeError.session,
                KeyTimeError.kind,
            )
            .offset((number - 1) * size)
            .limit(size)
        )
    )
    row_zones = dict(
        db.session.execute(
            select(KeyTime.id, KeyTime.timezone).where(
                KeyTime.id.in_({e.key_time_id for e in errors if e.key_time_id})
            )
        ).all()
    )
    all_series = list(
        db.session.scalars(select(KeyTimeError.series).distinct().order_by(KeyTimeError.series))
    )
    return KeyTimeErrorPage(
        errors, held_up(errors), row_zones, total, number, pages, size, all_series
    )
