"""Releases: which resources go to which centres, and each centre's window for each.

A Release holds the admin's choices (the audience, the window rule); Authorisation
holds what they come to, one row per (release, centre, resource) with the window in
UTC, so that a centre's Home and every download are one indexed query.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
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

AUDIENCES = {
    "entered": "Centres entered for each resource's component",
    "all": "All live centres",
    "chosen": "Chosen centres",
}


class Release(db.Model):
    """An admin's release of resources of one series.

    The window opens `opens_days` days and `opens_hours` hours before the exam's key
    time in each centre's local time, or at `opens_at_fixed` (UTC; `opens_zone` is the
    zone the admin chose it in, kept to show it as they typed it). It closes at
    `closes_at_fixed`, or by the board's rule: 24 hours after the exam's end."""

    __tablename__ = "releases"
    __table_args__ = (
        CheckConstraint("audience IN ('entered', 'all', 'chosen')", name="audience_known"),
        CheckConstraint(
            "(opens_days IS NOT NULL AND opens_hours IS NOT NULL) OR opens_at_fixed IS NOT NULL",
            name="opens_by_a_rule",
        ),
        Index("ix_releases_series", "series"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(7))
    title: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(10), default="entered")
    opens_days: Mapped[int | None] = mapped_column(Integer)
    opens_hours: Mapped[int | None] = mapped_column(Integer)
    opens_at_fixed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opens_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    closes_at_fixed: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The tz database the windows were worked out with (instants.TZ_DATABASE_VERSION).
    tz_version: Mapped[str] = mapped_column(String(10), default="")
    notify_scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class ReleaseResource(db.Model):
    __tablename__ = "release_resources"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"), primary_key=True)


class ReleaseCentre(db.Model):
    """A centre a release names: chosen for it, left out of it (no window could be
    worked out, and the admin chose to go on without it), added after it was saved
    (Add centres), or removed later."""

    __tablename__ = "release_centres"
    __table_args__ = (
        CheckConstraint("role IN ('chosen', 'left-out', 'added', 'removed')", name="role_known"),
    )

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class Authorisation(db.Model):
    """A centre may download a resource under a release from `opens_at` until (not
    including) `closes_at`, both UTC.

    When what the window was worked out from changes after it opened, the window is
    not moved: the window it would now have is kept in `review_opens_at` and
    `review_closes_at` (both None when none can be worked out), with `review_reason`
    saying why, until an admin moves it or keeps it (Releases → Windows to Decide)."""

    __tablename__ = "authorisations"
    __table_args__ = (
        UniqueConstraint("release_id", "centre_id", "resource_id", name="uq_authorisation"),
        CheckConstraint("opens_at < closes_at", name="opens_before_it_closes"),
        Index("ix_authorisations_centre_opens", "centre_id", "opens_at"),
        Index("ix_authorisations_resource_centre", "resource_id", "centre_id"),
        Index("ix_authorisations_review", "review_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(String(500))


class CentreFigures(db.Model):
    """A centre's figures in a release, kept with what they count (services/releases/
    figures.py) so that a report of 10,000 centres reads 10,000 short rows rather than
    300,000 authorisations and every download: its first opening and last closing over
    the resources authorised to it, how many those are, and the files sent to its
    users under the release. One row per centre the release authorises now. (Manage
    Releases, its release pages and the Audit Reports read them.)"""

    __tablename__ = "release_centre_figures"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    # The first opening (indexed: the admin's Home lists the windows opening soon).
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last closing
    last_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)  # all open from then
    first_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)  # one closes then
    resources: Mapped[int] = mapped_column(Integer)
    # Downloads with status "sent" under the release (304s and refusals are not).
    downloads: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_download_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_download_by: Mapped[str | None] = mapped_column(String(254))
