"""How moments are shown: UTC, with the centre's local time beside it for admins."""

from datetime import UTC, datetime

from app.web.formatting import both_times, utc_date, utc_time


def test_utc_and_local_time():
    moment = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)
    assert utc_time(moment) == "01 Jun 2026 03:30 UTC"
    assert utc_date(moment) == "01 Jun 2026"
    assert both_times(moment, "Asia/Kolkata") == "01 Jun 2026 03:30 UTC (09:00 Asia/Kolkata)"


def test_local_time_on_another_day_says_which():
    moment = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert both_times(moment, "Asia/Kolkata") == (
        "01 Jun 2026 23:30 UTC (02 Jun 05:00 Asia/Kolkata)"
    )
    assert both_times(moment, "America/Chicago") == (
        "01 Jun 2026 23:30 UTC (18:30 America/Chicago)"
    )


def test_summer_time_is_applied_and_utc_zones_add_nothing():
    winter = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert both_times(winter, "Europe/London") == "15 Jan 2026 12:00 UTC"
    assert both_times(summer, "Europe/London") == "15 Jul 2026 12:00 UTC (13:00 Europe/London)"
    assert both_times(None, "Europe/London") == ""
