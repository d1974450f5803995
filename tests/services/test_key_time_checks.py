"""Which key time each entered centre uses, its UTC instant, and the Key Time Errors."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app.models import Entry, KeyTime, KeyTimeError, TimetableSlot
from app.services.geography import default_timezone
from app.services.timetable.checks import entry_instants, held_up, refresh_key_time_errors

SERIES = "2026-06"


@pytest.fixture
def timetable(db):
    """0580/22 on Tuesday 2 June 2026, morning, 90 minutes; 0580/42 on 29 March (EU
    clocks go forward at 01:00 UTC that day), evening."""

    def add(syllabus="0580", component="22", day=date(2026, 6, 2), session="AM", minutes=90):
        slot = TimetableSlot(
            series=SERIES,
            syllabus=syllabus,
            component=component,
            exam_date=day,
            session=session,
            duration_minutes=minutes,
        )
        db.session.add(slot)
        db.session.commit()
        return slot

    return add


def key_time(db, country, timezone="", **sessions):
    row = KeyTime(series=SERIES, country=country, timezone=timezone, **sessions)
    db.session.add(row)
    db.session.commit()
    return row


def enter(db, centre, syllabus="0580", component="22"):
    db.session.add(
        Entry(series=SERIES, centre_id=centre.id, syllabus=syllabus, component=component)
    )
    db.session.commit()


def errors(db):
    return db.session.execute(
        select(
            KeyTimeError.kind, KeyTimeError.country, KeyTimeError.timezone, KeyTimeError.centres
        ).order_by(KeyTimeError.kind, KeyTimeError.timezone)
    ).all()


def test_a_centre_uses_its_own_zones_row_else_its_countrys(db, make_centre, timetable):
    timetable()
    chicago = make_centre(country="US", timezone="America/Chicago")
    new_york = make_centre(country="US", timezone="America/New_York")
    key_time(db, "US", am="09:00")
    key_time(db, "US", "America/Chicago", am="08:00")
    enter(db, chicago)
    enter(db, new_york)
    found = {i.centre_id: i.times for i in entry_instants(SERIES)}
    # 08:00 CDT (UTC-5) and 09:00 EDT (UTC-4), 90 minutes each
    assert found[chicago.id].key == datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
    assert found[new_york.id].key == datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
    assert found[chicago.id].end == datetime(2026, 6, 2, 14, 30, tzinfo=UTC)
    assert refresh_key_time_errors().found == 0
    assert errors(db) == []


def test_missing_skipped_and_disagreeing_key_times_are_errors_until_fixed(
    db, make_centre, timetable
):
    timetable()
    timetable(component="42", day=date(2026, 3, 29), session="EV")
    london = make_centre()
    denver = make_centre(country="US", timezone="America/Denver")
    enter(db, london)
    enter(db, london, component="42")
    enter(db, denver)
    gb = key_time(db, "GB", am="09:00", am_gmt="09:00", ev="01:30")
    result = refresh_key_time_errors(SERIES)
    assert (result.found, result.new, result.fixed) == (3, 3, 0)
    assert errors(db) == [
        ("gmt-disagrees", "GB", "Europe/London", 1),  # 09:00 BST is 08:00 GMT
        ("no-key-time", "US", "America/Denver", 1),
        # 01:30 on 29 March does not exist in London (01:00 GMT → 02:00 BST): an
        # evening key time made up to land on the change.
        ("nonexistent", "GB", "Europe/London", 1),
    ]
    kinds = {e.kind: e for e in db.session.scalars(select(KeyTimeError))}
    assert "does not exist in Europe/London" in kinds["nonexistent"].detail
    held = held_up([kinds["nonexistent"], kinds["gmt-disagrees"]])
    assert held[kinds["nonexistent"].id] == ("0580/42", london.number)
    assert held[kinds["gmt-disagrees"].id] == ("0580/22", london.number)
    assert "No AM key time for United States" in kinds["no-key-time"].detail

    gb.am_gmt, gb.ev = "08:00", "02:30"
    key_time(db, "US", am="09:00")
    result = refresh_key_time_errors(SERIES)
    assert (result.found, result.new, result.fixed) == (0, 0, 3)
    assert errors(db) == []


def test_a_zone_that_does_not_keep_its_countrys_time_needs_its_own_row(db, make_centre, timetable):
    timetable()
    tokyo_in_gb = make_centre(timezone="Asia/Tokyo")
    enter(db, tokyo_in_gb)
    key_time(db, "GB", am="09:00")
    refresh_key_time_errors()
    assert errors(db) == [("unusual-zone", "GB", "Asia/Tokyo", 1)]
    key_time(db, "GB", "Asia/Tokyo", am="09:00")
    refresh_key_time_errors()
    assert errors(db) == []


def test_withdrawn_entries_and_deleted_centres_hold_nothing_up(db, make_centre, timetable):
    timetable()
    gone = make_centre(deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    enter(db, gone)
    refresh_key_time_errors()
    assert errors(db) == []
    assert list(entry_instants(SERIES)) == []


def test_refreshing_costs_the_same_few_queries_however_many_errors(
    db, make_centre, timetable, count_queries
):
    """A series without key times has an error per place, session and date: thousands."""
    for day in range(1, 11):
        timetable(component=f"{day + 10}", day=date(2026, 6, day))

    def statements_for(countries: list[str]) -> tuple[int, int]:
        for country in countries:
            centre = make_centre(country=country, timezone=default_timezone(country))
            for day in range(1, 11):
                enter(db, centre, component=f"{day + 10}")
        with count_queries() as statements:
            result = refresh_key_time_errors(SERIES)
        db.session.commit()
        return len(statements), result.new

    assert statements_for(["GB"])[1] == 10  # no AM key time for GB on each of 10 days
    few, new = statements_for(["FR"])  # 10 kept, 10 new
    assert new == 10
    many, new = statements_for(["IT", "GR", "NL", "BE", "AT"])  # 20 kept, 50 new
    assert new == 50
    assert many == few
