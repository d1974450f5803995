"""The key-time rules and the workbook reader, without the web."""

import io
from datetime import time, timedelta

import pytest
from openpyxl import Workbook

from app.services.spreadsheets.reading import FileProblem
from app.services.timetable import key_times
from app.services.timetable.key_times import (
    KeyTimeRuleError,
    clean_place_timezone,
    clean_session,
    clean_time,
    find_country,
    read_key_times,
    value_problems,
)
from tests.key_times.key_time_fixtures import workbook


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("9:00", "09:00"), ("09:00", "09:00"), (" 23:59 ", "23:59"), ("0:00", "00:00"), ("", None)],
)
def test_times_of_day(typed, stored):
    assert clean_time(typed) == stored


@pytest.mark.parametrize("typed", ["24:00", "9", "0900", "9:0", "09:00:00", "9h00", "-1:00"])
def test_not_times_of_day(typed):
    with pytest.raises(KeyTimeRuleError, match=r"is not a time of day \(HH:MM, 24-hour\)\."):
        clean_time(typed)


def test_sessions():
    assert [clean_session(s) for s in ("AM", "pm", " Ev ", "Morning", "AFTERNOON", "evening")] == [
        "AM",
        "PM",
        "EV",
        "AM",
        "PM",
        "EV",
    ]
    with pytest.raises(KeyTimeRuleError, match="“Night” is not a session"):
        clean_session("Night")


def test_countries_by_code_or_name():
    assert find_country("gb") == "GB"
    assert find_country("United States") == "US"
    assert find_country("  india ") == "IN"
    assert find_country("Britain") == "GB"  # the tz database's "Britain (UK)", shortened
    assert find_country("United Kingdom") == "GB"
    with pytest.raises(KeyTimeRuleError, match="“Atlantis” is not a country"):
        find_country("Atlantis")


def test_time_zones_of_the_country():
    assert clean_place_timezone("", "US") == ""
    assert clean_place_timezone("US/Central", "US") == "America/Chicago"  # an old name
    with pytest.raises(KeyTimeRuleError, match="its time zones are America/Adak, "):
        clean_place_timezone("Europe/London", "US")


def test_a_gmt_time_needs_its_local_time():
    assert value_problems({"am": "09:00", "am_gmt": "08:00"}) == {}
    assert set(value_problems({"ev_gmt": "18:00"})) == {"ev_gmt"}


def test_excel_durations_and_times_are_read():
    book = Workbook()
    sheet = book.active
    sheet.append(["Session", "Key Time", "Country", "GMT"])  # any order
    sheet.append(["AM", time(9, 0), "GB", timedelta(hours=8)])
    sheet.append(["PM", time(13, 0, 30), "GB", None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = read_key_times(buffer.getvalue())
    assert [(r.session, r.local, r.gmt) for r in result.rows] == [("AM", "09:00", "08:00")]
    assert [(p.row, p.column, p.reason) for p in result.problems] == [
        (3, "Key Time", "has seconds: give hours and minutes only")
    ]


def test_a_sheet_too_long_is_refused(monkeypatch):
    monkeypatch.setattr(key_times, "MAX_ROWS", 3)
    rows = [("GB", "", session, "09:00", "") for session in ("AM", "PM", "EV")]
    assert len(read_key_times(workbook(rows)).rows) == 3
    with pytest.raises(FileProblem, match="more than 3 rows of key times"):
        read_key_times(workbook([*rows, ("FR", "", "AM", "09:00", "")]))


def test_the_sample_reads_without_problems():
    result = read_key_times(key_times.sample_workbook())
    assert result.problems == []
    assert len(result.rows) == 5
