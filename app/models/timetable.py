"""Key times, the timetable, entries, and what stops them giving a release its moment.

Times of day are kept as "HH:MM" text, exam dates as dates: wall time, never
UTC. The UTC instant is worked out when needed (`services/timetable/instants`),
so a change to a country's clock rules moves it.
"""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime
from app.services.clock import utcnow

SESSIONS = ("AM", "PM", "EV")
SESSION_NAMES = {"AM": "Morning", "PM": "Afternoon", "EV": "Evening"}
# "HH:MM", 00:00 to 23:59.
HH_MM = "length({0}) = 5 AND substr({0}, 3, 1) = ':'"


def _hh_mm(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR ({HH_MM.format(column)})", name=f"{column}_hh_mm")


class KeyTime(db.Model):
    """The local start of each session in one country (or one of its time zones) for
    one series, with the GMT times the board published beside them, if given.

    `timezone` is "" for the whole country: a centre uses the row for its own time
    zone, else its country's. ("", not NULL, so that the unique key holds.)"""

    __tablename__ = "key_times"
    __table_args__ = (
        UniqueConstraint("series", "country", "timezone", name="uq_key_times_series_place"),
        _hh_mm("am"),
        _hh_mm("pm"),
        _hh_mm("ev"),
        _hh_mm("am_gmt"),
        _hh_mm("pm_gmt"),
        _hh_mm("ev_gmt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))  # "2026-06"
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    am: Mapped[str | None] = mapped_column(String(5))
    pm: Mapped[str | None] = mapped_column(String(5))
    ev: Mapped[str | None] = mapped_column(String(5))
    am_gmt: Mapped[str | None] = mapped_column(String(5))
    pm_gmt: Mapped[str | None] = mapped_column(String(5))
    ev_gmt: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def local(self, session: str) -> str | None:
        """The session's local start, "HH:MM", or None if not set."""
        return getattr(self, session.lower())

    def gmt(self, session: str) -> str | None:
        """The GMT time the board published for the session, if given."""
        return getattr(self, f"{session.lower()}_gmt")

    def __repr__(self) -> str:
        return f"<KeyTime {self.series} {self.country} {self.timezone or '*'}>"


class TimetableSlot(db.Model):
    """When one component of a syllabus is sat in a series: date, session, duration,
    and the administrative zones its variant is sat in ("45": zones 4 and 5; "" all)."""

    __tablename__ = "timetable_slots"
    __table_args__ = (
        UniqueConstraint("series", "syllabus", "component", name="uq_timetable_component"),
        CheckConstraint("session IN ('AM', 'PM', 'EV')", name="session_known"),
        CheckConstraint("duration_minutes BETWEEN 1 AND 720", name="duration_1_to_720"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))
    syllabus: Mapped[str] = mapped_column(String(4))
    component: Mapped[str] = mapped_column(String(2))
    exam_date: Mapped[date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(2))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    zones: Mapped[str] = mapped_column(String(6), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def zone_list(self) -> list[int]:
        return [int(z) for z in self.zones]

    @property
    def code(self) -> str:
        return f"{self.syllabus}/{self.component}"

    def __repr__(self) -> str:
        return f"<TimetableSlot {self.series} {self.code}>"


class EntryUpload(db.Model):
    """One entries file: who, when, and what reconciling it did."""

    __tablename__ = "entry_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))
    file_name: Mapped[str] = mapped_column(String(255))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)

    actor = relationship("User", lazy="joined")


class Entry(db.Model):
    """A centre is entered for a component in a series. A withdrawn entry is kept
    (`withdrawn_at`), so what a centre was entered for stays on record."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("series", "centre_id", "syllabus", "component", name="uq_entry"),
        Index("ix_entries_series_component", "series", "syllabus", "component"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    syllabus: Mapped[str] = mapped_column(String(4))
    component: Mapped[str] = mapped_column(String(2))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("entry_uploads.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_upload_id: Mapped[int | None] = mapped_column(
        ForeignKey("entry_uploads.id"), index=True
    )

    centre = relationship("Centre", lazy="joined")


ENTRY_ERROR_KINDS = {
    "invalid": "Not a valid row",
    "unknown-centre": "Unknown centre number",
    "deleted-centre": "Deleted centre",
    "not-timetabled": "Component not in the timetable",
    "wrong-zone": "Centre's zone not among the component's",
    "duplicate": "Duplicate row",
    "late-entry": "New entry after its window opened",
    "late-withdrawal": "Withdrawal after its window opened",
}


class EntryError(db.Model):
    """A row of an entries file that was not entered (or an entry the file left out
    that was not withdrawn), and why. Open until its cause is fixed (`resolved_at`)
    or an admin dismisses it with a reason."""

    __tablename__ = "entry_errors"
    __table_args__ = (Index("ix_entry_errors_open", "resolved_at", "dismissed_at", "series"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("entry_uploads.id"), index=True)
    row: Mapped[int | None] = mapped_column(Integer)
    centre_number: Mapped[str] = mapped_column(String(100), default="")
    syllabus: Mapped[str] = mapped_column(String(100), default="")
    component: Mapped[str] = mapped_column(String(100), default="")
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    dismiss_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    dismissed_by = relationship("User", lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.dismissed_at is None

    @property
    def kind_name(self) -> str:
        return ENTRY_ERROR_KINDS.get(self.kind, self.kind)


KEY_TIME_ERROR_KINDS = {
    "no-key-time": "No key time",
    "nonexistent": "Local time does not exist",
    "ambiguous": "Local time occurs twice",
    "gmt-disagrees": "Published GMT time disagrees",
    "unusual-zone": "Centre's zone does not keep its country's time",
    "unknown-zone": "Centre's time zone unknown",
}


class KeyTimeError(db.Model):
    """A problem that stops the key time being worked out for entered centres: one row
    per (kind, series, country, time zone, session, exam date), with how many centres
    and entries it holds up. Worked out again whenever key times, the timetable,
    entries or centres change; a row that is gone has been fixed."""

    __tablename__ = "key_time_errors"
    __table_args__ = (
        UniqueConstraint(
            "kind", "series", "country", "timezone", "session", "exam_date", name="uq_kte"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    series: Mapped[str] = mapped_column(String(7))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    session: Mapped[str] = mapped_column(String(2))
    exam_date: Mapped[date] = mapped_column(Date)
    key_time_id: Mapped[int | None] = mapped_column(ForeignKey("key_times.id", ondelete="SET NULL"))
    centres: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_name(self) -> str:
        return KEY_TIME_ERROR_KINDS.get(self.kind, self.kind)


__all__ = [
    "ENTRY_ERROR_KINDS",
    "KEY_TIME_ERROR_KINDS",
    "SESSIONS",
    "SESSION_NAMES",
    "Entry",
    "EntryError",
    "EntryUpload",
    "KeyTime",
    "KeyTimeError",
    "TimetableSlot",
]
