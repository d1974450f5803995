"""The release window rule: local days before the key time, 24 hours after the end."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from app.services.releases.windows import NoWindow, WindowRule, is_open
from app.services.timetable.instants import exam_times


def exam(day: date, wall: time, zone: str, minutes: int = 90):
    return exam_times(day, wall, zone, timedelta(minutes=minutes))


def test_the_same_exam_opens_at_different_instants_in_kolkata_london_and_chicago():
    rule = WindowRule()  # 3 days before the key time, closes 24 h after the end
    windows = {
        zone: rule.window(exam(date(2026, 6, 4), time(9, 0), zone), zone)
        for zone in ("Asia/Kolkata", "Europe/London", "America/Chicago")
    }
    assert windows["Asia/Kolkata"][0] == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    assert windows["Europe/London"][0] == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert windows["America/Chicago"][0] == datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    # 24 hours after the end: 09:00 + 1 h 30 min, the next day.
    assert windows["Europe/London"][1] == datetime(2026, 6, 5, 9, 30, tzinfo=UTC)


def test_days_are_counted_on_the_centres_clock_across_a_clock_change():
    # 09:00 BST on Monday 29 March 2027; 3 days before is 09:00 GMT on Friday 26 March.
    opens, _ = WindowRule(3, 0).window(
        exam(date(2027, 3, 29), time(9, 0), "Europe/London"), "Europe/London"
    )
    assert opens == datetime(2027, 3, 26, 9, 0, tzinfo=UTC)
    # Hours too: 2 days and 6 hours before 09:00 Monday is 03:00 on Saturday.
    opens, _ = WindowRule(2, 6).window(
        exam(date(2027, 3, 29), time(9, 0), "Europe/London"), "Europe/London"
    )
    assert opens == datetime(2027, 3, 27, 3, 0, tzinfo=UTC)


def test_fixed_moments_need_no_exam_and_a_missing_exam_is_said():
    opens = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
    closes = datetime(2026, 6, 30, 0, 0, tzinfo=UTC)
    assert WindowRule(opens_at=opens, closes_at=closes).window(None, "Asia/Tokyo") == (
        opens,
        closes,
    )
    with pytest.raises(NoWindow, match="give a fixed opening and closing moment"):
        WindowRule().window(None, "Asia/Tokyo")
    with pytest.raises(NoWindow, match="give fixed moments for both"):
        WindowRule(opens_at=opens).window(None, "Asia/Tokyo")


def test_a_window_that_would_close_before_it_opens_is_refused():
    late = datetime(2026, 7, 1, tzinfo=UTC)
    with pytest.raises(NoWindow, match="after it closes"):
        WindowRule(opens_at=late).window(
            exam(date(2026, 6, 4), time(9, 0), "Europe/London"), "Europe/London"
        )


def test_open_from_the_opening_second_until_the_closing_second_excluded():
    opens = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    closes = datetime(2026, 6, 5, 9, 30, tzinfo=UTC)
    second = timedelta(seconds=1)
    assert not is_open(opens, closes, opens - second)
    assert is_open(opens, closes, opens)
    assert is_open(opens, closes, closes - second)
    assert not is_open(opens, closes, closes)


def test_fixed_moments_must_be_utc():
    with pytest.raises(ValueError, match="UTC"):
        WindowRule(opens_at=datetime(2026, 6, 1))
