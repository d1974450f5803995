"""The release window rule, for one centre and one exam. Pure: no Flask, no database.

A window opens N days and hours before the exam's key time in the centre's own local
time (09:00 on Thursday, 3 days before: 09:00 on Monday, whatever the clocks do in
between), or at a fixed instant; it closes by the board's rule, 24 hours after the
exam's end or its key time, whichever is later, or at a fixed instant. Every instant
is UTC; opens_at ≤ now < closes_at is "open".
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.services.timetable.instants import ExamTimes, local_time_before

# The board's rule for keeping papers secure: the window stays open this long after
# the exam (its end, or its key time if that were later).
CLOSES_AFTER_EXAM = timedelta(hours=24)


class NoWindow(ValueError):
    """No window can be worked out; str() says why, for the admin."""


@dataclass(frozen=True)
class WindowRule:
    opens_days: int | None = 3
    opens_hours: int | None = 0
    opens_at: datetime | None = None  # fixed, UTC
    closes_at: datetime | None = None  # fixed, UTC; None: the board's rule

    def __post_init__(self) -> None:
        if self.opens_at is None and (self.opens_days is None or self.opens_hours is None):
            raise ValueError("a window opens before the key time or at a fixed moment")
        for moment in (self.opens_at, self.closes_at):
            if moment is not None and moment.utcoffset() != timedelta(0):
                raise ValueError("fixed moments are UTC")

    @property
    def needs_exam(self) -> bool:
        """Whether the window depends on an exam's times (else it is the same for all)."""
        return self.opens_at is None or self.closes_at is None

    def window(self, exam: ExamTimes | None, timezone: str) -> tuple[datetime, datetime]:
        """(opens_at, closes_at) in UTC for a centre on `timezone` sitting `exam` (None:
        the resource has no timetabled exam, or its key time cannot be worked out)."""
        if exam is None and self.needs_exam:
            raise NoWindow(
                "no exam time to count from: give a fixed opening and closing moment"
                if self.opens_at is None and self.closes_at is None
                else "no exam time to count from: give fixed moments for both"
            )
        if self.opens_at is not None:
            opens = self.opens_at
        else:
            opens = local_time_before(exam.key, timezone, self.opens_days, self.opens_hours)
        if self.closes_at is not None:
            closes = self.closes_at
        else:
            closes = max(exam.end, exam.key) + CLOSES_AFTER_EXAM
        if not opens < closes:
            raise NoWindow(f"it would open ({opens:%d %b %Y %H:%M} UTC) after it closes")
        return opens, closes


def is_open(opens_at: datetime, closes_at: datetime, now: datetime) -> bool:
    return opens_at <= now < closes_at
