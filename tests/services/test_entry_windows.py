"""The default release window, for deciding whether an entry is too late: whole local days."""

from datetime import UTC, datetime, timedelta

import pytest

from app.services.timetable.entries import local_days_before


@pytest.mark.parametrize(
    ("key", "opens"),
    [
        # 09:00 BST on Monday 29 March 2027; three local days before is 09:00 GMT on
        # Friday 26 March (72 elapsed hours would be 08:00 GMT).
        (datetime(2027, 3, 29, 8, 0, tzinfo=UTC), datetime(2027, 3, 26, 9, 0, tzinfo=UTC)),
        # 01:30 BST on 31 March 2027; 01:30 on 28 March is skipped (01:00 GMT → 02:00
        # BST): the earlier of the two instants it could mean, 00:30 UTC.
        (datetime(2027, 3, 31, 0, 30, tzinfo=UTC), datetime(2027, 3, 28, 0, 30, tzinfo=UTC)),
        # 01:30 GMT on 3 Nov 2027; 01:30 on 31 Oct happens twice: the earlier, in BST.
        (datetime(2027, 11, 3, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ],
)
def test_the_window_opens_whole_local_days_before_the_key_time(key, opens):
    assert local_days_before(key, "Europe/London", timedelta(days=3)) == opens
