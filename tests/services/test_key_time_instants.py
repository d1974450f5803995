"""The release clock: a key time (local wall time + IANA zone) as a UTC instant, exact
to the second, and never a guess where the local time does not exist or exists twice."""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import pytest
import tzdata
from hypothesis import event, given, settings
from hypothesis import strategies as st

from app.services.geography import all_timezones
from app.services.timetable.instants import (
    TZ_DATABASE_VERSION,
    AmbiguousLocalTime,
    LocalTimeProblem,
    NonexistentLocalTime,
    UnknownZone,
    exam_times,
    offset_text,
    published_gmt_disagrees,
    to_utc,
    wall_time,
    zone,
)

JUNE, NOVEMBER = date(2026, 6, 10), date(2026, 11, 4)


@pytest.mark.parametrize(
    ("zone_name", "day", "utc"),
    [
        ("Europe/London", JUNE, "2026-06-10T08:00"),  # BST, +01:00
        ("Europe/London", NOVEMBER, "2026-11-04T09:00"),  # GMT
        ("America/New_York", JUNE, "2026-06-10T13:00"),  # EDT, -04:00
        ("America/New_York", NOVEMBER, "2026-11-04T14:00"),  # EST, after 1 Nov
        ("America/Sao_Paulo", JUNE, "2026-06-10T12:00"),  # no DST since 2019
        ("America/Sao_Paulo", NOVEMBER, "2026-11-04T12:00"),
        ("Australia/Sydney", JUNE, "2026-06-09T23:00"),  # AEST: the day before in UTC
        ("Australia/Sydney", NOVEMBER, "2026-11-03T22:00"),  # AEDT, +11:00
        ("Asia/Kolkata", JUNE, "2026-06-10T03:30"),  # +05:30
        ("Asia/Kolkata", NOVEMBER, "2026-11-04T03:30"),
        ("Asia/Kathmandu", JUNE, "2026-06-10T03:15"),  # +05:45
        ("Asia/Kathmandu", NOVEMBER, "2026-11-04T03:15"),
        ("Pacific/Chatham", JUNE, "2026-06-09T20:15"),  # +12:45
        ("Pacific/Chatham", NOVEMBER, "2026-11-03T19:15"),  # +13:45
    ],
)
def test_a_june_and_a_november_exam_at_nine_local(zone_name, day, utc):
    assert to_utc(day, time(9, 0), zone_name) == datetime.fromisoformat(utc).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone_name", "day", "wall", "problem", "offsets"),
    [
        (
            "Europe/London",
            date(2026, 3, 29),
            time(1, 30),
            NonexistentLocalTime,
            "+00:00 to UTC+01:00",
        ),
        (
            "Europe/London",
            date(2026, 10, 25),
            time(1, 30),
            AmbiguousLocalTime,
            "+01:00 to UTC+00:00",
        ),
        (
            "America/New_York",
            date(2026, 3, 8),
            time(2, 30),
            NonexistentLocalTime,
            "-05:00 to UTC-04:00",
        ),
        (
            "America/New_York",
            date(2026, 11, 1),
            time(1, 30),
            AmbiguousLocalTime,
            "-04:00 to UTC-05:00",
        ),
        (
            "Australia/Sydney",
            date(2026, 4, 5),
            time(2, 30),
            AmbiguousLocalTime,
            "+11:00 to UTC+10:00",
        ),
        (
            "Australia/Sydney",
            date(2026, 10, 4),
            time(2, 30),
            NonexistentLocalTime,
            "+10:00 to UTC+11:00",
        ),
        (
            "Pacific/Chatham",
            date(2026, 4, 5),
            time(3, 0),
            AmbiguousLocalTime,
            "+13:45 to UTC+12:45",
        ),
        (
            "Pacific/Chatham",
            date(2026, 9, 27),
            time(3, 0),
            NonexistentLocalTime,
            "+12:45 to UTC+13:45",
        ),
    ],
)
def test_on_each_clock_change_the_skipped_and_repeated_times_are_reported(
    zone_name, day, wall, problem, offsets
):
    with pytest.raises(problem) as raised:
        to_utc(day, wall, zone_name)
    message = str(raised.value)
    assert f"{wall:%H:%M} on {day:%d %b %Y}" in message and zone_name in message
    assert offsets in message
    assert (raised.value.day, raised.value.wall, raised.value.zone) == (day, wall, zone_name)
    # An hour later the same day is a single, ordinary instant.
    later = (datetime.combine(day, wall) + timedelta(hours=2)).time()
    assert wall_time(to_utc(day, later, zone_name), zone_name).time() == later


ZONES = st.sampled_from(all_timezones())
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))
WALL_TIMES = st.times().map(lambda t: t.replace(microsecond=0))


@cache
def clock_changes(zone_name: str) -> tuple[datetime, ...]:
    """The local wall time just before each change of the zone's UTC offset in
    2026-2030 (found day by day, then to the second by bisection)."""
    tz = zone(zone_name)

    def offset(instant: datetime) -> timedelta:
        return instant.astimezone(tz).utcoffset()

    changes, start = [], datetime(2026, 1, 1, tzinfo=UTC)
    while start < datetime(2031, 1, 1, tzinfo=UTC):
        end = start + timedelta(days=1)
        if offset(start) != offset(end):
            low, high = start, end  # offset(low) is the old one, offset(high) the new
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                low, high = (middle, high) if offset(middle) == offset(start) else (low, middle)
            changes.append(low.astimezone(tz).replace(tzinfo=None))
        start = end
    return tuple(changes)


@st.composite
def near_clock_changes(draw):
    """A zone with clock changes, and a wall time within 90 minutes of one: about half
    fall in the time skipped or repeated."""
    zone_name = draw(ZONES.filter(lambda name: bool(clock_changes(name))))
    change = draw(st.sampled_from(clock_changes(zone_name)))
    near = change + timedelta(seconds=draw(st.integers(-90 * 60, 90 * 60)))
    return zone_name, near.date(), near.time()


@settings(max_examples=2000, deadline=None)
@given(
    case=st.one_of(
        st.tuples(ZONES, DAYS, WALL_TIMES),  # anywhere, any day
        near_clock_changes(),  # where the rules bite
    )
)
def test_wall_time_to_utc_and_back_is_exact_wherever_the_time_exists(case):
    zone_name, day, wall = case
    naive = datetime.combine(day, wall)
    tz = zone(zone_name)
    # By brute force: the instants (to the second) around it whose clocks show it.
    guess = naive.replace(tzinfo=tz).astimezone(UTC)
    showing = {
        candidate
        for hours in range(-3, 4)
        for candidate in [
            guess + timedelta(hours=hours, minutes=m) for m in (-30, -15, 0, 15, 30, 45)
        ]
        if candidate.astimezone(tz).replace(tzinfo=None) == naive
    }
    try:
        instant = to_utc(day, wall, zone_name)
    except NonexistentLocalTime:
        event("nonexistent")
        assert showing == set()
    except AmbiguousLocalTime:
        event("ambiguous")
        assert len(showing) == 2
    else:
        event("one instant")
        assert showing == {instant}
        assert instant.tzinfo is UTC and instant.microsecond == 0
        assert wall_time(instant, zone_name).replace(tzinfo=None) == naive


@settings(max_examples=2000, deadline=None)
@given(
    zone_name=ZONES,
    instant=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0)),
)
def test_every_instant_is_found_again_from_the_wall_time_it_shows(zone_name, instant):
    local = wall_time(instant, zone_name)
    try:
        assert to_utc(local.date(), local.time(), zone_name) == instant
    except AmbiguousLocalTime as twice:
        # Shown twice: reported, and this instant is one of the two.
        assert local.replace(fold=1 - local.fold).astimezone(UTC) != instant
        assert twice.zone == zone_name


def test_exam_end_is_elapsed_time_across_a_clock_change():
    # 00:30 on the night London's clocks go forward, a 2-hour exam: ends 03:30 BST.
    times = exam_times(date(2026, 3, 29), time(0, 30), "Europe/London", timedelta(hours=2))
    assert times.key == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert times.end == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert wall_time(times.end, "Europe/London").time() == time(3, 30)


def test_a_published_gmt_time_is_checked_against_the_conversion():
    assert published_gmt_disagrees(JUNE, time(10, 0), "Europe/London", time(9, 0)) is None
    problem = published_gmt_disagrees(NOVEMBER, time(10, 0), "Europe/London", time(9, 0))
    assert problem == (
        "10:00 in Europe/London on 04 Nov 2026 is 10:00 GMT, not the published 09:00 GMT: "
        "one of the two is wrong."
    )
    # Across midnight: 09:00 in Sydney is 23:00 GMT the day before.
    assert published_gmt_disagrees(JUNE, time(9, 0), "Australia/Sydney", time(23, 0)) is None


def test_zones_come_from_the_pinned_tzdata_package():
    assert TZ_DATABASE_VERSION == tzdata.IANA_VERSION
    assert zone("Asia/Kolkata").key == "Asia/Kolkata"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "Europe/../Europe/London", "Europe//London"):
        with pytest.raises(UnknownZone):
            zone(bad)
    assert offset_text(timedelta(hours=-3)) == "-03:00"
    assert offset_text(timedelta(hours=5, minutes=45)) == "+05:45"
    assert issubclass(NonexistentLocalTime, LocalTimeProblem)
