"""The release clock: the UTC instant of a local wall-clock time, exact to the second.

A key time is a wall-clock time in a centre's own zone on the exam's date (10:00 in
London). Future moments are kept as wall time + IANA zone and turned into UTC here,
when needed, so that a change to a country's clock rules (a new tzdata) moves them
with it. Wall times that do not exist on that date (the clocks go forward past them)
or exist twice (the clocks go back over them) are never guessed: they raise
LocalTimeProblem, which the Key Time Errors page lists.

Zones come from the tzdata package, whose version is pinned and recorded
(TZ_DATABASE_VERSION), not from the operating system's copy, so that every machine
computes the same instants. Pure: no Flask, no database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import tzdata

from app.services.errors import DomainError

TZ_DATABASE_VERSION: str = tzdata.IANA_VERSION  # e.g. "2026f"


class UnknownZone(DomainError):
    def __init__(self, name: str) -> None:
        self.zone = name
        super().__init__(f"{name!r} is not a time zone in the tz database {TZ_DATABASE_VERSION}.")


class LocalTimeProblem(DomainError):
    """A wall-clock time that names no single instant on that date in that zone."""

    def __init__(self, message: str, day: date, wall: time, zone: str) -> None:
        self.day, self.wall, self.zone = day, wall, zone
        super().__init__(message)


class NonexistentLocalTime(LocalTimeProblem):
    """The clocks jump over it (spring forward)."""


class AmbiguousLocalTime(LocalTimeProblem):
    """The clocks pass it twice (fall back)."""


@cache
def zone(name: str) -> ZoneInfo:
    """The zone `name`, read from the tzdata package (never the system's files)."""
    parts = name.split("/")
    if not name or any(part in ("", ".", "..") for part in parts):
        raise UnknownZone(name)
    try:
        with resources.files("tzdata.zoneinfo").joinpath(*parts).open("rb") as file:
            return ZoneInfo.from_file(file, key=name)
    except (OSError, ValueError):
        raise UnknownZone(name) from None


def offset_text(offset: timedelta) -> str:
    """A UTC offset as the board writes it: "+05:45", "-03:00", "+00:00"."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def to_utc(day: date, wall: time, zone_name: str) -> datetime:
    """The UTC instant at which clocks in `zone_name` show `wall` on `day`.

    Raises NonexistentLocalTime or AmbiguousLocalTime rather than picking one."""
    tz = zone(zone_name)
    naive = datetime.combine(day, wall.replace(tzinfo=None))
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    shown = f"{wall:%H:%M}" + (f":{wall:%S}" if wall.second else "")
    before, after = offset_text(first.utcoffset()), offset_text(second.utcoffset())
    if _round_trips(first, naive):
        raise AmbiguousLocalTime(
            f"{shown} on {day:%d %b %Y} happens twice in {zone_name}: the clocks go back "
            f"(from UTC{before} to UTC{after}), so it could be either moment. Choose a key "
            "time outside the hour that repeats.",
            day,
            wall,
            zone_name,
        )
    raise NonexistentLocalTime(
        f"{shown} on {day:%d %b %Y} does not exist in {zone_name}: the clocks go forward "
        f"(from UTC{before} to UTC{after}) over it. Choose a key time outside the hour "
        "that is skipped.",
        day,
        wall,
        zone_name,
    )


def _round_trips(local: datetime, naive: datetime) -> bool:
    return local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) == naive


def wall_time(instant: datetime, zone_name: str) -> datetime:
    """What clocks in `zone_name` show at `instant` (aware, in that zone)."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime is not an instant")
    return instant.astimezone(zone(zone_name))


@dataclass(frozen=True)
class ExamTimes:
    key: datetime  # UTC: the key time, when the exam starts
    end: datetime  # UTC: the key time plus the exam's duration (elapsed time)


def exam_times(day: date, key_time: time, zone_name: str, duration: timedelta) -> ExamTimes:
    """When an exam on `day` starts (its key time, local in `zone_name`) and ends, in UTC.
    The duration is elapsed time: an exam across a clock change still lasts as long."""
    key = to_utc(day, key_time, zone_name)
    return ExamTimes(key, key + duration)


def published_gmt_disagrees(day: date, key_time: time, zone_name: str, gmt: time) -> str | None:
    """When the board's published GMT time for a key time is not what the local time
    converts to on `day`, say so (a Key Time Error); None when they agree."""
    instant = to_utc(day, key_time, zone_name)
    if instant.time() == gmt.replace(tzinfo=None):
        return None
    return (
        f"{key_time:%H:%M} in {zone_name} on {day:%d %b %Y} is {instant:%H:%M} GMT, "
        f"not the published {gmt:%H:%M} GMT: one of the two is wrong."
    )


def local_time_before(instant: datetime, zone_name: str, days: int = 0, hours: int = 0) -> datetime:
    """The instant `days` and `hours` before `instant` on the clocks of `zone_name`:
    3 days before 09:00 on Thursday is 09:00 on Monday, even across a clock change.
    If that local time is skipped or repeated, the earlier instant it could mean, so
    that a window never opens later than the rule says."""
    local = wall_time(instant, zone_name).replace(tzinfo=None) - timedelta(days=days, hours=hours)
    try:
        return to_utc(local.date(), local.time(), zone_name)
    except LocalTimeProblem:
        tz = zone(zone_name)
        return min(local.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1))
